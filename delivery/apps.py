from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Delivery"

    def ready(self) -> None:
        from backlog.services.items import DONE_HOOKS
        from delivery.services.done import on_item_done

        if on_item_done not in DONE_HOOKS:
            DONE_HOOKS.append(on_item_done)
