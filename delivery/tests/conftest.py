from datetime import date

import pytest

from backlog.services.items import item_create
from delivery.services.settings import delivery_settings_update
from delivery.services.sprints import sprint_create


@pytest.fixture
def make_item(product, owner):
    """Create an ordered item at the bottom: ``make_item("tech_debt", 3)``."""
    extra = {
        "defect": {"severity": "minor"},
        "tech_debt": {"interest_hours": 1},
        "spike": {"timebox_days": 1, "question": "Which?"},
        "operational": {"impact": "low", "urgency": "low"},
    }

    def make(kind: str = "story", estimate: int | None = 3, title: str = ""):
        return item_create(
            product=product,
            actor=owner,
            kind=kind,
            title=title or f"{kind} {estimate}",
            estimate=estimate,
            **extra.get(kind, {}),
        )

    return make


@pytest.fixture
def sprint(product, owner):
    return sprint_create(
        product=product, actor=owner, start_date=date(2026, 1, 5), end_date=date(2026, 1, 16), capacity=10
    )


@pytest.fixture
def allocation(product, owner):
    def set_shares(**shares):
        return delivery_settings_update(product=product, actor=owner, changes=shares)

    return set_shares
