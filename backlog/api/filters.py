import django_filters
from django.db.models import Exists, OuterRef, Q
from rest_framework.exceptions import ValidationError

from accounts.models import Product
from backlog.models import Item

# Only unique keys: a cursor over a value many items share would skip or repeat items.
ORDERINGS = ["rank", "number", "-number"]


class ChoicesInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """``?kind=story,defect``: any of the given choices; an unknown one is a 400."""


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """``?label=ux,payments``: any of the given values."""


class ItemFilter(django_filters.FilterSet):
    kind = ChoicesInFilter(choices=Item.Kind.choices, help_text="Comma-separated kinds.")
    status = ChoicesInFilter(
        choices=Item.Status.choices,
        method="filter_status",
        help_text="Comma-separated statuses. Default: the backlog (open, in_progress).",
    )
    label = CharInFilter(
        field_name="labels__name", method="filter_label", help_text="Comma-separated labels: any of them."
    )
    created_by = django_filters.CharFilter(field_name="created_by__username", help_text="A username.")
    ready = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_ready",
        help_text="Meets the Definition of Ready.",
    )
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", method="filter_updated_since", help_text="Items changed at or after this time."
    )
    score_min = django_filters.NumberFilter(field_name="score", lookup_expr="gte", help_text="Score at least this.")
    score_max = django_filters.NumberFilter(field_name="score", lookup_expr="lte", help_text="Score at most this.")
    q = django_filters.CharFilter(method="filter_text", max_length=200, help_text="Text in title or description.")
    ordering = django_filters.ChoiceFilter(
        choices=[(o, o) for o in ORDERINGS], method="filter_nothing", help_text="Default rank (the backlog order)."
    )

    class Meta:
        model = Item
        fields = []

    def __init__(self, *args, product: Product | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product  # whose Definition of Ready ``ready`` applies

    def filter_status(self, queryset, name, value):
        return queryset.filter(status__in=value)

    def filter_label(self, queryset, name, value):
        labelled = Item.labels.through.objects.filter(item_id=OuterRef("pk"), label__name__in=value)
        return queryset.filter(Exists(labelled))

    def filter_updated_since(self, queryset, name, value):
        if not 1900 <= value.year <= 9000:
            raise ValidationError({"updated_since": ["Give a time between the years 1900 and 9000."]})
        return queryset.filter(updated_at__gte=value)

    def filter_ready(self, queryset, name, value):
        product = self.product
        return queryset.ready(product) if value == "true" else queryset.not_ready(product)

    def filter_text(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))

    def filter_nothing(self, queryset, name, value):
        return queryset  # applied by the pagination, which orders by it

    @property
    def qs(self):
        queryset = super().qs
        statuses = self.form.cleaned_data.get("status") if hasattr(self.form, "cleaned_data") else None
        if not statuses:
            queryset = queryset.filter(status__in=Item.ORDERED_STATUSES)
            statuses = list(Item.ORDERED_STATUSES)
        if self.chosen_ordering == "rank" and not set(statuses) <= set(Item.ORDERED_STATUSES):
            raise ValidationError(
                {"ordering": ["Only open and in-progress items have a rank; order the others by number."]}
            )
        return queryset

    @property
    def chosen_ordering(self) -> str:
        """The ordering asked for; by default rank, or number when unranked statuses are asked for."""
        data = self.form.cleaned_data if hasattr(self.form, "cleaned_data") else {}
        if data.get("ordering"):
            return data["ordering"]
        statuses = data.get("status") or []
        return "number" if set(statuses) - set(Item.ORDERED_STATUSES) else "rank"
