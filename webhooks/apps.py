from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # Register the jobs with the Celery app (``webhooks.jobs`` queues them by name), and hear
        # every event of the apps below: item history, comments, sprints, intake.
        from webhooks import sources, tasks  # noqa: F401

        sources.register()
