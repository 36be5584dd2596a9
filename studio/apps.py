from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudioConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "studio"
    verbose_name = _("Studio")

    def ready(self) -> None:
        from accounts.signals import user_deleting

        from . import services

        def purge(sender, user, **kwargs) -> None:
            services.account_purge(user=user)

        # Every account deletion removes the account's jobs, uploads and result files first.
        user_deleting.connect(purge, weak=False, dispatch_uid="studio.account_purge")
