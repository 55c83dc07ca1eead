"""The test ground is its own test-only distribution: same version as the product, not part of it."""

from __future__ import annotations

import tomllib

import pytest

from preboarding.cli import build_parser
from preboarding.testenv.binaries import repo_root


def test_testenv_has_the_products_version() -> None:
    root = repo_root()
    product = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    testenv = tomllib.loads((root / "testenv" / "pyproject.toml").read_text())["project"]
    assert testenv["version"] == product["version"]
    assert f"preboarding=={product['version']}" in testenv["dependencies"]


def test_the_product_wheel_and_command_leave_the_test_ground_out() -> None:
    root = repo_root()
    wheel = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert not any("testenv" in path for path in wheel["only-include"])
    assert not list((root / "src" / "preboarding" / "testenv").glob("*.py"))  # a stale __pycache__ may remain
    with pytest.raises(SystemExit):
        build_parser().parse_args(["testenv", "up"])
