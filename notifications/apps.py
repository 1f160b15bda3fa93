from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from backlog import history
        from notifications import tasks  # noqa: F401 - registers the jobs with the Celery app
        from notifications.listeners import item_events_written
        from notifications.panels import register

        history.listen(item_events_written)
        register()
