from __future__ import annotations

import pytest

from preboarding.renderer.settings import RendererSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "SENDGRID_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "PREBOARDING_SMTP_HOST",
                 "PREBOARDING_GOOGLE_TTS_ENDPOINT", "PREBOARDING_SCRIPT_PROVIDER", "PREBOARDING_TTS_PROVIDER",
                 "PREBOARDING_MAIL_PROVIDER"):
        monkeypatch.delenv(name, raising=False)


def test_no_keys_means_offline_providers() -> None:
    s = RendererSettings()
    assert (s.chosen_script_provider(), s.chosen_tts_provider(), s.chosen_mail_provider()) == (
        "template", "flite", "outbox")


def test_keys_choose_the_real_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/var/run/secrets/google/key.json")
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.x")
    s = RendererSettings()
    assert (s.chosen_script_provider(), s.chosen_tts_provider(), s.chosen_mail_provider()) == (
        "openai", "google", "sendgrid")
    assert "sk-test" not in repr(s)  # secrets never show up in logs


def test_smtp_host_chooses_smtp_and_explicit_choice_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREBOARDING_SMTP_HOST", "127.0.0.1")
    assert RendererSettings().chosen_mail_provider() == "smtp"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("PREBOARDING_SCRIPT_PROVIDER", "template")
    assert RendererSettings().chosen_script_provider() == "template"


def test_bad_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREBOARDING_TTS_PROVIDER", "espeak")
    with pytest.raises(ValueError, match="tts_provider"):
        RendererSettings()


def test_a_bad_setting_is_a_permanent_failure_that_names_its_variable(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from preboarding.api.stages import EXIT_PERMANENT
    from preboarding.renderer.cli import _settings

    monkeypatch.setenv("PREBOARDING_SCRIPT_PROVIDER", "gpt-9")
    with pytest.raises(SystemExit) as info:
        _settings()
    assert info.value.code == EXIT_PERMANENT
    err = capsys.readouterr().err
    assert err.startswith("invalid renderer configuration:\n  PREBOARDING_SCRIPT_PROVIDER: Input should be ")
    assert "gpt-9" not in err
