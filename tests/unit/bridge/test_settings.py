"""BridgeSettings from the environment, and the start-up error a person reads."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from preboarding.api.fields import describe_settings_error
from preboarding.bridge import cli
from preboarding.bridge.settings import BridgeSettings

from .conftest import OLD_SECRET, SECRET


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import os

    for key in list(os.environ):
        if key.startswith("PREBOARDING_"):
            monkeypatch.delenv(key)
    # The CLI configures the root logger; give pytest's back afterwards.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_comma_separated_lists_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREBOARDING_NAMESPACE", "people-ops")
    monkeypatch.setenv("PREBOARDING_WEBHOOK_SECRETS", f"{SECRET}, {OLD_SECRET}")
    monkeypatch.setenv("PREBOARDING_BEARER_TOKENS", "token-one-0123456789,token-two-0123456789")
    monkeypatch.setenv("PREBOARDING_CORS_ORIGINS", "https://hr.example.com,http://localhost:3000")
    monkeypatch.setenv("PREBOARDING_MAX_BODY_BYTES", "65536")
    monkeypatch.setenv("PREBOARDING_RATE_LIMIT_PER_MINUTE", "0")
    monkeypatch.setenv("PREBOARDING_DEV_OUTPUT_ENABLED", "true")
    monkeypatch.setenv("PREBOARDING_PUBLIC_URL", "https://onboarding.example.com")
    monkeypatch.setenv("PREBOARDING_S3_BUCKET", "videos")
    s = BridgeSettings()
    assert s.namespace == "people-ops"
    assert len(s.secret_keys()) == 2
    assert s.tokens() == ["token-one-0123456789", "token-two-0123456789"]
    assert s.cors_origins == ["https://hr.example.com", "http://localhost:3000"]
    assert (s.max_body_bytes, s.rate_limit_per_minute, s.dev_output_enabled) == (65536, 0, True)
    assert str(s.public_url) == "https://onboarding.example.com/"
    assert s.store.bucket == "videos"


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREBOARDING_WEBHOOK_SECRETS", SECRET)
    s = BridgeSettings()
    assert s.max_body_bytes == 256 * 1024
    assert s.cors_origins == [] and s.bearer_tokens == [] and not s.dev_output_enabled
    assert s.public_url is None


def errors_of(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for key, value in env.items():
        monkeypatch.setenv(f"PREBOARDING_{key}", value)
    with pytest.raises(ValidationError) as info:
        BridgeSettings()
    return describe_settings_error(info.value, "bridge")


def test_no_authentication_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "no authentication configured" in errors_of(monkeypatch)


def test_bad_values_are_named_and_secrets_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    message = errors_of(monkeypatch, WEBHOOK_SECRETS=f"{SECRET},whsec_sup3r-s3cret!!", NAMESPACE="Bad_NS",
                        BEARER_TOKENS="short-tok", MAX_BODY_BYTES="12", CORS_ORIGINS="https://x.example/path")
    assert "PREBOARDING_WEBHOOK_SECRETS: entry 2" in message
    assert "PREBOARDING_NAMESPACE" in message
    assert "PREBOARDING_BEARER_TOKENS: entry 1" in message
    assert "PREBOARDING_MAX_BODY_BYTES" in message
    assert "PREBOARDING_CORS_ORIGINS" in message
    assert "sup3r-s3cret" not in message and "short-tok" not in message


def test_cli_check_config(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    monkeypatch.setenv("PREBOARDING_WEBHOOK_SECRETS", SECRET)
    args = parser.parse_args(["bridge", "--check-config", "--log-format", "text"])
    assert args.handler(args) == 0
    assert "configuration OK" in capsys.readouterr().out


def test_cli_refuses_bad_config_with_exit_2(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    monkeypatch.setenv("PREBOARDING_WEBHOOK_SECRETS", "whsec_not base64 at all")
    args = parser.parse_args(["bridge", "--log-format", "text"])
    assert args.handler(args) == 2
    err = capsys.readouterr().err
    assert "PREBOARDING_WEBHOOK_SECRETS: entry 1" in err
    assert "not base64 at all" not in err


def test_the_preboarding_command_has_the_bridge_subcommand() -> None:
    from preboarding.cli import build_parser

    args = build_parser().parse_args(["bridge", "--host", "127.0.0.1", "--port", "9999"])
    assert (args.host, args.port) == ("127.0.0.1", 9999)
