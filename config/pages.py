"""What every app's pages share: a refused change told to the person as a message."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


def show_errors(request: HttpRequest, invalid: ValidationError) -> None:
    """Every message of ``invalid`` in one error message, shown on the next page."""
    messages.error(request, " ".join(invalid.messages))
