"""Security headers: a Content-Security-Policy on every page with no inline script or style in
any template, and HSTS and the proxy's HTTPS header in production settings."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates"] + [
    Path(settings.BASE_DIR) / app / "templates" for app in ("accounts", "backlog", "refinement")
]
INLINE = {
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE),
    "event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE),
}


def _templates() -> list[Path]:
    return sorted(path for folder in TEMPLATE_DIRS if folder.exists() for path in folder.rglob("*.html"))


def test_no_template_has_inline_script_or_style():
    found = [
        f"{path.relative_to(settings.BASE_DIR)}: {what}"
        for path in _templates()
        for what, pattern in INLINE.items()
        if pattern.search(re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", path.read_text(), flags=re.S))
    ]
    assert len(_templates()) >= 15
    assert found == []


def test_the_scan_finds_what_it_looks_for():
    samples = ('<div style="x">', "<style>", "<script>alert(1)</script>", '<a onclick="x">', '<a href="javascript:x">')
    for sample in samples:
        assert any(pattern.search(sample) for pattern in INLINE.values()), sample
    assert not any(pattern.search('<script src="/static/js/app.js" defer></script>') for pattern in INLINE.values())


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/me/",
        "/p/{key}/",
        "/p/{key}/1/",
        "/p/{key}/review/",
        "/api/docs/",
        "/p/NONE/",
    ],
)
def test_every_page_carries_the_policy(client, owner, product, items, path):
    if not path.startswith("/accounts/"):  # signed in, the sign-in and sign-up pages send you home
        client.force_login(owner)
    response = client.get(path.format(key=product.key))
    assert response.status_code in (200, 404)
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)


def test_the_api_docs_run_without_inline_code(client):
    page = client.get("/api/docs/").content.decode()
    assert not INLINE["inline script"].search(page) and not INLINE["style element"].search(page)
    script = re.search(r'<script src="([^"]*\?script[^"]*)"', page).group(1)
    response = client.get(script)
    assert response.status_code == 200 and "SwaggerUIBundle" in response.content.decode()


HTTPS_SETTINGS = (
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
)


def _production_settings(names: tuple[str, ...] = HTTPS_SETTINGS, **env: str) -> dict:
    environment = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "s" * 50,
        "ALLOWED_HOSTS": "backlog.example.com",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **env,
    }
    code = f"from django.conf import settings as s; print(repr({{name: getattr(s, name, None) for name in {names!r}}}))"
    output = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code], env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    )
    return eval(output.stdout)  # noqa: S307 - our own repr of a dict of settings


def test_production_settings_turn_on_hsts_and_trust_the_proxy_header():
    assert _production_settings() == {
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "SECURE_SSL_REDIRECT": True,
    }
    configured = _production_settings(SECURE_HSTS_SECONDS="600", SECURE_PROXY_SSL_HEADER="", SECURE_SSL_REDIRECT="0")
    assert configured["SECURE_HSTS_SECONDS"] == 600
    assert configured["SECURE_PROXY_SSL_HEADER"] is None and configured["SECURE_SSL_REDIRECT"] is False


def test_production_settings_take_sign_ups_by_invitation_and_confirm_addresses():
    names = ("SIGNUP", "ACCOUNT_EMAIL_VERIFICATION", "ACCOUNT_DEFAULT_HTTP_PROTOCOL")
    assert _production_settings(names) == {
        "SIGNUP": "invitation",
        "ACCOUNT_EMAIL_VERIFICATION": "mandatory",
        "ACCOUNT_DEFAULT_HTTP_PROTOCOL": "https",
    }
    configured = _production_settings(names, SIGNUP="open", EMAIL_VERIFICATION="optional")
    assert (configured["SIGNUP"], configured["ACCOUNT_EMAIL_VERIFICATION"]) == ("open", "optional")
    with pytest.raises(subprocess.CalledProcessError) as refused:
        _production_settings(names, EMAIL_VERIFICATION="sometimes")
    assert "EMAIL_VERIFICATION is 'optional', 'mandatory' or 'none'." in refused.value.stderr
