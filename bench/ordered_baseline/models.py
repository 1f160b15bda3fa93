from django.db import models
from ordered_model.models import OrderedModel


class OrderedRow(OrderedModel):
    """One row of a list ordered by an integer position: a move renumbers the rows it passes."""

    title = models.CharField(max_length=100)

    class Meta(OrderedModel.Meta):
        pass
