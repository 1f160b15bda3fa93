"""The lock order of service writes, as every item writer's: the product row, then the item row."""

from django.db import connection

from accounts.models import Product
from backlog.models import Item


def item_lock(item_id: int, *, product_id: int | None = None) -> Item | None:
    """Lock an item row for update, its product's row shared first (see the module's lock order)."""
    if product_id is None:
        product_id = Item.objects.filter(pk=item_id).values_list("product_id", flat=True).first()
    if product_id is None:
        return None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {Product._meta.db_table} WHERE id = %s FOR KEY SHARE", [product_id])
    return Item.objects.select_for_update(of=("self",)).select_related("product").filter(pk=item_id).first()
