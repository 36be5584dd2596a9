from django.apps import AppConfig


class StudioConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "studio"

    def ready(self) -> None:
        from accounts.signals import user_deleting

        from . import services

        def purge(sender, user, **kwargs) -> None:
            services.account_purge(user=user)

        # Every account deletion removes the account's jobs, uploads and result files first.
        user_deleting.connect(purge, weak=False, dispatch_uid="studio.account_purge")
