"""Saved views: filters checked by the backlog list's own definitions; who may change a view."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backlog.models import SavedView
from backlog.selectors import saved_views_for
from backlog.services.saved_views import saved_view_create, saved_view_delete, saved_view_update


def test_filters_are_stored_as_the_list_reads_them(product, developer):
    view = saved_view_create(
        product=product,
        actor=developer,
        name="  Open defects ",
        filters={"kind": "defect, tech_debt", "ready": "no", "q": "payment"},
        columns=["age", "score"],
    )
    assert view.name == "Open defects"
    assert view.filters == {"kind": "defect,tech_debt", "ready": "false", "q": "payment"}
    assert view.columns == ["score", "age"]  # the page's order
    assert not view.shared


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"colour": "red"}, "Unknown filter: colour."),
        ({"kind": "epic"}, "kind: "),
        ({"ready": "maybe"}, "ready: "),
        ({"status": "done", "ordering": "rank"}, "ordering: "),
        ({"score_min": "lots"}, "score_min: "),
        ({"kind": ["story"]}, "kind: give a string"),
        ("kind=story", "Give the filters as an object"),
    ],
)
def test_filters_the_list_would_refuse_are_refused(product, developer, filters, message):
    with pytest.raises(ValidationError) as refused:
        saved_view_create(product=product, actor=developer, name="Bad", filters=filters)
    assert any(message in text for text in refused.value.messages), refused.value.messages
    assert not SavedView.objects.exists()


def test_unknown_columns_and_names_are_refused(product, developer):
    with pytest.raises(ValidationError, match="Unknown column: colour"):
        saved_view_create(product=product, actor=developer, name="V", filters={}, columns=["colour"])
    with pytest.raises(ValidationError, match="name of 1 to 80"):
        saved_view_create(product=product, actor=developer, name="  ", filters={})
    saved_view_create(product=product, actor=developer, name="V", filters={})
    with pytest.raises(ValidationError, match="already have a view"):
        saved_view_create(product=product, actor=developer, name="V", filters={"kind": "story"})


def test_all_columns_are_stored_as_all(product, developer):
    view = saved_view_create(product=product, actor=developer, name="V", filters={}, columns=list(SavedView.COLUMNS))
    assert view.columns == []


def test_outsiders_cannot_save_views(product, outsider):
    with pytest.raises(PermissionDenied):
        saved_view_create(product=product, actor=outsider, name="V", filters={})


def test_a_private_view_is_listed_for_its_author_only(product, owner, developer, stakeholder):
    private = saved_view_create(product=product, actor=developer, name="Mine", filters={})
    shared = saved_view_create(product=product, actor=developer, name="Ours", filters={}, shared=True)
    assert list(saved_views_for(product=product, user=developer)) == [private, shared]
    assert list(saved_views_for(product=product, user=owner)) == [shared]
    assert list(saved_views_for(product=product, user=stakeholder)) == [shared]


def test_who_changes_a_view(product, owner, developer, delegate, stakeholder):
    private = saved_view_create(product=product, actor=developer, name="Mine", filters={})
    shared = saved_view_create(product=product, actor=developer, name="Ours", filters={}, shared=True)
    for other in (owner, delegate, stakeholder):
        with pytest.raises(PermissionDenied):
            saved_view_update(view=private, actor=other, changes={"name": "Taken"})
    for other in (delegate, stakeholder):
        with pytest.raises(PermissionDenied):
            saved_view_update(view=shared, actor=other, changes={"name": "Taken"})
        with pytest.raises(PermissionDenied):
            saved_view_delete(view=shared, actor=other)
    # The product's owners tidy the shared views, but cannot make someone's shared view private.
    assert saved_view_update(view=shared, actor=owner, changes={"name": "Team"}).name == "Team"
    with pytest.raises(PermissionDenied):
        saved_view_update(view=shared, actor=owner, changes={"shared": False})
    changed = saved_view_update(
        view=private, actor=developer, changes={"filters": {"label": "ux"}, "columns": ["score"], "shared": True}
    )
    assert (changed.filters, changed.columns, changed.shared) == ({"label": "ux"}, ["score"], True)
    saved_view_delete(view=shared, actor=owner)
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Mine"]


def test_the_view_opens_the_backlog_with_its_filters_and_columns(product, developer):
    view = saved_view_create(
        product=product, actor=developer, name="V", filters={"kind": "defect"}, columns=["estimate", "score"]
    )
    url = view.get_absolute_url()
    assert url.startswith(f"/p/{product.key}/?kind=defect&view={view.pk}")
    assert url.endswith("&hide=ready&hide=age")
