from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Membership, Product
from backlog.jobs import seeding_jobs
from backlog.services.scores import product_scores_recompute
from service.services.demo import service_demo_seed


class Command(BaseCommand):
    help = "Add (once) the service queue to the demo product: queues, a surge, a breached SLA, a waiting ticket."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--key", default="OB", help="The demo product's key (default OB; run seed_demo first).")

    def handle(self, *args, key: str, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_service_demo is demo data: it runs only with DEBUG on.")
        product = Product.objects.filter(key=key).first()
        if product is None:
            raise CommandError(f"No product {key}: run `manage.py seed_demo` first.")
        members = {m.user.username: m.user for m in Membership.objects.filter(product=product).select_related("user")}
        try:
            owner, developer, delegate = members["olivia"], members["dev"], members["dana"]
        except KeyError as missing:
            raise CommandError(
                f"The demo user {missing} is not a member of {key}: run `manage.py seed_demo`."
            ) from None
        with seeding_jobs():
            made = service_demo_seed(product=product, owner=owner, developer=developer, delegate=delegate)
            if made:
                product_scores_recompute(product_id=product.pk)
        if not made:
            self.stdout.write(f"{key} already has service queues; left as is.")
            return
        self.stdout.write(self.style.SUCCESS(f"{key}: 4 queues and {made} tickets (one surge of 200 occurrences)."))
