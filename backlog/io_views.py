"""The import pages: upload a CSV file, read its preview (row errors), confirm, follow the progress,
read the result. The export is linked from the backlog page (the API's endpoint, with the page's
filters). Thin: ``backlog.services.imports`` decides."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import access_product
from backlog.access import access_import
from backlog.models import Import
from backlog.services.imports import import_confirm, import_preview, max_bytes, max_rows, require_import_rights
from config.pages import show_errors

SOURCES = [("auto", "Recognise it from the columns"), *Import.Source.choices]
RECENT_IMPORTS = 20


@login_required
def imports_page(request: HttpRequest, key: str) -> HttpResponse:
    """Upload a CSV file (owners and ordering delegates); the recent imports with their results."""
    product, actions = access_product(request.user, key)
    require_import_rights(request.user, product, actions)
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors.append("Choose a CSV file to upload.")
        elif upload.size > max_bytes():
            errors.append(f"The file is over the limit of {max_bytes():,} bytes.")
        else:
            try:
                imported = import_preview(
                    product=product,
                    actor=request.user,
                    data=upload,  # read as a stream, a block at a time
                    file_name=upload.name or "",
                    source=request.POST.get("source", "auto"),
                    placing=request.POST.get("placing", Import.Placing.BOTTOM),
                )
            except ValidationError as invalid:
                errors.extend(invalid.messages)
            else:
                return redirect("import", product.key, imported.pk)
    context = {
        "product": product,
        "actions": actions,
        "section": "import",
        "sources": SOURCES,
        "placings": Import.Placing.choices,
        "imports": Import.objects.filter(product=product).select_related("created_by")[:RECENT_IMPORTS],
        "max_bytes": max_bytes(),
        "max_rows": max_rows(),
        "errors": errors,
    }
    return render(request, "backlog/imports.html", context, status=400 if errors else 200)


@login_required
def import_page(request: HttpRequest, key: str, import_id: int) -> HttpResponse:
    """One import: its preview and Confirm; then its progress (the page polls this view's status
    fragment while it runs) and its result."""
    imported, actions = access_import(request.user, key, import_id)
    context = {"product": imported.product, "actions": actions, "section": "import", "imported": imported}
    if request.htmx:
        return render(request, "backlog/_import_status.html", context)
    return render(request, "backlog/import.html", context)


@login_required
@require_POST
def import_confirm_view(request: HttpRequest, key: str, import_id: int) -> HttpResponse:
    imported, _ = access_import(request.user, key, import_id)
    try:
        import_confirm(imported=imported, actor=request.user)
    except ValidationError as invalid:
        show_errors(request, invalid)
    else:
        messages.success(request, "Import started: nothing is in the backlog until every row is written.")
    return redirect("import", imported.product.key, imported.pk)
