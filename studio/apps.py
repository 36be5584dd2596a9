from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudioConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "studio"
    verbose_name = _("Studio")

    def ready(self) -> None:
        from accounts.signals import user_banned, user_deleting

        from . import services

        def purge(sender, user, **kwargs) -> None:
            services.account_purge(user=user)

        # Every account deletion removes the account's jobs, uploads and result files first.
        user_deleting.connect(purge, weak=False, dispatch_uid="studio.account_purge")

        def cancel_jobs(sender, user, **kwargs) -> None:
            services.account_jobs_cancel(user=user)

        # A banned account's jobs stop at once (their uploads are deleted).
        user_banned.connect(cancel_jobs, weak=False, dispatch_uid="studio.account_jobs_cancel")
