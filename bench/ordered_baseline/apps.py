from django.apps import AppConfig


class OrderedBaselineConfig(AppConfig):
    name = "bench.ordered_baseline"
    label = "ordered_baseline"
    default_auto_field = "django.db.models.BigAutoField"
