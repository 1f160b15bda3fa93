from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = "Service queue"

    def ready(self) -> None:
        # Register the jobs with the Celery app, so ``service.jobs`` queues them by name.
        from service import tasks  # noqa: F401
