"""The browser fixtures of refinement's browser tests (a real Chromium against the live server)."""

from refinement.tests.browser.conftest import chromium, page_as, pytest_collection_modifyitems

__all__ = ["chromium", "page_as", "pytest_collection_modifyitems"]
