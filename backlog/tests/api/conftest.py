import pytest
from rest_framework.test import APIClient

from accounts.services import token_create
from backlog.services.items import item_create

ROLES = ["owner", "developer", "delegate", "stakeholder", "outsider", "anonymous", "read_only_token"]


@pytest.fixture
def as_role(request, owner, developer, delegate, stakeholder, outsider):
    """Return an API client acting as a role, authenticated with a real personal API token."""
    users = {
        "owner": owner,
        "developer": developer,
        "delegate": delegate,
        "stakeholder": stakeholder,
        "outsider": outsider,
    }

    def client_for(role: str) -> APIClient:
        client = APIClient()
        if role == "anonymous":
            return client
        user = owner if role == "read_only_token" else users[role]
        _, raw = token_create(user=user, name=role, read_only=role == "read_only_token")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    return client_for


@pytest.fixture
def items(product, owner):
    """Three ordered stories A, B, C."""
    return [item_create(product=product, actor=owner, kind="story", title=t) for t in "ABC"]
