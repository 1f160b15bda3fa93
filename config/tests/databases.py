"""Which database the tests run on, known before Django is set up (at collection, in a module's
top level): ``DATABASE_URL`` names PostgreSQL, or the tests run on SQLite."""

import os


def on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
