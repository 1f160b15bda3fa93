"""The admin for support work: a user's page shows allauth's record of their address."""

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_users_admin_page_shows_whether_the_address_is_confirmed(user):
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = admin.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert f'name="emailaddress_set-0-email" value="{user.email}"' in page
    assert 'name="emailaddress_set-0-verified"' in page
