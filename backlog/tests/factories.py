import factory

from backlog.models import Item
from backlog.services.items import item_create


class ItemFactory(factory.Factory):
    """Items made through the service, as users make them (numbers, keys, history)."""

    class Meta:
        model = Item

    kind = Item.Kind.STORY
    title = factory.Sequence(lambda n: f"Item {n}")

    @classmethod
    def _create(cls, model_class, *args, product, actor, **kwargs):
        return item_create(product=product, actor=actor, **kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("Items are created through item_create.")
