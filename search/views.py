"""The search page: results across the user's products (or one), a key jumps to its item."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode

from accounts.access import access_product
from search.selectors import cursor_encode, query_text, search, searchable_products

PAGE_SIZE = 20


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    text = query_text(request.GET.get("q"), strict=False)
    key = (request.GET.get("product") or "").strip()
    product, actions = access_product(request.user, key) if key else (None, frozenset())
    found = None
    more = None
    if text:
        try:
            found = search(
                user=request.user, text=text, product=product, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE
            )
        except ValidationError:  # a cursor that was tampered with: start again from the first page
            found = search(user=request.user, text=text, product=product, limit=PAGE_SIZE)
        if found.key_match is not None:
            return redirect(found.key_match)
        if found.results.after is not None:
            scope = {"product": product.key} if product else {}
            more = urlencode({"q": text, **scope, "cursor": cursor_encode(found.results.after)})
    context = {
        "product": product,
        "actions": actions,
        "section": "search",
        "q": text,
        "found": found,
        "more": more,
        "searchable": searchable_products(user=request.user),
    }
    return render(request, "search/results.html", context)
