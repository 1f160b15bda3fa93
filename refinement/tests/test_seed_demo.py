import re

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Membership, Product, User
from accounts.permissions import Action, can
from backlog.models import Item
from delivery.services.demo import DEMO_ITEMS
from refinement.models import Comment, DebtSnapshot, Question
from refinement.selectors import review_queue
from refinement.services.demo import DEMO_PROPOSALS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _development(settings):
    settings.DEBUG = True


def test_seed_demo_builds_a_plausible_backlog_once(capsys):
    call_command("seed_demo", "--items", "300")
    product = Product.objects.get(key="OB")
    total = 300 + DEMO_PROPOSALS + DEMO_ITEMS
    assert product.items.count() == total
    assert set(product.items.values_list("kind", flat=True)) == set(Item.Kind.values)
    assert {m.role for m in Membership.objects.filter(product=product)} == set(Membership.Role.values)
    assert can(User.objects.get(username="dana"), Action.REORDER, product)
    assert User.objects.get(username="admin").check_password("onebacklog-demo")
    out = capsys.readouterr().out
    assert "olivia" in out
    assert "onebacklog-demo" in out

    # In progress work sits at the top of a plausible order; proposals are not ordered.
    ordered = list(product.items.filter(rank__isnull=False).order_by("rank"))
    in_progress = [i for i, item in enumerate(ordered) if item.status == Item.Status.IN_PROGRESS]
    assert in_progress == list(range(len(in_progress)))
    assert not product.items.filter(status=Item.Status.PROPOSED, rank__isnull=False).exists()
    assert product.last_item_number == total
    numbers = sorted(product.items.values_list("number", flat=True))
    assert numbers == list(range(1, total + 1))
    # Refinement at every stage: in the queue, waiting for an answer, rejected; comments; debt.
    assert review_queue(product=product).count() >= 2
    assert Question.objects.filter(item__product=product, answered_at__isnull=True).count() == 1
    assert product.items.filter(status=Item.Status.REJECTED).count() == 1
    assert Comment.objects.filter(item__product=product).count() == 2
    assert DebtSnapshot.objects.filter(product=product).count() == 1

    call_command("seed_demo", "--items", "300")  # idempotent
    assert product.items.count() == total
    assert Product.objects.count() == 1


def test_seed_demo_reset_and_large_backlogs(monkeypatch):
    from backlog.services import demo

    monkeypatch.setattr(demo, "INSERT_BATCH", 100)
    call_command("seed_demo", "--key", "BIG", "--items", "250")  # more than one batch of inserts
    call_command("seed_demo", "--key", "BIG", "--items", "120", "--reset")
    product = Product.objects.get(key="BIG")
    assert product.items.count() == 120 + DEMO_PROPOSALS + DEMO_ITEMS
    ranks = list(product.items.filter(rank__isnull=False).values_list("rank", flat=True))
    assert len(set(ranks)) == len(ranks)


def test_seed_demo_refuses_to_run_in_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not User.objects.filter(username="admin").exists()


def test_seed_demo_leaves_existing_users_alone():
    User.objects.create_user(username="admin", password="a-real-secret-password")
    call_command("seed_demo", "--items", "10")
    admin = User.objects.get(username="admin")
    assert admin.check_password("a-real-secret-password")
    assert not admin.is_superuser


def test_the_demo_backlog_is_scored():
    call_command("seed_demo", "--items", "50")
    product = Product.objects.get(key="OB")
    assert not product.items.filter(score_computed_at__isnull=True).exists()
    assert product.items.filter(score__isnull=False).exists()


def test_seed_demo_says_what_it_made_without_job_logs(capfd):
    call_command("seed_demo", "--items", "60")
    out, err = capfd.readouterr()
    assert f"Demo product OB (OneBacklog demo): {60 + DEMO_PROPOSALS + DEMO_ITEMS} items" in out
    assert "5 closed sprints, 1 active (the board)" in out
    assert re.search(r"\d+ stories, \d+ defects?, \d+ technical-debt items?, \d+ spikes?, \d+ operational items?", out)
    assert re.search(r"\d+ in the order \(\d+ in progress\), \d+ proposals", out)
    assert "password for all: onebacklog-demo" in out
    for login in ("admin", "olivia", "dev", "dana", "sam"):
        assert re.search(rf"^  {login} +– ", out, re.MULTILINE)
    assert "Task " not in out + err  # no job log lines
    assert "hostname" not in err  # no broker warning
    assert err == ""


def test_the_demo_shows_drift_on_the_first_page():
    call_command("seed_demo", "--items", "60")
    product = Product.objects.get(key="OB")
    ordered = product.items.ordered()
    assert not ordered.filter(suggested_position__isnull=True).exists()  # stored by the seed itself
