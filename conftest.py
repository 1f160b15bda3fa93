"""Shared fixtures: users in every role of one product, and the database guard for CI."""

import gc
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.services import token_create
from accounts.tests.factories import MembershipFactory, ProductFactory, UserFactory
from backlog.services.items import item_create
from config.tests.databases import on_postgres
from config.tests.matrix import matrix_world

# The browser tests' Chromium and page_as, for every app's tests/browser/.
pytest_plugins = ["config.tests.browser_fixtures"]


def pytest_configure(config) -> None:
    """No embedded schedule in the test process (the API fuzz test imports config.wsgi)."""
    settings.EMBEDDED_SCHEDULE = False
    # A test run keeps far more long-lived objects than the app (every module, the URL conf, the
    # collected tests, the API schema): collect young objects less often...
    gc.set_threshold(50_000, 50, 100)


def pytest_collection_finish(session) -> None:
    """...and once collected, leave what is loaded by now out of every later collection."""
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(config, items) -> None:
    """Skip PostgreSQL-only tests on SQLite, but never when CI requires PostgreSQL."""
    require_postgres = os.environ.get("REQUIRE_POSTGRES") == "1"
    postgres = on_postgres()
    if require_postgres and not postgres:
        raise pytest.UsageError("REQUIRE_POSTGRES=1 but DATABASE_URL is not a PostgreSQL URL.")
    redis_url = os.environ.get("TEST_REDIS_URL", "")
    if os.environ.get("REQUIRE_REDIS") == "1":
        if not redis_url:
            raise pytest.UsageError("REQUIRE_REDIS=1 but TEST_REDIS_URL is not set.")
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()  # unreachable: fail, don't skip
    skip_postgres = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://…")
    skip_redis = pytest.mark.skip(reason="needs Redis: set TEST_REDIS_URL=redis://…")
    for item in items:
        if "postgres" in item.keywords and not postgres:
            item.add_marker(skip_postgres)
        elif "redis" in item.keywords and not redis_url:
            item.add_marker(skip_redis)


# On SQLite each test process keeps its migrated test database in a file under .test-databases/,
# named after the migrations it was made by, and the next run reuses it instead of migrating
# again (pytest-django's --reuse-db does the same for named databases; measured: a `make test`
# seven seconds shorter). Tests leave it empty: each rolls back, or flushes when transactional. A
# run holds a lock on its database's mark for its whole session: a run alongside (whose process
# of the same name finds it locked) takes an in-memory database instead, and a run finding the
# mark saying "running" (the last one stopped midway, rows may be left) starts afresh.
TEST_DATABASES = settings.BASE_DIR / ".test-databases"
_held_marks: list = []  # the locked marks' open files, held until the process ends


def _migrations_digest() -> str:
    """A digest of every migration file of every installed app, and of Django's version."""
    import hashlib

    import django
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True, load=False)
    loader.load_disk()
    digest = hashlib.sha256(django.get_version().encode())
    for key in sorted(loader.disk_migrations):
        digest.update(repr(key).encode())
        digest.update(Path(sys.modules[loader.disk_migrations[key].__module__].__file__).read_bytes())
    return digest.hexdigest()[:16]


def _kept_sqlite() -> bool:
    database = settings.DATABASES["default"]
    return database["ENGINE"] == "django.db.backends.sqlite3" and not database.get("TEST", {}).get("NAME")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    import fcntl

    if not _kept_sqlite():
        return
    TEST_DATABASES.mkdir(exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    path = TEST_DATABASES / f"{_migrations_digest()}-{worker}.sqlite3"
    mark = path.with_suffix(".mark").open("a+")
    try:
        fcntl.flock(mark, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # another run is using it
        mark.close()
        return
    _held_marks.append(mark)
    mark.seek(0)
    if mark.read() == "running":
        for stale in TEST_DATABASES.glob(f"{path.name}*"):
            stale.unlink()
    for old in TEST_DATABASES.glob(f"*-{worker}.*"):
        if not old.name.startswith(path.stem):
            old.unlink()  # made by other migrations
    mark.seek(0)
    mark.truncate()
    mark.write("running")
    mark.flush()
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture(scope="session")
def django_db_keepdb(request, django_db_modify_db_settings) -> bool:
    return bool(request.config.getvalue("reuse_db")) or bool(_held_marks)


def pytest_sessionfinish(session, exitstatus) -> None:
    """The session ended (whatever its tests did, each cleaned up after itself): the database is
    empty for the next run."""
    for mark in _held_marks:
        mark.seek(0)
        mark.truncate()
        mark.flush()


@pytest.fixture(autouse=True, scope="session")
def _database_is_what_ci_asked_for(django_db_setup, django_db_blocker) -> None:
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        with django_db_blocker.unblock():
            assert connection.vendor == "postgresql", (
                "CI asked for PostgreSQL but the tests run on " + connection.vendor
            )


@pytest.fixture
def product(db):
    return ProductFactory()


@pytest.fixture
def owner(product):
    return MembershipFactory(product=product, role=Membership.Role.OWNER).user


@pytest.fixture
def developer(product):
    return MembershipFactory(product=product, role=Membership.Role.DEVELOPER).user


@pytest.fixture
def delegate(product):
    return MembershipFactory(product=product, role=Membership.Role.DEVELOPER, ordering_delegated=True).user


@pytest.fixture
def stakeholder(product):
    return MembershipFactory(product=product, role=Membership.Role.STAKEHOLDER).user


@pytest.fixture
def outsider(db):
    other = MembershipFactory(role=Membership.Role.OWNER)  # an owner, but of another product
    return other.user


@pytest.fixture
def anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


@pytest.fixture
def user(db):
    return UserFactory()


FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


@pytest.fixture
def one_throttle_window(time_machine) -> None:
    """Stop the clock a second into the next minute, so a test's requests all fall in one rate
    limit window (a minute's budget starts afresh when the minute ends, mid-test otherwise)."""
    start = (time.time() // 60 + 1) * 60 + 1
    time_machine.move_to(datetime.fromtimestamp(start, UTC), tick=False)


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker):
    """Rows a whole test module shares, built once: a module's fixtures of scope "module" that ask
    for this one write inside one transaction, rolled back after the module's last test. Each test
    (``django_db``, not transactional) still runs in its own savepoint inside it, so what a test
    writes is gone before the next one starts, exactly as with rows built per test. Fixtures built
    on it should hand tests names and keys, or objects the tests only read."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
        outer = transaction.atomic()
        outer._from_testcase = True  # durable blocks inside behave as in a test case
        outer.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# API clients by role (with real personal tokens) and a small ordered backlog.
@pytest.fixture
def as_role(request, owner, developer, delegate, stakeholder, outsider):
    """Return an API client acting as a role, authenticated with a real personal API token."""
    users = {
        "owner": owner,
        "developer": developer,
        "delegate": delegate,
        "stakeholder": stakeholder,
        "outsider": outsider,
    }

    def client_for(role: str) -> APIClient:
        client = APIClient()
        if role == "anonymous":
            return client
        user = owner if role == "read_only_token" else users[role]
        _, raw = token_create(user=user, name=role, read_only=role == "read_only_token")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return client_for


@pytest.fixture
def items(product, owner):
    """Three ordered stories A, B, C."""
    return [item_create(product=product, actor=owner, kind="story", title=t) for t in "ABC"]


@pytest.fixture
def matrix_names(product, items, owner, developer, user):
    """The world of the role × endpoint matrices (config/tests/matrix.py): see matrix_world."""
    return matrix_world(product, items, owner, developer, user)


class RedisServer:
    """A redis-server of the test's own on a spare port, which a test may stop and start again
    (the machine's shared Redis is never stopped). No persistence: a restart starts empty."""

    def __init__(self, directory) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        import shutil
        import subprocess
        import time

        import redis

        command = [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - a fixed command
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def pause(self) -> None:
        """Hang the server: it keeps accepting connections but answers nothing (SIGSTOP)."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.resume()
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def migrated_sqlite(tmp_path, transactional_db):
    """A SQLite database file with every migration applied, for a server the test starts in another
    process. On SQLite a copy of this process's test database (made by the same migrations; the
    test is transactional, so no transaction is open and no test's rows are left); on PostgreSQL
    made by ``manage.py migrate``."""
    path = tmp_path / "db.sqlite3"
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(path)])
    else:
        env = {**os.environ, "SQLITE_PATH": str(path)}
        env.pop("DATABASE_URL", None)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=settings.BASE_DIR, env=env, check=True)
    return path


@pytest.fixture
def redis_server(tmp_path):
    """A running redis-server of this test's own (see RedisServer); needs the redis-server binary."""
    import shutil

    if not shutil.which("redis-server"):
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but there is no redis-server binary")
        pytest.skip("needs the redis-server binary")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
