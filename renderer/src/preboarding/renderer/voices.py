"""Text-to-speech providers: Google Cloud Text-to-Speech and offline flite. Each returns WAV bytes."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol
from xml.sax.saxutils import escape

from preboarding.renderer.errors import PermanentFailure, RetryableFailure
from preboarding.renderer.script import Speaker
from preboarding.renderer.settings import RendererSettings

GOOGLE_VOICES: dict[Speaker, str] = {"Alex": "en-US-Neural2-J", "Jordan": "en-US-Neural2-F"}
FLITE_VOICES: dict[Speaker, str] = {"Alex": "rms", "Jordan": "slt"}
FLITE_BUILTIN = {"slt", "rms", "awb", "kal", "kal16"}
GOOGLE_SAMPLE_RATE = 24000
GOOGLE_USD_PER_MILLION_CHARS = 16.0  # Neural2 voices
SENTENCE_PAUSE_MS = 250


class Synthesizer(Protocol):
    provider: str

    def voice_for(self, speaker: Speaker, override: str | None) -> str: ...
    def synthesize(self, text: str, voice: str) -> bytes: ...


class FliteSynthesizer:
    """flite from Debian main: deterministic, ~70x realtime per CPU second, no network."""

    provider = "flite"

    def __init__(self) -> None:
        self.binary = shutil.which("flite")
        if not self.binary:
            raise PermanentFailure("the flite TTS provider needs the flite program (Debian package flite)",
                                   reason="MissingDependency")

    def voice_for(self, speaker: Speaker, override: str | None) -> str:
        return override if override in FLITE_BUILTIN else FLITE_VOICES[speaker]

    def synthesize(self, text: str, voice: str) -> bytes:
        with tempfile.TemporaryDirectory(prefix="flite-") as tmp:
            source, target = Path(tmp, "in.txt"), Path(tmp, "out.wav")
            source.write_text(text + "\n", encoding="utf-8")  # a file, so text can never be read as an option
            result = subprocess.run([self.binary or "flite", "-voice", voice, "-f", str(source), "-o", str(target)],
                                    capture_output=True, text=True, timeout=120, check=False)
            if result.returncode != 0 or not target.is_file():
                raise PermanentFailure(f"flite failed for voice {voice}: {result.stderr.strip()[:200]}",
                                       reason="SynthesisFailed")
            return target.read_bytes()


def google_language(voice: str, fallback: str) -> str:
    """``en-US-Neural2-J`` -> ``en-US``; the voice name carries its language."""
    match = re.match(r"^([a-z]{2,3}-[A-Z]{2})-", voice)
    return match.group(1) if match else fallback


def to_ssml(text: str) -> str:
    """Escaped text with a short pause after each sentence."""
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    body = f'<break time="{SENTENCE_PAUSE_MS}ms"/>'.join(escape(s) for s in sentences if s)
    return f"<speak>{body}</speak>"


class GoogleSynthesizer:
    """Google Cloud Text-to-Speech over its REST transport, 24 kHz LINEAR16 (WAV) with SSML."""

    provider = "google"

    def __init__(self, settings: RendererSettings) -> None:
        from google.api_core.client_options import ClientOptions
        from google.cloud import texttospeech

        credentials = None
        if settings.google_credentials:
            from google.oauth2 import service_account

            credentials = service_account.Credentials.from_service_account_file(
                str(settings.google_credentials), scopes=["https://www.googleapis.com/auth/cloud-platform"])
        elif settings.google_tts_endpoint:
            from google.auth.credentials import AnonymousCredentials

            credentials = AnonymousCredentials()  # a private endpoint (proxy or test server) without Google auth
        options = ClientOptions(api_endpoint=settings.google_tts_endpoint) if settings.google_tts_endpoint else None
        self._tts = texttospeech
        self._client = texttospeech.TextToSpeechClient(
            transport="rest", credentials=credentials, client_options=options)

    def voice_for(self, speaker: Speaker, override: str | None) -> str:
        return override if override and "-" in override else GOOGLE_VOICES[speaker]

    def synthesize(self, text: str, voice: str) -> bytes:
        from google.api_core import exceptions as gexc
        from google.auth import exceptions as gauth

        tts = self._tts
        try:
            response = self._client.synthesize_speech(
                input=tts.SynthesisInput(ssml=to_ssml(text)),
                voice=tts.VoiceSelectionParams(language_code=google_language(voice, "en-US"), name=voice),
                audio_config=tts.AudioConfig(audio_encoding=tts.AudioEncoding.LINEAR16,
                                             sample_rate_hertz=GOOGLE_SAMPLE_RATE),
                timeout=60,
            )
        except (gexc.ServiceUnavailable, gexc.TooManyRequests, gexc.InternalServerError,
                gexc.DeadlineExceeded, gexc.BadGateway, gexc.GatewayTimeout) as exc:
            raise RetryableFailure(f"Google TTS unavailable: {exc.message}", reason="ProviderUnavailable") from exc
        except (gexc.Unauthorized, gexc.Forbidden) as exc:  # REST raises these; gRPC their subclasses
            raise PermanentFailure(f"Google TTS refused the credentials: {exc.message}",
                                   reason="ProviderAuth") from exc
        except gauth.TransportError as exc:  # the token endpoint could not be reached
            raise RetryableFailure(f"Google credentials could not be refreshed: {exc}",
                                   reason="ProviderUnavailable") from exc
        except gauth.GoogleAuthError as exc:  # a revoked key; anonymous credentials answered with 401
            raise PermanentFailure(f"Google TTS refused the credentials: {exc}", reason="ProviderAuth") from exc
        except gexc.GoogleAPICallError as exc:
            raise PermanentFailure(f"Google TTS rejected the request: {exc.message}",
                                   reason="ProviderRejected") from exc
        except OSError as exc:  # connection refused, DNS, TLS
            raise RetryableFailure(f"Google TTS unreachable: {exc}", reason="ProviderUnavailable") from exc
        return bytes(response.audio_content)


def make_synthesizer(settings: RendererSettings) -> Synthesizer:
    if settings.chosen_tts_provider() == "google":
        return GoogleSynthesizer(settings)
    return FliteSynthesizer()
