"""Full-text search over a user's products: ranked items with highlighted matches, and key look-up.

On PostgreSQL each item and each comment has a ``search_vector`` (kept by triggers, see
``search/migrations/0001_search_documents.py``) in its product's ``search_language``, with GIN
indexes; a query is ``websearch_to_tsquery`` (quotes, ``or``, ``-word``) and ranks with
``ts_rank`` (title A, description and acceptance criteria B, comments C): an item's rank is its
own plus its best-matching comment's. On SQLite every word must appear (any case) in the title
(3 points), the description or acceptance criteria (2) or a comment (1); the rank adds them up.

Results are ordered by rank, then newest item first; the cursor is the last (rank, id) shown.
"""

import base64
import math
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, Exists, FloatField, OuterRef, Q, QuerySet, Value, When
from django.utils.safestring import SafeString

from accounts.models import Product, User
from accounts.selectors import products_for
from backlog.models import Item
from backlog.references import parse_reference
from refinement.models import Comment
from search.highlight import HEADLINE_OPTIONS, SNIPPET_OPTIONS, START, mark_terms, marked, snippet_around

MAX_TERMS = 10
CURSOR = re.compile(r"([0-9]{1,20}(?:\.[0-9]{1,20})?(?:e-?[0-9]{1,3})?) ([0-9]{1,18})")


@dataclass(frozen=True)
class Hit:
    item: Item
    rank: float
    title_html: SafeString
    snippet_html: SafeString


@dataclass(frozen=True)
class SearchResults:
    hits: list[Hit]
    after: tuple[float, int] | None  # where the next page starts (None: this is the last)


def searchable_products(*, user: User) -> QuerySet[Product]:
    """The products whose items ``user`` may search: those they are a member of, not archived."""
    return products_for(user=user).filter(archived_at=None)


def item_by_key(*, text: str, products: list[Product], default: Product | None = None) -> Item | None:
    """The item ``text`` names among ``products``: ``OB-48`` or ``ob-48``; a bare ``48`` is item 48
    of ``default``, or of the only product when there is one."""
    found = parse_reference(text)
    if found is None:
        return None
    if found.pk is not None:
        product = default if default is not None else (products[0] if len(products) == 1 else None)
        number = found.pk
    else:
        product = next((p for p in products if p.key == found.product_key), None)
        number = found.number
    if product is None:
        return None
    item = Item.objects.filter(product=product, number=number).first()
    if item is not None:
        item.product = product
    return item


def search_terms(text: str) -> list[str]:
    """The words of a query, as the SQLite fallback matches them (quotes and a leading - dropped)."""
    words = [word.strip("\"'").lstrip("-") for word in text.split()]
    return [word for word in words if word and word.lower() != "or"][:MAX_TERMS]


def search_items(
    *, text: str, products: list[Product], after: tuple[float, int] | None = None, limit: int = 20
) -> SearchResults:
    """One page of the items of ``products`` matching ``text``, best first, with highlights."""
    text = text.strip()
    if not text or not products:
        return SearchResults(hits=[], after=None)
    if connection.vendor == "postgresql":
        ranked = _ranked_postgres(text, products, after, limit + 1)
    else:
        ranked = _ranked_fallback(text, products, after, limit + 1)
    more = len(ranked) > limit
    ranked = ranked[:limit]
    items = Item.objects.filter(pk__in=[pk for pk, _ in ranked]).select_related("product").in_bulk()
    if connection.vendor == "postgresql":
        marks = _headlines_postgres(text, list(items))
    else:
        marks = _highlights_fallback(text, items)
    hits = [
        Hit(item=items[pk], rank=rank, title_html=marked(marks[pk][0]), snippet_html=marked(marks[pk][1]))
        for pk, rank in ranked
        if pk in items
    ]
    return SearchResults(hits=hits, after=(ranked[-1][1], ranked[-1][0]) if more and ranked else None)


def _ranked_postgres(text: str, products: list[Product], after, limit: int) -> list[tuple[int, float]]:
    by_language: dict[str, list[int]] = {}
    for product in products:
        by_language.setdefault(product.search_language, []).append(product.pk)
    parts, params, owners, owner_params = [], [], [], []
    for group, (language, product_ids) in enumerate(sorted(by_language.items())):
        # One tsquery per language; each arm is a GIN index scan of the item or comment vectors.
        # Comments are not joined to their items here: the ranked hits are, one primary-key look-up
        # each, and only as many as the page needs (joining every matching comment to its item
        # first costs a scan of the items).
        parts.append(
            "SELECT %s AS grp, i.id AS item_id, ts_rank(i.search_vector, q.query) AS rank"
            " FROM backlog_item i, websearch_to_tsquery(%s::regconfig, %s) AS q(query)"
            " WHERE i.product_id = ANY(%s) AND i.search_vector @@ q.query"
        )
        parts.append(
            "SELECT %s, c.item_id, max(ts_rank(c.search_vector, q.query))"
            " FROM refinement_comment c, websearch_to_tsquery(%s::regconfig, %s) AS q(query)"
            " WHERE c.search_vector @@ q.query GROUP BY c.item_id"
        )
        params += [group, language, text, product_ids, group, language, text]
        owners.append("(ranked.grp = %s AND it.product_id = ANY(%s))")
        owner_params += [group, product_ids]
    page, page_params = "", []
    if after is not None:
        page = "WHERE rank < %s OR (rank = %s AND item_id < %s)"
        page_params = [after[0], after[0], after[1]]
    sql = (
        "SELECT ranked.item_id, ranked.rank FROM ("
        " SELECT grp, item_id, rank FROM ("
        "  SELECT grp, item_id, sum(rank)::float8 AS rank FROM (" + " UNION ALL ".join(parts) + ") AS hits"
        "  GROUP BY grp, item_id) AS grouped"
        f" {page} ORDER BY rank DESC, item_id DESC) AS ranked"
        " JOIN backlog_item it ON it.id = ranked.item_id AND (" + " OR ".join(owners) + ")"
        " ORDER BY ranked.rank DESC, ranked.item_id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *page_params, *owner_params, limit])
        return [(pk, rank) for pk, rank in cursor.fetchall()]


def _headlines_postgres(text: str, ids: list[int]) -> dict[int, tuple[str, str]]:
    """The title with every match marked and a snippet of the description, criteria and matching
    comments, by ``ts_headline`` (run on the page's items only: it reads their text)."""
    if not ids:
        return {}
    sql = """
        SELECT i.id,
               ts_headline(p.search_language::regconfig, i.title, q.query, %s),
               ts_headline(p.search_language::regconfig,
                           concat_ws(E'\\n', nullif(i.description, ''), nullif(i.acceptance_criteria, ''),
                                     (SELECT string_agg(c.body, E'\\n' ORDER BY c.id) FROM refinement_comment c
                                       WHERE c.item_id = i.id AND c.search_vector @@ q.query)),
                           q.query, %s)
          FROM backlog_item i JOIN accounts_product p ON p.id = i.product_id
               CROSS JOIN LATERAL websearch_to_tsquery(p.search_language::regconfig, %s) AS q(query)
         WHERE i.id = ANY(%s)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [HEADLINE_OPTIONS + ", HighlightAll=true", SNIPPET_OPTIONS, text, ids])
        return {pk: (title, snippet if START in snippet else "") for pk, title, snippet in cursor.fetchall()}


def _ranked_fallback(text: str, products: list[Product], after, limit: int) -> list[tuple[int, float]]:
    terms = search_terms(text)
    if not terms:
        return []
    items = Item.objects.filter(product__in=products)
    rank = Value(0.0, output_field=FloatField())
    for term in terms:
        in_title = Q(title__icontains=term)
        in_text = Q(description__icontains=term) | Q(acceptance_criteria__icontains=term)
        in_comment = Exists(Comment.objects.filter(item=OuterRef("pk"), body__icontains=term))
        items = items.filter(in_title | in_text | in_comment)
        for found, points in ((in_title, 3.0), (in_text, 2.0), (in_comment, 1.0)):
            rank = rank + Case(When(found, then=Value(points)), default=Value(0.0), output_field=FloatField())
    items = items.annotate(search_rank=rank)
    if after is not None:
        items = items.filter(Q(search_rank__lt=after[0]) | Q(search_rank=after[0], pk__lt=after[1]))
    return list(items.order_by("-search_rank", "-pk").values_list("pk", "search_rank")[:limit])


def _highlights_fallback(text: str, items: dict[int, Item]) -> dict[int, tuple[str, str]]:
    terms = search_terms(text)
    matching = Q()
    for term in terms:
        matching |= Q(body__icontains=term)
    comments: dict[int, list[str]] = {}
    for item_id, body in (
        Comment.objects.filter(matching, item_id__in=list(items)).order_by("id").values_list("item_id", "body")
    ):
        comments.setdefault(item_id, []).append(body)
    return {
        pk: (
            mark_terms(item.title, terms),
            snippet_around([item.description, item.acceptance_criteria, *comments.get(pk, [])], terms),
        )
        for pk, item in items.items()
    }


def cursor_encode(after: tuple[float, int]) -> str:
    """The opaque cursor of a page that starts after (rank, id)."""
    return base64.urlsafe_b64encode(f"{after[0]!r} {after[1]}".encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[float, int]:
    """(rank, id) from a cursor made by ``cursor_encode``; a ValidationError naming ``cursor`` otherwise."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        text = ""
    found = CURSOR.fullmatch(text)
    if found is None or not math.isfinite(rank := float(found.group(1))):
        raise ValidationError({"cursor": ["Invalid cursor: use the next link as given."]})
    return rank, int(found.group(2))


@dataclass(frozen=True)
class Search:
    """What the search page and the API show for one query."""

    products: list[Product]  # the products searched
    key_match: Item | None  # the item the query names by key, if any
    results: SearchResults


def search(*, user: User, text: str, product: Product | None, cursor: str | None = None, limit: int = 20) -> Search:
    """Search ``product`` (already reached by the caller) or every product of ``user``. A key names
    an item of any of the user's products; a bare number one of ``product``."""
    mine = list(searchable_products(user=user))
    if product is not None and product not in mine:
        mine.append(product)  # an archived product, reached by its key
    products = [product] if product is not None else mine
    after = cursor_decode(cursor) if cursor else None
    key_match = item_by_key(text=text, products=mine, default=product) if not after else None
    return Search(
        products=products,
        key_match=key_match,
        results=search_items(text=text, products=products, after=after, limit=limit),
    )


MAX_QUERY_LENGTH = 200


def query_text(value: str | None, *, strict: bool) -> str:
    """The query as searched: stripped, at most MAX_QUERY_LENGTH characters. ``strict`` (the API):
    a missing, empty or longer one is a ValidationError naming ``q``; the page shortens it."""
    text = (value or "").strip()
    if strict and not text:
        raise ValidationError({"q": ["Give the words to find, or an item's key."]})
    if len(text) > MAX_QUERY_LENGTH:
        if strict:
            raise ValidationError({"q": [f"At most {MAX_QUERY_LENGTH} characters."]})
        text = text[:MAX_QUERY_LENGTH]
    return text
