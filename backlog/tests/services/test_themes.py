"""Theme writes: owners only; titles unique per product; colours validated."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backlog.models import Theme
from backlog.services.themes import theme_create, theme_delete, theme_update

pytestmark = pytest.mark.django_db


def test_owners_create_edit_and_delete_themes(product, owner):
    theme = theme_create(product=product, actor=owner, title=" Checkout ", target_date=date(2027, 3, 1))
    assert (theme.title, theme.colour, theme.target_date) == ("Checkout", "#3366cc", date(2027, 3, 1))
    theme_update(theme=theme, actor=owner, changes={"colour": "#00AA11", "description": "Pay\r\nfaster"})
    theme.refresh_from_db()
    assert (theme.colour, theme.description) == ("#00AA11", "Pay\nfaster")
    theme_delete(theme=theme, actor=owner)
    assert not Theme.objects.exists()


@pytest.mark.parametrize("role", ["developer", "delegate", "stakeholder", "outsider"])
def test_others_may_not_manage_themes(product, owner, role, request):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        theme_create(product=product, actor=user, title="Mine")
    theme = theme_create(product=product, actor=owner, title="Theirs")
    with pytest.raises(PermissionDenied):
        theme_update(theme=theme, actor=user, changes={"title": "Mine"})
    with pytest.raises(PermissionDenied):
        theme_delete(theme=theme, actor=user)
    assert list(Theme.objects.values_list("title", flat=True)) == ["Theirs"]


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#12345g", ""])
def test_a_colour_is_six_hex_digits(product, owner, colour):
    with pytest.raises(ValidationError) as refused:
        theme_create(product=product, actor=owner, title="T", colour=colour)
    assert "colour" in refused.value.message_dict


def test_titles_are_unique_per_product_in_any_case(product, owner):
    theme_create(product=product, actor=owner, title="Checkout")
    with pytest.raises(ValidationError, match="already"):
        theme_create(product=product, actor=owner, title="checkout")
    other = theme_create(product=product, actor=owner, title="Search")
    with pytest.raises(ValidationError, match="already"):
        theme_update(theme=other, actor=owner, changes={"title": "CHECKOUT"})
    with pytest.raises(ValidationError):
        theme_update(theme=other, actor=owner, changes={"product": 3})


def test_a_product_has_a_bounded_number_of_themes(product, owner, monkeypatch):
    monkeypatch.setattr("backlog.services.themes.MAX_THEMES", 2)
    theme_create(product=product, actor=owner, title="One")
    theme_create(product=product, actor=owner, title="Two")
    with pytest.raises(ValidationError, match="at most 2"):
        theme_create(product=product, actor=owner, title="Three")
