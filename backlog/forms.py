"""Forms of the backlog pages. They only shape input; the services decide what is allowed."""

from django import forms

from accounts.permissions import Action
from backlog.models import Item, Theme
from backlog.services.items import (
    ORDER_FIELDS,
    PLANNING_FIELDS,
    VALUE_CASE,
    VALUE_FIELDS,
    WORK_FIELDS,
    one_line_ending,
    settable_fields,
)
from config.numbers import whole_number

# Fieldsets of the item form: (legend, fields, the kinds they belong to or None for all).
FIELDSETS = [
    ("The work", ("kind", "title", "description", "acceptance_criteria", "estimate", "external_ref"), None),
    ("Defect", ("severity",), (Item.Kind.DEFECT,)),
    ("Technical debt", ("interest_hours",), (Item.Kind.TECH_DEBT,)),
    ("Spike", ("timebox_days", "question"), (Item.Kind.SPIKE,)),
    ("Operational", ("impact", "urgency"), (Item.Kind.OPERATIONAL,)),
    ("Value case", VALUE_CASE, None),
    ("Value", VALUE_FIELDS, None),
    ("Order", ORDER_FIELDS, None),
    ("Theme", PLANNING_FIELDS, None),
]


class ItemForm(forms.ModelForm):
    """Create or edit an item with the fields the user may set (``actions``)."""

    labels = forms.CharField(required=False, help_text="Comma-separated, for example: payments, ux")

    class Meta:
        model = Item
        fields = [*WORK_FIELDS, *VALUE_FIELDS, *ORDER_FIELDS, *PLANNING_FIELDS]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "acceptance_criteria": forms.Textarea(attrs={"rows": 4}),
            "question": forms.Textarea(attrs={"rows": 2}),
            "value_beneficiaries": forms.Textarea(attrs={"rows": 2}),
            "value_cost_of_delay": forms.Textarea(attrs={"rows": 2}),
            "value_risk_removed": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, actions: frozenset, creating: bool, product=None, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = settable_fields(actions, creating=creating)
        if "theme" in self.fields:
            product_id = product.pk if product is not None else self.instance.product_id
            self.fields["theme"].queryset = Theme.objects.filter(product_id=product_id)
            self.fields["theme"].empty_label = "No theme"
        for name in list(self.fields):
            if name != "labels" and name not in allowed:
                del self.fields[name]
        if Action.EDIT_WORK not in actions:
            self.fields.pop("labels", None)
        for name in ("title", "kind"):
            if name in self.fields:
                self.fields[name].required = True
        if self.instance.pk and "labels" in self.fields:
            self.initial["labels"] = ", ".join(sorted(self.instance.labels.values_list("name", flat=True)))

    technical_kinds = " ".join(Item.TECHNICAL_KINDS)  # their proposals carry a value case (static/js/app.js)

    def fieldsets(self):
        """(legend, bound fields, kinds) for the template, leaving out empty sets."""
        for legend, names, kinds in FIELDSETS:
            bound = [self[name] for name in names if name in self.fields]
            if bound:
                yield legend, bound, " ".join(kinds) if kinds else ""

    def _post_clean(self):
        """The services validate the item (with the user's rights); the form does not."""

    def clean(self):
        cleaned = super().clean()
        for name, value in cleaned.items():
            if isinstance(value, str):
                cleaned[name] = one_line_ending(value)
        return cleaned

    def changes(self) -> dict:
        """The fields to save: on an edit only those the user changed, so an untouched text that
        the browser sends back (with CR LF line ends, stripped) is not recorded as edited."""
        data = {name: value for name, value in self.cleaned_data.items() if name != "labels"}
        for name, value in data.items():
            if value is None and isinstance(self.fields[name], forms.CharField):
                data[name] = ""
        if self.instance.pk:
            data = {name: value for name, value in data.items() if not self._unchanged(name, value)}
        return data

    def _unchanged(self, name: str, value) -> bool:
        before = self.initial.get(name)
        if isinstance(value, str) and isinstance(before, str):
            # The form strips what is typed: stored text with a trailing newline is the same text.
            return one_line_ending(before).strip() == value
        return before == value

    def label_names(self) -> list[str] | None:
        if "labels" not in self.fields:
            return None
        return [name.strip() for name in self.cleaned_data.get("labels", "").split(",") if name.strip()]


class SplitForm(forms.Form):
    parts = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One part per line, in the order they take: a title, optionally followed by | and an estimate.",
    )
    keep_original = forms.BooleanField(required=False, help_text="Keep the original after its parts.")

    def cleaned_parts(self) -> list[dict]:
        parts = []
        for line in self.cleaned_data["parts"].splitlines():
            if not line.strip():
                continue
            title, _, estimate = line.partition("|")
            part = {"title": title.strip()}
            if estimate.strip():
                points = whole_number(estimate, high=32767)
                if points is None:
                    raise forms.ValidationError(f"“{estimate.strip()[:20]}” is not a whole number of points.")
                part["estimate"] = points
            parts.append(part)
        return parts
