# The real Chromium and the signed-in page fixture, as the other browser tests use them.
from refinement.tests.browser.conftest import chromium, page_as, pytest_collection_modifyitems  # noqa: F401
