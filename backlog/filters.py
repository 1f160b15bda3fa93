"""The backlog list's parameters, one set for the page and the API: their names, meanings and checks.

``backlog.selectors.item_list`` runs them. A list parameter takes its values repeated
(``?kind=defect&kind=story``, what generated OpenAPI clients send) or comma-separated
(``?kind=defect,story``), the same; any other parameter given twice is refused, never the last.
"""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower

from accounts.models import Product
from backlog.models import Item
from backlog.references import parse_reference

# Only unique keys: a cursor over a value many items share would skip or repeat items.
ORDERINGS = ["rank", "number", "-number"]
LIST_PARAMETERS = ("kind", "status", "label")
READY_WORDS = {"true": "true", "false": "false", "yes": "true", "no": "false"}  # yes/no: older page links


def number_in_key(text: str, product: Product) -> int | None:
    """The item number ``text`` names in ``product``: ``OB-48``, ``ob-48`` or ``48`` give 48."""
    found = parse_reference(text)
    if found is None:
        return None
    if found.pk is not None:  # a bare number here is the item's number, as in its key
        return found.pk
    return found.number if found.product_key == product.key else None


class ChoicesInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """``?kind=story,defect``: any of the given choices; an unknown one is refused."""


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """``?label=ux,payments``: any of the given values."""


class WholeNumberFilter(django_filters.Filter):
    """A positive whole number (an id): anything else is refused, never read loosely."""

    field_class = forms.IntegerField


class ItemFilterForm(forms.Form):
    def clean_updated_since(self):
        value = self.cleaned_data.get("updated_since")
        if value is not None and not 1900 <= value.year <= 9000:
            raise forms.ValidationError("Give a time between the years 1900 and 9000.")
        return value

    def clean(self):
        data = super().clean()
        statuses = data.get("status") or []
        if data.get("ordering") == "rank" and not set(statuses) <= set(Item.ORDERED_STATUSES):
            self.add_error("ordering", "Only open and in-progress items have a rank; order the others by number.")
        return data


class ItemFilter(django_filters.FilterSet):
    kind = ChoicesInFilter(choices=Item.Kind.choices, help_text="Kinds: any of them.")
    status = ChoicesInFilter(
        choices=Item.Status.choices,
        method="filter_status",
        help_text="Statuses: any of them. Default: the backlog (open, in_progress).",
    )
    label = CharInFilter(field_name="labels__name", method="filter_label", help_text="Labels: any of them.")
    created_by = django_filters.CharFilter(field_name="created_by__username", help_text="A username.")
    ready = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_ready",
        help_text="Meets the Definition of Ready (true) or not (false); yes and no are read as true and false.",
    )
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text="Items changed at or after this time."
    )
    theme = WholeNumberFilter(field_name="theme_id", min_value=1, help_text="A theme's id: its items.")
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte", help_text="Score at least this.")
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte", help_text="Score at most this.")
    external_ref = django_filters.CharFilter(
        field_name="external_ref", max_length=100, help_text="The item with this external reference (exact)."
    )
    q = django_filters.CharFilter(
        method="filter_text",
        max_length=200,
        help_text="Text in the title or description, or the item's key (OB-48, ob-48 or 48).",
    )
    ordering = django_filters.ChoiceFilter(
        choices=[(o, o) for o in ORDERINGS],
        method="filter_nothing",
        help_text="Default rank (the backlog order); number when statuses outside the order are asked for.",
    )

    class Meta:
        model = Item
        fields = []
        form = ItemFilterForm

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product  # whose Definition of Ready ``ready`` applies, whose keys ``q`` finds

    def filter_status(self, queryset, name, value):
        return queryset.filter(status__in=value)

    def filter_label(self, queryset, name, value):
        # Any case: ?label=UX finds items labelled "ux".
        names = [name.lower() for name in value]
        labelled = Item.labels.through.objects.annotate(name=Lower("label__name")).filter(
            item_id=OuterRef("pk"), name__in=names
        )
        return queryset.filter(Exists(labelled))

    def filter_ready(self, queryset, name, value):
        return queryset.ready(self.product) if value == "true" else queryset.not_ready(self.product)

    def filter_text(self, queryset, name, value):
        found = Q(title__icontains=value) | Q(description__icontains=value)
        number = number_in_key(value, self.product)
        return queryset.filter(found | Q(number=number) if number is not None else found)

    def filter_nothing(self, queryset, name, value):
        return queryset  # the ordering is applied by whoever pages the list

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(status__in=Item.ORDERED_STATUSES)
        return queryset

    @property
    def chosen_ordering(self) -> str:
        """The ordering asked for; by default rank, or number when unranked statuses are asked for."""
        data = self.form.cleaned_data
        if data.get("ordering"):
            return data["ordering"]
        return "number" if set(data.get("status") or []) - set(Item.ORDERED_STATUSES) else "rank"


def filter_parameters(params, *, strict: bool) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Read the list's parameters from a query string: (values as the FilterSet takes them, errors).

    Repeated list parameters are joined with commas; surrounding spaces are dropped; ``ready``'s
    yes/no are read as true/false. ``strict`` (the API) reports empty values, empty list entries
    and single-valued parameters given twice; otherwise (the page) they are left out.
    """
    data: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name in ItemFilter.base_filters:
        values = [value.strip() for value in params.getlist(name)]
        if not values:
            continue
        if name in LIST_PARAMETERS:
            parts = [part.strip() for value in values for part in value.split(",")]
            if strict and not any(parts):
                errors[name] = ["Give a value, or leave the parameter out."]
            elif strict and not all(parts):
                errors[name] = ["Separate the values with single commas."]
            elif any(parts):
                data[name] = ",".join(part for part in parts if part)
            continue
        if len(values) > 1:
            if strict:
                errors[name] = ["Give this parameter once."]
            continue
        value = READY_WORDS.get(values[0], values[0]) if name == "ready" else values[0]
        if value:
            data[name] = value
        elif strict:
            errors[name] = ["Give a value, or leave the parameter out."]
    return data, errors
