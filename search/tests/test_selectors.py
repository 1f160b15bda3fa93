"""Ranking, highlighting and key look-up, on SQLite (the fallback) and PostgreSQL (full-text search)."""

import re

import pytest

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory, ProductFactory
from backlog.services.items import item_create, item_update
from refinement.models import Comment
from refinement.services.comments import comment_create, comment_delete
from search.highlight import START, STOP, marked
from search.selectors import cursor_decode, cursor_encode, item_by_key, search, search_items


def titles(results) -> list[str]:
    return [hit.item.title for hit in results.hits]


@pytest.fixture
def catalogue(product, owner):
    """Items where "invoice" is in the title, only in the description, only in the criteria, only in a
    comment, and nowhere."""
    in_title = item_create(product=product, actor=owner, kind="story", title="Invoice export to PDF")
    in_text = item_create(
        product=product, actor=owner, kind="story", title="Monthly report", description="Totals per invoice line."
    )
    in_criteria = item_create(
        product=product,
        actor=owner,
        kind="story",
        title="Customer page",
        acceptance_criteria="Shows the last invoice.",
    )
    in_comment = item_create(product=product, actor=owner, kind="story", title="Tax rules")
    comment_create(item=in_comment, actor=owner, body="Same rounding as the invoice totals")
    item_create(product=product, actor=owner, kind="story", title="Nothing to see", description="Dashboards.")
    return in_title, in_text, in_criteria, in_comment


def test_title_matches_rank_above_text_and_text_above_comments(product, catalogue):
    found = search_items(text="invoice", products=[product])
    ranked = titles(found)
    assert ranked[0] == "Invoice export to PDF"
    assert set(ranked[1:3]) == {"Monthly report", "Customer page"}
    assert ranked[3] == "Tax rules"
    assert len(ranked) == 4  # "Nothing to see" does not match


def test_every_word_must_match(product, owner, catalogue):
    assert titles(search_items(text="invoice pdf", products=[product])) == ["Invoice export to PDF"]
    assert titles(search_items(text="invoice dashboards", products=[product])) == []


def test_comment_added_and_deleted_changes_results(product, owner, catalogue):
    item = item_create(product=product, actor=owner, kind="defect", title="Crash on save", severity="major")
    assert "Crash on save" not in titles(search_items(text="gateway", products=[product]))
    comment = comment_create(item=item, actor=owner, body="The payment gateway times out")
    assert titles(search_items(text="gateway", products=[product])) == ["Crash on save"]
    comment_delete(comment=comment, actor=owner)
    assert titles(search_items(text="gateway", products=[product])) == []


def test_an_edited_title_is_found_by_its_new_words(product, owner, catalogue):
    item = catalogue[3]
    item_update(item=item, actor=owner, changes={"title": "Quarterly closing"})
    assert titles(search_items(text="quarterly", products=[product])) == ["Quarterly closing"]


def test_pages_follow_the_cursor_without_repeats(product, owner):
    for n in range(7):
        item_create(product=product, actor=owner, kind="story", title=f"Widget {n}")
    seen, after = [], None
    while True:
        page = search_items(text="widget", products=[product], after=after, limit=3)
        seen += titles(page)
        if page.after is None:
            break
        after = cursor_decode(cursor_encode(page.after))
    assert sorted(seen) == [f"Widget {n}" for n in range(7)]


def test_highlights_are_escaped(product, owner):
    item_create(
        product=product,
        actor=owner,
        kind="story",
        title="<script>alert(1)</script> invoice",
        description='An <img src=x onerror="alert(2)"> invoice line where 1 < 2 & "quotes"',
    )
    hit = search_items(text="invoice", products=[product]).hits[0]
    assert "&lt;script&gt;" in hit.title_html
    assert "<mark>invoice</mark>" in hit.title_html.lower()
    assert "<mark>invoice</mark>" in hit.snippet_html.lower()
    assert "1 &lt; 2 &amp;" in hit.snippet_html  # PostgreSQL's headline drops tags; whatever is left is escaped
    for html in (hit.title_html, hit.snippet_html):
        assert set(re.findall(r"<[^>]*>", html)) == {"<mark>", "</mark>"}


def test_marked_text_is_balanced_even_with_stray_markers():
    assert marked(f"a{START}b{START}c{STOP}d{STOP}<e>{START}") == "a<mark>bc</mark>d&lt;e&gt;<mark></mark>"


def test_only_the_given_products_are_searched(product, owner, catalogue):
    other = ProductFactory(key="ZZ")
    other_owner = MembershipFactory(product=other, role=Membership.Role.OWNER).user
    item_create(product=other, actor=other_owner, kind="story", title="Invoice of another product")
    found = search(user=owner, text="invoice", product=None)
    assert "Invoice of another product" not in titles(found.results)
    assert "Invoice of another product" in titles(search(user=other_owner, text="invoice", product=None).results)


def test_key_look_up_any_case_and_bare_number_within_one_product(product, owner, catalogue):
    item = catalogue[1]
    assert item_by_key(text=item.key, products=[product]) == item
    assert item_by_key(text=item.key.lower(), products=[product]) == item
    assert item_by_key(text=str(item.number), products=[product]) == item
    other = ProductFactory(key="ZZ")
    assert item_by_key(text=str(item.number), products=[product, other]) is None  # ambiguous
    assert item_by_key(text=str(item.number), products=[product, other], default=product) == item
    assert item_by_key(text=item.key, products=[other]) is None  # not one of the user's products
    assert item_by_key(text="ZZ-1", products=[product, other]) is None  # no such item


@pytest.mark.postgres
def test_postgres_stems_words_and_ranks_by_weight(product, owner, catalogue):
    found = search_items(text="invoices", products=[product])  # stemmed: invoices → invoic
    assert titles(found)[0] == "Invoice export to PDF"
    assert len(found.hits) == 4
    assert [hit.rank for hit in found.hits] == sorted((hit.rank for hit in found.hits), reverse=True)
    assert found.hits[0].rank > found.hits[1].rank > found.hits[3].rank


@pytest.mark.postgres
def test_postgres_language_is_per_product_and_reindexes(product, owner):
    from accounts.services import product_update

    item_create(product=product, actor=owner, kind="story", title="Running the nightly jobs")
    assert titles(search_items(text="run", products=[product])) == ["Running the nightly jobs"]
    product = product_update(product=product, actor=owner, changes={"search_language": "simple"})
    assert titles(search_items(text="run", products=[product])) == []  # no stemming in "simple"
    assert titles(search_items(text="running", products=[product])) == ["Running the nightly jobs"]


@pytest.mark.postgres
def test_postgres_documents_use_the_gin_indexes(product, owner):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%%USING gin (search_vector)%%' ORDER BY 1"
        )
        assert [row[0] for row in cursor.fetchall()] == ["backlog_item_search", "refinement_comment_search"]
    comment = comment_create(
        item=item_create(product=product, actor=owner, kind="story", title="T"), actor=owner, body="x"
    )
    Comment.objects.filter(pk=comment.pk).update(body="zeppelin")  # any write path keeps the document
    assert titles(search_items(text="zeppelin", products=[product])) == ["T"]


@pytest.mark.postgres
def test_postgres_searches_products_of_different_languages_together(product, owner):
    from accounts.services import product_update

    other = ProductFactory(key="ZZ")
    MembershipFactory(product=other, user=owner, role=Membership.Role.OWNER)
    other = product_update(product=other, actor=owner, changes={"search_language": "simple"})
    english = item_create(product=product, actor=owner, kind="story", title="Runs nightly")
    simple = item_create(product=other, actor=owner, kind="story", title="Nightly runs")
    comment_create(item=simple, actor=owner, body="It runs again")
    both = [product, other]
    assert titles(search_items(text="runs", products=both)) == ["Nightly runs", "Runs nightly"]
    assert titles(search_items(text="run", products=both)) == [english.title]  # only English stems
