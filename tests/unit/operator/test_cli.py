"""``preboarding operator`` start-up: bad settings are one clear message and exit code 2, not a traceback."""

from __future__ import annotations

import os
from typing import Any

import kopf
import pytest

from preboarding.cli import main
from preboarding.operator import handlers


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in [n for n in os.environ if n.startswith("PREBOARDING_")]:
        monkeypatch.delenv(name)

    def must_not_run(**_: Any) -> None:
        raise AssertionError("the operator started despite bad settings")

    monkeypatch.setattr(kopf, "run", must_not_run)
    return monkeypatch


@pytest.mark.parametrize(("variable", "value"), [
    ("PREBOARDING_JOB_BACKOFF_LIMIT", "99"),
    ("PREBOARDING_IMAGE_PULL_POLICY", "Sometimes"),
    ("PREBOARDING_S3_SECURE", "maybe"),  # the store's own settings, read from PREBOARDING_S3_*
])
def test_bad_setting_is_named_without_a_traceback(clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                  variable: str, value: str) -> None:
    clean_env.setenv(variable, value)
    assert main(["operator", "--standalone", "--metrics-port", "0", "--liveness", ""]) == 2
    err = capsys.readouterr().err
    assert err.startswith("invalid operator configuration:\n")
    assert f"  {variable}: " in err
    assert value not in err  # values can be secrets: never echoed
    assert "Traceback" not in err


def test_handlers_need_the_startup_handler_first() -> None:
    with pytest.raises(RuntimeError, match="startup handler `configure` has not run"):
        handlers.runtime()
