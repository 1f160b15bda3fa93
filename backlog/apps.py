from django.apps import AppConfig


class BacklogConfig(AppConfig):
    name = "backlog"
    verbose_name = "Backlog"

    def ready(self) -> None:
        # Register the jobs with the Celery app, so ``backlog.jobs`` queues them by name.
        from backlog import tasks  # noqa: F401
        from backlog.link_views import register

        register()  # the links panel on the item page
