"""The roadmap page (members and stakeholders) and its printable view."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import access_product
from delivery.roadmap import STATE_WORDS, roadmap, timeline


@login_required
def roadmap_page(request: HttpRequest, key: str) -> HttpResponse:
    """Themes on a timeline by the forecast of their last item, against their target dates.
    ``?print=1`` gives the same without the site's navigation, for printing."""
    product, actions = access_product(request.user, key)
    rows = roadmap(product=product)
    printable = request.GET.get("print") == "1"
    return render(
        request,
        "delivery/roadmap_print.html" if printable else "delivery/roadmap.html",
        {
            "product": product,
            "actions": actions,
            "section": "roadmap",
            "rows": rows,
            "chart": timeline(rows) if rows else None,
            "states": STATE_WORDS,
        },
    )
