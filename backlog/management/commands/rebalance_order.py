from django.core.management.base import BaseCommand, CommandError

from accounts.models import Product
from backlog.services.ordering import order_rebalance


class Command(BaseCommand):
    help = "Rewrite a product's rank keys as short keys, keeping the order."

    def add_arguments(self, parser) -> None:
        parser.add_argument("product_key", help="The product's key, for example OB.")

    def handle(self, *args, product_key: str, **options) -> None:
        product = Product.objects.filter(key=product_key).first()
        if product is None:
            raise CommandError(f"No product with key {product_key}.")
        count = order_rebalance(product=product)
        if count is None:
            raise CommandError(f"A rebalance of {product.key} is already under way; try again when it is over.")
        self.stdout.write(f"{product.key}: {count} rank keys rewritten.")
