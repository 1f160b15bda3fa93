"""The import pages and the backlog page's export links."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from backlog.models import Import, Item
from backlog.services.items import item_create

pytestmark = pytest.mark.django_db

JIRA_SAMPLE = Path(__file__).resolve().parent / "data" / "jira_sample.csv"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_backlog_page_links_the_export_with_its_filters(product, items, owner, stakeholder):
    page = client_for(stakeholder).get(f"/p/{product.key}/?kind=story&q=A").content.decode()
    assert f"/api/v1/products/{product.key}/export/?kind=story&amp;q=A&amp;format=csv" in page
    imports = f'href="/p/{product.key}/import/"'
    assert imports not in page  # stakeholders do not import
    assert imports in client_for(owner).get(f"/p/{product.key}/").content.decode()


def test_upload_preview_confirm_and_result_through_the_pages(product, owner, django_capture_on_commit_callbacks):
    client = client_for(owner)
    assert client.get(f"/p/{product.key}/import/").status_code == 200
    upload = SimpleUploadedFile("jira.csv", JIRA_SAMPLE.read_bytes(), content_type="text/csv")
    response = client.post(f"/p/{product.key}/import/", {"file": upload, "source": "auto", "placing": "top"})
    imported = Import.objects.get()
    assert response.status_code == 302 and response.url == f"/p/{product.key}/import/{imported.pk}/"
    preview = client.get(response.url).content.decode()
    assert "10 to create" in preview and "As a shopper I can pay with a saved card" in preview
    assert f'action="/p/{product.key}/import/{imported.pk}/confirm/"' in preview
    assert not Item.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"/p/{product.key}/import/{imported.pk}/confirm/")
    assert confirmed.status_code == 302
    result = client.get(confirmed.url).content.decode()
    assert "<strong>10</strong> created" in result and "Row 2 (SHOP-1)" in result
    assert Item.objects.filter(product=product).count() == 10


def test_the_running_import_polls_its_status(product, owner):
    imported = Import.objects.create(
        product=product, created_by=owner, source="jira", state=Import.State.RUNNING, total=100, processed=40
    )
    client = client_for(owner)
    page = client.get(f"/p/{product.key}/import/{imported.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and "Checking rows: 40 of 100" in page
    fragment = client.get(f"/p/{product.key}/import/{imported.pk}/", headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<section class="card" id="import-status"')
    Import.objects.filter(pk=imported.pk).update(state=Import.State.DONE, created_count=100)
    done = client.get(f"/p/{product.key}/import/{imported.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done and "<strong>100</strong> created" in done


def test_a_file_with_errors_shows_them_by_row_and_offers_no_confirm(product, owner):
    client = client_for(owner)
    upload = SimpleUploadedFile("bad.csv", b"title,kind\nFine,story\nNo severity,defect\n")
    response = client.post(f"/p/{product.key}/import/", {"file": upload}, follow=True)
    page = response.content.decode()
    assert "A defect needs a severity" in page and "<td>3</td>" in page
    assert "/confirm/" not in page


def test_an_unreadable_file_is_refused_on_the_upload_page(product, owner):
    client = client_for(owner)
    upload = SimpleUploadedFile("latin.csv", "title,kind\nZürich,story\n".encode("latin-1"))
    response = client.post(f"/p/{product.key}/import/", {"file": upload})
    assert response.status_code == 400 and "not UTF-8" in response.content.decode()
    assert client.post(f"/p/{product.key}/import/", {}).status_code == 400
    assert not Import.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("developer", 403), ("stakeholder", 403), ("outsider", 404)])
def test_only_owners_and_delegates_reach_the_import_pages(request, product, owner, role, status):
    imported = Import.objects.create(product=product, created_by=owner, source="jira")
    client = client_for(request.getfixturevalue(role))
    assert client.get(f"/p/{product.key}/import/").status_code == status
    upload = SimpleUploadedFile("x.csv", b"title,kind\nx,story\n")
    assert client.post(f"/p/{product.key}/import/", {"file": upload}).status_code == status
    assert client.get(f"/p/{product.key}/import/{imported.pk}/").status_code == status
    assert client.post(f"/p/{product.key}/import/{imported.pk}/confirm/").status_code == status
    assert Import.objects.get(pk=imported.pk).state == Import.State.PREVIEWED
    assert Import.objects.count() == 1


def test_delegates_import_through_the_page(product, delegate):
    item_create(product=product, actor=delegate, kind="story", title="x")
    assert client_for(delegate).get(f"/p/{product.key}/import/").status_code == 200
