from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _create_cache_tables(using: str = "default", **kwargs) -> None:
    """Create the database cache tables in settings (the throttle's, without Redis); idempotent."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and products"

    def ready(self) -> None:
        # `migrate` (and the test database's creation) creates the throttle's table: no extra step.
        post_migrate.connect(_create_cache_tables, sender=self)
