from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Delivery"

    def ready(self) -> None:
        from backlog.panels import ItemPanel, item_panel_register
        from backlog.services.items import DONE_HOOKS
        from delivery.services.done import on_item_done

        if on_item_done not in DONE_HOOKS:
            DONE_HOOKS.append(on_item_done)
        # Its sprint and forecast, loaded by htmx from delivery's own view (item-delivery).
        item_panel_register(ItemPanel("delivery", "side", "delivery/_item_panel.html"))
