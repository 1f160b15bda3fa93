from collections import Counter
from functools import cached_property

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Membership, Product, User
from backlog.jobs import seeding_jobs
from backlog.models import Item
from backlog.services.demo import demo_backlog_seed, demo_themes_seed
from backlog.services.scores import product_scores_recompute
from backlog.services.suggestion import suggested_positions_refresh
from delivery.services.demo import delivery_demo_seed
from refinement.models import Comment, Question
from refinement.services.demo import refinement_demo_seed

DEMO_PASSWORD = "onebacklog-demo"  # noqa: S105 - printed demo login, local data only
USERS = [
    # username, role, ordering delegated, description
    ("olivia", Membership.Role.OWNER, False, "product owner"),
    ("dev", Membership.Role.DEVELOPER, False, "developer"),
    ("dana", Membership.Role.DEVELOPER, True, "developer with ordering delegated"),
    ("sam", Membership.Role.STAKEHOLDER, False, "stakeholder"),
]


KIND_NOUNS = {
    Item.Kind.STORY: ("story", "stories"),
    Item.Kind.DEFECT: ("defect", "defects"),
    Item.Kind.TECH_DEBT: ("technical-debt item", "technical-debt items"),
    Item.Kind.SPIKE: ("spike", "spikes"),
    Item.Kind.OPERATIONAL: ("operational item", "operational items"),
}


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


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
                product.sprints.all().delete()
                product.items.all().delete()
                product.themes.all().delete()
                product.last_item_number = 0
                product.save(update_fields=["last_item_number"])
        existing = product.items.count()
        if existing:
            self.stdout.write(f"{product.key} already has {existing} items; left as is (use --reset to rebuild).")
        else:
            with seeding_jobs():
                demo_backlog_seed(product=product, creators=people, count=items, seed=seed)
                owner, developer, _, stakeholder = people
                refinement_demo_seed(product=product, owner=owner, developer=developer, stakeholder=stakeholder)
                delivery_demo_seed(product=product, owner=owner, developer=developer, seed=seed)
                demo_themes_seed(product=product, owner=owner, seed=seed)
                product_scores_recompute(product_id=product.pk)
                suggested_positions_refresh(product_id=product.pk)  # the drift shows on the first page
            self._describe(product)
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD}):"))
        self.stdout.write("  admin   – site administrator (Django admin)")
        for username, _role, _delegated, description in USERS:
            self.stdout.write(f"  {username:<7} – {description} of {product.key}")

    def _describe(self, product: Product) -> None:
        """Print what the demo holds: its items by kind and state, and its refinement."""
        items = product.items.all()
        kinds = Counter(items.values_list("kind", flat=True))
        states = Counter(items.values_list("status", flat=True))
        self.stdout.write(
            self.style.SUCCESS(f"Demo product {product.key} ({product.name}): {sum(kinds.values())} items")
        )
        self.stdout.write("  " + ", ".join(_count(kinds[kind], *KIND_NOUNS[kind]) for kind in Item.Kind.values))
        self.stdout.write(
            f"  {items.ordered().count()} in the order ({states[Item.Status.IN_PROGRESS]} in progress), "
            f"{states[Item.Status.PROPOSED]} proposals, {states[Item.Status.DONE]} done, "
            f"{states[Item.Status.ARCHIVED]} archived, {states[Item.Status.REJECTED]} rejected; all scored"
        )
        self.stdout.write(
            f"  {Question.objects.filter(item__product=product).count()} review questions, "
            f"{Comment.objects.filter(item__product=product).count()} comments, {product.labels.count()} labels"
        )
        self.stdout.write(f"  {product.themes.count()} themes (the roadmap), {product.item_links.count()} links")
        sprints = Counter(product.sprints.values_list("state", flat=True))
        self.stdout.write(f"  {sprints['closed']} closed sprints, {sprints['active']} active (the board)")

    def _demo_user(self, username: str, **flags: bool) -> User:
        """Create a demo user with the demo password; an existing user is left as it is."""
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com", **flags}
        )
        if created:
            user.password = self._password_hash
            user.save(update_fields=["password"])
        return user

    @cached_property
    def _password_hash(self) -> str:
        """The demo password hashed once for every demo user (a hash takes ~0.3 s on purpose; the
        password is the same and published, so a salt per user would protect nothing)."""
        return make_password(DEMO_PASSWORD)
