from django import forms

from service.models import Queue
from service.priority import LEVELS

LEVEL_CHOICES = [(level, level.title()) for level in LEVELS]


class IntakeForm(forms.Form):
    """A member's service ticket: what the intake API takes."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000)
    queue = forms.ModelChoiceField(queryset=Queue.objects.none(), to_field_name="slug", empty_label=None)
    affected_users = forms.IntegerField(
        min_value=0, max_value=2_000_000_000, initial=1, help_text="How many users it affects."
    )
    urgency = forms.ChoiceField(choices=LEVEL_CHOICES, initial="medium", help_text="How soon it hurts.")
    impact = forms.ChoiceField(
        choices=[("", "From affected users"), *LEVEL_CHOICES],
        required=False,
        help_text="Leave it to be derived from affected users by the product's thresholds.",
    )
    reporter = forms.CharField(required=False, max_length=200, help_text="Who reported it (name or e-mail).")
    external_ref = forms.CharField(required=False, max_length=200, label="External reference")
    fingerprint = forms.CharField(
        required=False,
        max_length=200,
        help_text="What makes two tickets the same problem: a ticket with an open one's fingerprint joins it.",
    )

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.filter(product=product).order_by("name")
