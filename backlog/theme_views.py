"""The themes pages: the list with roll-ups, one theme with its items in backlog order; owners
create, edit and delete themes. The services decide who may."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import access_product
from accounts.permissions import Action
from backlog.access import access_theme
from backlog.links import order_warnings
from backlog.models import Theme
from backlog.selectors import item_list
from backlog.services.themes import theme_create, theme_delete, theme_update
from backlog.themes import theme_list, theme_other_items, theme_rollups

THEME_PAGE_ITEMS = 200  # items of the order a theme page lists; the backlog filter pages through all


class ThemeForm(forms.ModelForm):
    class Meta:
        model = Theme
        fields = ["title", "description", "colour", "target_date"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "colour": forms.TextInput(attrs={"type": "color"}),
            "target_date": forms.DateInput(attrs={"type": "date"}),
        }

    def _post_clean(self):
        """The services validate the theme; the form only shapes input."""


def _form_errors(form: forms.Form, invalid: ValidationError) -> None:
    for field, errors in invalid.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
def themes_page(request: HttpRequest, key: str) -> HttpResponse:
    product, actions = access_product(request.user, key)
    form = ThemeForm(request.POST or None)
    if request.method == "POST":
        if Action.MANAGE not in actions:
            raise PermissionDenied("Only the product owner manages themes.")
        if form.is_valid():
            try:
                theme = theme_create(product=product, actor=request.user, **form.cleaned_data)
            except ValidationError as invalid:
                _form_errors(form, invalid)
            else:
                messages.success(request, f"Theme {theme.title} created.")
                return redirect("theme", product.key, theme.pk)
    themes = list(theme_list(product=product))
    rollups = theme_rollups(product=product, theme_ids=[theme.pk for theme in themes])
    return render(
        request,
        "backlog/themes.html",
        {
            "product": product,
            "actions": actions,
            "section": "themes",
            "rows": [(theme, rollups[theme.pk]) for theme in themes],
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
def theme_page(request: HttpRequest, key: str, theme_id: int) -> HttpResponse:
    """One theme: its roll-up, its items in backlog order (with their order warnings), the rest."""
    theme, actions = access_theme(request.user, key, theme_id)
    product = theme.product
    form = ThemeForm(request.POST or None, instance=theme)
    if request.method == "POST":
        if Action.MANAGE not in actions:
            raise PermissionDenied("Only the product owner manages themes.")
        if form.is_valid():
            try:
                theme_update(theme=theme, actor=request.user, changes=form.cleaned_data)
            except ValidationError as invalid:
                _form_errors(form, invalid)
            else:
                messages.success(request, "Theme saved.")
                return redirect("theme", product.key, theme.pk)
    listing = item_list(product=product, filters=QueryDict(f"theme={theme.pk}"), strict=False)
    ordered = list(listing.items[: THEME_PAGE_ITEMS + 1])
    for item in ordered:
        item.order_warnings = order_warnings(item)
    return render(
        request,
        "backlog/theme.html",
        {
            "product": product,
            "actions": actions,
            "section": "themes",
            "theme": theme,
            "rollup": theme_rollups(product=product, theme_ids=[theme.pk])[theme.pk],
            "ordered": ordered[:THEME_PAGE_ITEMS],
            "more": len(ordered) > THEME_PAGE_ITEMS,
            "others": theme_other_items(theme=theme)[:THEME_PAGE_ITEMS],
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def theme_delete_view(request: HttpRequest, key: str, theme_id: int) -> HttpResponse:
    theme, _ = access_theme(request.user, key, theme_id)
    theme_delete(theme=theme, actor=request.user)
    messages.success(request, f"Theme {theme.title} deleted; its items stay, without a theme.")
    return redirect("themes", theme.product.key)
