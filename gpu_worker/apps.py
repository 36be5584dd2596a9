from django.apps import AppConfig


class GpuWorkerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "gpu_worker"
