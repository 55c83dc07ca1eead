"""Google Cloud Text-to-Speech against a real HTTP server speaking its v1 REST protocol, through the official client."""

from __future__ import annotations

import datetime as dt
import io
import wave
from typing import Any

import pytest

from preboarding.api.models import OnboardingVideoSpec
from preboarding.renderer import audio
from preboarding.renderer.errors import PermanentFailure, RetryableFailure
from preboarding.renderer.script import LINE_PAUSE_SECONDS, SECTION_PAUSE_SECONDS, Line, Script
from preboarding.renderer.settings import RendererSettings
from preboarding.renderer.voices import GOOGLE_SAMPLE_RATE, GoogleSynthesizer, to_ssml
from preboarding.testenv.processes import free_port
from tests.protocol_servers import GoogleTTSServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def synthesizer(server: GoogleTTSServer | None = None, endpoint: str | None = None) -> GoogleSynthesizer:
    settings = RendererSettings(tts_provider="google", google_credentials=None,
                                google_tts_endpoint=endpoint or (server.url if server else None))
    return GoogleSynthesizer(settings)


def wav_info(data: bytes) -> tuple[int, int, int, int]:
    """(channels, sample width, rate, frames) of a WAV file."""
    with wave.open(io.BytesIO(data)) as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()


def server_frames(server: GoogleTTSServer, text: str) -> int:
    """Frames of audio the server returns for ``text`` as the synthesizer sends it (SSML, 24 kHz)."""
    return round(server.duration_for(ssml=to_ssml(text)) * GOOGLE_SAMPLE_RATE)


def spec_with_voices(alex: str | None, jordan: str | None) -> OnboardingVideoSpec:
    return OnboardingVideoSpec.model_validate({
        "employee": {"id": "E-1", "name": "Priya Raman", "email": "priya@example.com", "role": "Engineer",
                     "start_date": dt.date(2026, 12, 7)},
        "company": {"name": "Northwind Labs"},
        "voices": {"alex": alex, "jordan": jordan},
    })


# --- one line -----------------------------------------------------------------------------------------------------


def test_synthesize_returns_wav_of_the_servers_duration(google_tts_server: GoogleTTSServer) -> None:
    text = "Hi Priya! Welcome to Northwind Labs. We are glad you are here."
    synth = synthesizer(google_tts_server)

    wav = synth.synthesize(text, "en-US-Neural2-J")

    channels, width, rate, frames = wav_info(wav)
    assert (channels, width, rate) == (1, 2, 24000)
    assert frames == server_frames(google_tts_server, text)
    seconds = google_tts_server.duration_for(ssml=to_ssml(text))
    assert frames / rate == pytest.approx(seconds, abs=1 / rate)
    # Two sentence breaks of 250 ms are part of that duration.
    assert seconds == pytest.approx(google_tts_server.duration_for(text) + 0.5)


def test_the_request_carries_voice_language_encoding_rate_and_ssml(google_tts_server: GoogleTTSServer) -> None:
    synth = synthesizer(google_tts_server)

    synth.synthesize("Welcome to R&D <team>. See you soon!", "en-US-Neural2-J")

    [request] = google_tts_server.requests
    assert (request.method, request.path) == ("POST", "/v1/text:synthesize")
    assert request.header("authorization") is None  # anonymous credentials for a private endpoint
    body = request.json
    assert body["voice"] == {"languageCode": "en-US", "name": "en-US-Neural2-J"}
    assert body["audioConfig"]["audioEncoding"] == "LINEAR16"
    assert body["audioConfig"]["sampleRateHertz"] == 24000
    ssml = body["input"]["ssml"]
    assert "text" not in body["input"]
    assert ssml == '<speak>Welcome to R&amp;D &lt;team&gt;.<break time="250ms"/>See you soon!</speak>'
    assert "<team>" not in ssml and "R&D" not in ssml


@pytest.mark.parametrize(("speaker", "voice"), [("Alex", "en-US-Neural2-J"), ("Jordan", "en-US-Neural2-F")])
def test_default_voices(google_tts_server: GoogleTTSServer, speaker: Any, voice: str) -> None:
    synth = synthesizer(google_tts_server)

    chosen = synth.voice_for(speaker, None)
    synth.synthesize("Hello.", chosen)

    assert chosen == voice
    assert google_tts_server.synthesis_requests[0]["voice"] == {"languageCode": "en-US", "name": voice}


def test_voice_overrides_from_the_spec_are_used(google_tts_server: GoogleTTSServer) -> None:
    spec = spec_with_voices("en-GB-Neural2-B", "de-DE-Neural2-B")
    synth = synthesizer(google_tts_server)
    overrides = {"Alex": spec.voices.alex, "Jordan": spec.voices.jordan}
    voices = {speaker: synth.voice_for(speaker, overrides[speaker]) for speaker in ("Alex", "Jordan")}  # type: ignore[arg-type]

    for speaker in ("Alex", "Jordan"):
        synth.synthesize(f"I am {speaker}.", voices[speaker])

    assert voices == {"Alex": "en-GB-Neural2-B", "Jordan": "de-DE-Neural2-B"}
    assert [r["voice"] for r in google_tts_server.synthesis_requests] == [
        {"languageCode": "en-GB", "name": "en-GB-Neural2-B"},
        {"languageCode": "de-DE", "name": "de-DE-Neural2-B"},
    ]


def test_a_flite_voice_name_falls_back_to_the_google_default(google_tts_server: GoogleTTSServer) -> None:
    synth = synthesizer(google_tts_server)
    assert synth.voice_for("Alex", "rms") == "en-US-Neural2-J"
    assert synth.voice_for("Jordan", "") == "en-US-Neural2-F"


# --- errors -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [503, 429, 500])
def test_unavailable_is_retryable(google_tts_server: GoogleTTSServer, status: int) -> None:
    google_tts_server.fail_next(status)
    synth = synthesizer(google_tts_server)

    with pytest.raises(RetryableFailure) as failure:
        synth.synthesize("Hello.", "en-US-Neural2-J")

    assert failure.value.reason == "ProviderUnavailable"
    assert len(google_tts_server.requests) == 1  # no retry inside: the Job's backoff decides


# Over REST, 401/403 arrive as api_core's Unauthorized/Forbidden (not the gRPC subclasses), and a 401
# first makes google-auth try to refresh the credentials, which raises google.auth's own error.
@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_permanent(google_tts_server: GoogleTTSServer, status: int) -> None:
    google_tts_server.fail_next(status, message="The caller does not have permission")
    synth = synthesizer(google_tts_server)

    with pytest.raises(PermanentFailure) as failure:
        synth.synthesize("Hello.", "en-US-Neural2-J")

    assert failure.value.reason == "ProviderAuth"
    assert len(google_tts_server.requests) == 1


def test_forbidden_is_at_least_permanent(google_tts_server: GoogleTTSServer) -> None:
    google_tts_server.fail_next(403, message="The caller does not have permission")
    synth = synthesizer(google_tts_server)

    with pytest.raises(PermanentFailure) as failure:
        synth.synthesize("Hello.", "en-US-Neural2-J")

    assert "The caller does not have permission" in str(failure.value)
    assert len(google_tts_server.requests) == 1


def test_a_rejected_request_is_permanent(google_tts_server: GoogleTTSServer) -> None:
    synth = synthesizer(google_tts_server)

    with pytest.raises(PermanentFailure) as failure:
        synth.synthesize("x" * 6000, "en-US-Neural2-J")  # over the API's 5000-byte input limit

    assert failure.value.reason == "ProviderRejected"
    assert "5000 bytes" in str(failure.value)


def test_a_dropped_connection_is_retryable(google_tts_server: GoogleTTSServer) -> None:
    google_tts_server.drop_next()
    synth = synthesizer(google_tts_server)

    with pytest.raises(RetryableFailure) as failure:
        synth.synthesize("Hello.", "en-US-Neural2-J")

    assert failure.value.reason == "ProviderUnavailable"


def test_an_unreachable_endpoint_is_retryable() -> None:
    synth = synthesizer(endpoint=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(RetryableFailure) as failure:
        synth.synthesize("Hello.", "en-US-Neural2-J")

    assert failure.value.reason == "ProviderUnavailable"


# --- the audio step -----------------------------------------------------------------------------------------------


def test_the_audio_step_times_every_segment_from_the_wav_frames(google_tts_server: GoogleTTSServer) -> None:
    script = Script(title="Welcome!", lines=[
        Line(speaker="Alex", section="welcome", text="Hi Priya! Welcome to Northwind Labs."),
        Line(speaker="Jordan", section="welcome", text="You start on Monday."),
        Line(speaker="Alex", section="team", text="Marcus is your manager. Lena is your buddy, ask her anything."),
        Line(speaker="Jordan", section="week", text="Monday is laptop pickup."),
        Line(speaker="Jordan", section="week", text="Tuesday you pair with Lena on R&D <tickets>."),
        Line(speaker="Alex", section="farewell", text="See you soon!"),
    ])
    synth = synthesizer(google_tts_server)
    overrides: dict[str, str | None] = {"Alex": None, "Jordan": "en-GB-Neural2-A"}
    voices = {speaker: synth.voice_for(speaker, overrides[speaker]) for speaker in ("Alex", "Jordan")}  # type: ignore[arg-type]

    clips = audio.synthesize_lines(script, synth, voices, concurrency=4)
    timeline, pcm = audio.build_timeline(script, clips, voices)

    rate = GOOGLE_SAMPLE_RATE
    assert pcm.rate == rate
    # Clips come back in script order whatever order the parallel requests finished in.
    assert [len(c.frames) // 2 for c in clips] == [server_frames(google_tts_server, x.text) for x in script.lines]
    assert sorted(r["input"]["ssml"] for r in google_tts_server.synthesis_requests) == sorted(
        to_ssml(x.text) for x in script.lines)

    # Expected positions, in frames: lead-in, clip, pause (longer between sections), clip, ..., tail.
    frames = round(audio.LEAD_IN_SECONDS * rate)
    expected = []
    for i, line in enumerate(script.lines):
        if i:
            same = line.section == script.lines[i - 1].section
            frames += round((LINE_PAUSE_SECONDS if same else SECTION_PAUSE_SECONDS) * rate)
        start = frames
        frames += server_frames(google_tts_server, line.text)
        expected.append((i, line.speaker, line.section, line.text, voices[line.speaker],
                         round(start / rate, 3), round(frames / rate, 3)))
    frames += round(audio.TAIL_SECONDS * rate)

    assert [(s.index, s.speaker, s.section, s.text, s.voice, s.start, s.end) for s in timeline.segments] == expected
    assert len(pcm.frames) // 2 == frames
    assert timeline.duration == round(frames / rate, 3)
    assert timeline.segments[0].start == audio.LEAD_IN_SECONDS
    assert {s.voice for s in timeline.segments} == {"en-US-Neural2-J", "en-GB-Neural2-A"}
    # The timeline survives its JSON round trip (compose reads it from the store).
    assert audio.Timeline.from_json(timeline.to_json()) == timeline
