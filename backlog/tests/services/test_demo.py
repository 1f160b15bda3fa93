"""The generated demo backlog reads like a real team's (backlog/services/demo.py)."""

import re
from collections import Counter

import pytest

from backlog.models import Item
from backlog.readiness import readiness
from backlog.services.demo import demo_backlog_seed, with_article
from backlog.services.scores import product_scores_recompute
from backlog.services.suggestion import suggested_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(product, owner):
    demo_backlog_seed(product=product, creators=[owner], count=300)
    product_scores_recompute(product_id=product.pk)
    return product


def test_no_title_repeats(demo):
    repeated = [title for title, n in Counter(demo.items.values_list("title", flat=True)).items() if n > 1]
    assert repeated == []


def test_large_backlogs_keep_titles_unique_in_numbered_rounds(product, owner):
    demo_backlog_seed(product=product, creators=[owner], count=1500, only_ordered=True)
    titles = list(product.items.values_list("title", flat=True))
    assert len(set(titles)) == len(titles) == 1500
    assert any(title.endswith("(round 2)") for title in titles)


def test_the_stories_are_grammatical(demo):
    stories = list(demo.items.filter(kind=Item.Kind.STORY).values_list("title", "description"))
    personas = [re.match(r"As (an?) (\w)", title) for title, _ in stories]
    assert sum(1 for match in personas if match) >= 30
    for match in filter(None, personas):
        article, initial = match.groups()
        assert article == ("an" if initial in "aeiou" else "a"), match.string
    assert any(title.startswith("As an ") for title, _ in stories)  # "As an account manager"
    for _, description in stories:  # "As an **account manager** I want to …"
        match = re.match(r"As (an?) \*\*(\w)", description)
        if match:
            assert match.group(1) == ("an" if match.group(2) in "aeiou" else "a"), description
    assert with_article("account manager") == "an account manager"
    assert with_article("shopper") == "a shopper"


def test_technical_items_carry_their_value_case(demo):
    technical = demo.items.filter(kind__in=Item.TECHNICAL_KINDS)
    assert technical.count() >= 50
    for item in technical:
        assert item.value_case_errors() == {}, item.title
    assert technical.filter(status=Item.Status.PROPOSED).exists()  # proposals in review among them


def test_the_order_roughly_follows_the_scores(demo):
    rows = sorted(suggested_order(product=demo), key=lambda row: row.position)
    top = [abs(row.drift) for row in rows[:20]]
    assert max(top) <= 15  # no item at the top that the scores would send 100 places down
    assert sum(top) / len(top) <= 5
    assert sum(abs(row.drift) for row in rows) / len(rows) <= 20  # looser further down
    assert any(row.drift for row in rows[:20])  # an owner's order, not the scores' own


def test_the_top_of_the_order_is_refined(demo):
    top = list(demo.items.ordered().order_by("rank")[:40])
    assert sum(readiness(item, demo)["ready"] for item in top) >= 36  # the next sprints are ready
    assert demo.items.ordered().filter(estimate__isnull=True).exists()  # ideas further down


def test_demo_themes_and_links(product, owner):
    from backlog.links import order_warnings
    from backlog.models import ItemLink, Theme
    from backlog.services.demo import demo_themes_seed

    demo_backlog_seed(product=product, creators=[owner], count=80, only_ordered=True)
    assert demo_themes_seed(product=product, owner=owner) == (3, 3)
    assert Theme.objects.filter(product=product).count() == 3
    assert Item.objects.filter(product=product, theme__isnull=False).exists()
    assert ItemLink.objects.filter(product=product).count() == 3
    fourth = Item.objects.filter(product=product).ordered()[3]
    assert len(order_warnings(fourth)) == 1  # the demo shows one order warning
