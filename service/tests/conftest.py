import pytest

from service.tests.factories import QueueFactory


@pytest.fixture
def queue(product, owner):
    return QueueFactory(product=product, owner=owner, slug="database", name="Database")


@pytest.fixture
def intake(product, owner, queue):
    """Send one ticket through intake as the owner; keyword arguments override the defaults."""
    from service.services.tickets import ticket_intake

    def send(**fields):
        chosen = fields.pop("queue", queue)
        data = {"title": "Database slow", "urgency": "medium", "affected_users": 10, **fields}
        return ticket_intake(product=product, sender=owner, queue=chosen, **data)

    return send
