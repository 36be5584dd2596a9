from django.apps import AppConfig


class PartnersConfig(AppConfig):
    """Partner integrations: webhook endpoints, their deliveries and the delivery log."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "partners"
    verbose_name = "Partners"

    def ready(self) -> None:
        from studio.services import job_state_changed

        from .services import webhook_job_event

        job_state_changed.connect(webhook_job_event, dispatch_uid="partners.webhook_job_event")
