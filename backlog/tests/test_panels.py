"""The item page's panel registry (backlog.panels), and the layering it keeps: backlog imports no
app above it, and no view module imports another app's view module."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

from backlog import panels
from backlog.panels import ITEM_PANELS, ItemPanel, item_panel_register, item_panels

ROOT = Path(settings.BASE_DIR)
APPS = ("accounts", "backlog", "notifications", "refinement", "delivery", "service", "webhooks")
ABOVE = {
    "accounts": APPS[1:],
    "backlog": APPS[2:],
    "notifications": APPS[3:],
    "refinement": ("service", "webhooks"),
    "delivery": ("webhooks",),
    "service": ("webhooks",),
}


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def test_the_apps_above_backlog_register_their_panels():
    # Backlog's own links panel first (its AppConfig is ready first), then the apps above.
    assert [(panel.name, panel.slot) for panel in ITEM_PANELS] == [
        ("links", "main"),
        ("watch", "actions"),
        ("split", "actions"),
        ("questions", "main"),
        ("comments", "main"),
        ("delivery", "side"),
    ]


def test_a_panel_registered_again_replaces_itself_and_an_unknown_slot_is_refused(monkeypatch):
    monkeypatch.setattr(panels, "ITEM_PANELS", [])
    item_panel_register(ItemPanel("extra", "side", "one.html"))
    item_panel_register(ItemPanel("extra", "main", "two.html", lambda **_: {"n": 1}))
    assert item_panels(item=None, user=None, actions=frozenset()) == {
        "actions": [],
        "main": [{"template": "two.html", "context": {"n": 1}}],
        "side": [],
    }
    with pytest.raises(ValueError, match="Unknown item-page slot"):
        ItemPanel("bad", "footer", "bad.html")


@pytest.mark.parametrize("app", list(ABOVE))
def test_an_app_imports_no_app_above_it(app):
    for path in (ROOT / app).rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        above = {module for module in imported_modules(path) if module.split(".")[0] in ABOVE[app]}
        assert not above, f"{path.relative_to(ROOT)} imports {sorted(above)}"


def test_no_view_module_imports_another_apps_view_module():
    for app in APPS:
        for path in [*(ROOT / app).glob("views.py"), *(ROOT / app).glob("api/views.py")]:
            views = {
                module
                for module in imported_modules(path)
                if module.split(".")[0] in APPS and module.split(".")[0] != app and module.endswith("views")
            }
            assert not views, f"{path.relative_to(ROOT)} imports {sorted(views)}"
