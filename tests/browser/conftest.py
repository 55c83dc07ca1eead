"""The browser tests are integration tests; their fixtures are in ``fixtures.py`` (a plugin of tests/conftest.py,
so the watch page's test under tests/integration/bridge uses the same browser, axe-core and screenshots)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests under tests/browser are integration tests (a real browser) unless they say otherwise.
    for item in items:
        if HERE in item.path.parents and not any(item.iter_markers(name="unit")):
            item.add_marker(pytest.mark.integration)
