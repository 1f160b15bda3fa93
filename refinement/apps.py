from django.apps import AppConfig


class RefinementConfig(AppConfig):
    name = "refinement"
    verbose_name = "Refinement"

    def ready(self) -> None:
        from refinement.panels import register

        register()
