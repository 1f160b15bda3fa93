import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from backlog import order_sql
from backlog.models import Item, OrderBlock

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(module_db):
    """The demo, seeded once for the module (the root conftest's module_db); the pages only read it."""
    with override_settings(DEBUG=True):  # seed_demo runs only in development
        call_command("seed_demo", "--items", "120")


@pytest.fixture
def admin_client_with_demo(demo, client, django_user_model):
    client.force_login(django_user_model.objects.get(username="admin"))  # the demo's administrator
    return client


@pytest.mark.parametrize(
    "query",
    ["", "?kind__exact=defect", "?status__exact=open", "?q=checkout", "?kind__exact=tech_debt&status__exact=proposed"],
)
def test_item_changelist_filters_and_searches(admin_client_with_demo, query):
    response = admin_client_with_demo.get(reverse("admin:backlog_item_changelist") + query)
    assert response.status_code == 200


def test_item_changelist_is_in_rank_order(admin_client_with_demo):
    response = admin_client_with_demo.get(reverse("admin:backlog_item_changelist") + "?status__exact=open")
    shown = [item.pk for item in response.context["cl"].result_list]
    expected = list(Item.objects.filter(status="open").order_by("rank").values_list("pk", flat=True)[: len(shown)])
    assert shown == expected


def test_item_page_shows_its_history(admin_client_with_demo):
    item = Item.objects.filter(kind="operational").first()
    response = admin_client_with_demo.get(reverse("admin:backlog_item_change", args=[item.pk]))
    assert response.status_code == 200
    assert b"Created" in response.content


@pytest.mark.parametrize(
    "name", ["accounts_product", "accounts_membership", "accounts_user", "backlog_itemevent", "backlog_orderblock"]
)
def test_other_changelists(admin_client_with_demo, name):
    assert admin_client_with_demo.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_saved_views_are_listed_and_open_for_support(admin_client_with_demo):
    from accounts.models import Product, User
    from backlog.services.saved_views import saved_view_create

    product = Product.objects.get(key="OB")
    view = saved_view_create(
        product=product, actor=User.objects.get(username="olivia"), name="Open defects", filters={"kind": "defect"}
    )
    listed = admin_client_with_demo.get(reverse("admin:backlog_savedview_changelist") + "?q=olivia")
    assert listed.status_code == 200 and "Open defects" in listed.content.decode()
    opened = admin_client_with_demo.get(reverse("admin:backlog_savedview_change", args=[view.pk]))
    assert opened.status_code == 200 and "kind" in opened.content.decode()


def test_support_counts_a_products_order_blocks_again(admin_client_with_demo):
    block = OrderBlock.objects.order_by("product", "low").first()
    right = block.size
    OrderBlock.objects.filter(pk=block.pk).update(size=right + 5)  # as if something went wrong
    assert order_sql.blocks_wrong(block.product_id) == [(block.low, right + 5, right)]
    response = admin_client_with_demo.post(
        reverse("admin:backlog_orderblock_changelist"),
        {"action": "count_again", "_selected_action": [block.pk]},
        follow=True,
    )
    assert "Counted the blocks of 1 product(s) again." in response.content.decode()
    assert order_sql.blocks_wrong(block.product_id) == []
