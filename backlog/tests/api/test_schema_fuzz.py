"""Schema-driven fuzzing: every operation, generated inputs, no 5xx and no response outside the schema."""

import os

import pytest
import schemathesis
from django.core.cache import cache, caches
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from accounts.models import Membership
from accounts.services import token_create
from backlog.services.items import item_create
from config.tests.matrix import delegate, developer, owner, product, stakeholder  # noqa: F401 - built once
from config.wsgi import application
from refinement.services.comments import comment_create
from refinement.services.proposals import proposal_ask

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# Which of Schemathesis's phases run (FUZZ_PHASES, comma-separated; all of them when unset): the
# coverage phase's boundary and negative cases are the bulk of the run (two thirds of its time), so
# `make test` on SQLite runs examples and fuzzing, and `make test-postgres` (CI) all three.
PHASES = {"examples", "coverage", "fuzzing"}
chosen = set(filter(None, os.environ.get("FUZZ_PHASES", ",".join(sorted(PHASES))).split(",")))
if not chosen or chosen - PHASES:
    raise ValueError(f"FUZZ_PHASES takes some of {sorted(PHASES)}, not {sorted(chosen)}")
for name in PHASES:
    getattr(schema.config.phases, name).enabled = name in chosen

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Serve requests inside the test's transaction, as Django's test client does.

    Django closes "old" connections when a request starts and ends; inside a test transaction
    that would close the test's own connection on PostgreSQL.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def world(product, owner, developer, delegate, stakeholder):
    """A product with items of several kinds, and the owner's token; built once for the module (each
    operation's cases run in a savepoint of their own, see the root conftest's module_db)."""
    item_create(product=product, actor=owner, kind="story", title="Checkout", labels=["payments"])
    item_create(product=product, actor=owner, kind="defect", title="Crash", severity="major")
    proposal = item_create(
        product=product,
        actor=developer,
        kind="tech_debt",
        title="Upgrade",
        interest_hours=4,
        value_beneficiaries="Everyone",
        value_risk_removed="Outage",
    )
    proposal_ask(item=proposal, actor=owner, question="When?")
    comment_create(item=proposal, actor=developer, body="*Soon*")
    _, raw = token_create(user=owner, name="fuzz")
    return {"product": product, "developer": developer, "token": raw}


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    # The same cases on every run (so CI is repeatable); FUZZ_RANDOM=1 explores new ones.
    derandomize=os.environ.get("FUZZ_RANDOM") != "1",
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case, world):
    cache.clear()
    caches["throttle"].clear()  # no throttling in the middle of a run
    Membership.objects.get_or_create(
        product=world["product"], user=world["developer"], defaults={"role": Membership.Role.DEVELOPER}
    )
    # Half the cases aim at real objects, so bodies reach the services instead of a 404.
    parameters = case.path_parameters or {}
    if "key" in parameters and parameters["key"].isalpha() is False:
        parameters["key"] = world["product"].key
    if "ref" in parameters and not parameters["ref"].isdigit():
        parameters["ref"] = f"{world['product'].key}-1"
    if "username" in parameters and len(parameters["username"]) % 2:
        parameters["username"] = world["developer"].username
    # Schema-valid requests may still break a rule the schema cannot express (a defect needs a
    # severity, a lifecycle step, a stale version): those get a documented 400/412, so the check
    # "schema-valid data is accepted" does not apply. Every other check does.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {world['token']}"}, excluded_checks=[positive_data_acceptance]
    )
