from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Membership, Product, User
from backlog.services.demo import demo_backlog_seed
from backlog.services.scores import product_scores_recompute
from delivery.services.demo import delivery_demo_seed
from refinement.services.demo import refinement_demo_seed

DEMO_PASSWORD = "onebacklog-demo"  # noqa: S105 - printed demo login, local data only
USERS = [
    # username, role, ordering delegated, description
    ("olivia", Membership.Role.OWNER, False, "product owner"),
    ("dev", Membership.Role.DEVELOPER, False, "developer"),
    ("dana", Membership.Role.DEVELOPER, True, "developer with ordering delegated"),
    ("sam", Membership.Role.STAKEHOLDER, False, "stakeholder"),
]


class Command(BaseCommand):
    help = "Create (idempotently) a demo product with a user per role, a realistic backlog and its refinement."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--items", type=int, default=300, help="How many items (default 300).")
        parser.add_argument("--key", default="OB", help="The product key (default OB).")
        parser.add_argument("--name", default="OneBacklog demo", help="The product name.")
        parser.add_argument("--reset", action="store_true", help="Delete the product's items and build anew.")
        parser.add_argument("--seed", type=int, default=42, help="Random seed of the generated items.")

    def handle(self, *args, items: int, key: str, name: str, reset: bool, seed: int, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo makes logins with a published password: it runs only with DEBUG on.")
        with transaction.atomic():
            self._demo_user("admin", is_staff=True, is_superuser=True)
            product, _ = Product.objects.get_or_create(key=key, defaults={"name": name})
            people = []
            for username, role, delegated, _description in USERS:
                user = self._demo_user(username)
                Membership.objects.update_or_create(
                    user=user, product=product, defaults={"role": role, "ordering_delegated": delegated}
                )
                people.append(user)
            if reset:
                product.sprints.all().delete()  # before the items: a waiver's debt item is protected
                product.items.all().delete()
                product.last_item_number = 0
                product.save(update_fields=["last_item_number"])
        existing = product.items.count()
        if existing:
            self.stdout.write(f"{product.key} already has {existing} items; left as is (use --reset to rebuild).")
        else:
            demo_backlog_seed(product=product, creators=people, count=items, seed=seed)
            owner, developer, _, stakeholder = people
            refinement_demo_seed(product=product, owner=owner, developer=developer, stakeholder=stakeholder)
            delivery_demo_seed(product=product, owner=owner, developer=developer, seed=seed)
            scored = product_scores_recompute(product_id=product.pk)
            self.stdout.write(f"{product.key}: created {items} items and scored {scored}.")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD}):"))
        self.stdout.write("  admin   – site administrator (Django admin)")
        for username, _role, _delegated, description in USERS:
            self.stdout.write(f"  {username:<7} – {description} of {product.key}")

    def _demo_user(self, username: str, **flags: bool) -> User:
        """Create a demo user with the demo password; an existing user is left as it is."""
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com", **flags}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user
