"""Static files: served by WhiteNoise from the apps, its index of files built once per process."""

from unittest import mock

from django.test import Client
from whitenoise.middleware import WhiteNoiseMiddleware

from config.static import StaticFilesMiddleware


def test_static_files_are_served_from_the_apps_and_the_project():
    client = Client()
    favicon = client.get("/static/favicon.svg")  # the project's static/
    assert favicon.status_code == 200
    assert favicon["Content-Type"] == "image/svg+xml"
    assert client.get("/static/admin/css/base.css").status_code == 200  # an app's, through the finders
    assert client.get("/static/no-such-file.css").status_code == 404


def test_the_index_of_static_files_is_built_once_per_process(monkeypatch):
    monkeypatch.setattr(StaticFilesMiddleware, "_indexes", {})
    with mock.patch.object(
        WhiteNoiseMiddleware,
        "add_files_from_finders",
        autospec=True,
        side_effect=WhiteNoiseMiddleware.add_files_from_finders,
    ) as index:
        first = StaticFilesMiddleware(get_response=lambda request: None)
        second = StaticFilesMiddleware(get_response=lambda request: None)
    assert index.call_count == 1
    assert "/static/favicon.svg" in first.files
    assert first.files.keys() == second.files.keys()
    assert second.files["/static/favicon.svg"] is first.files["/static/favicon.svg"]


def test_with_autorefresh_nothing_is_indexed_up_front(settings, monkeypatch):
    settings.WHITENOISE_AUTOREFRESH = True
    monkeypatch.setattr(StaticFilesMiddleware, "_indexes", {})
    middleware = StaticFilesMiddleware(get_response=lambda request: None)
    assert middleware.files == {}
    assert StaticFilesMiddleware._indexes == {}
