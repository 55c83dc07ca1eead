"""Google Cloud Text-to-Speech v1 over real HTTP (the REST transport), returning real WAV audio.

Client construction that works (google-cloud-texttospeech 2.x on google-api-core 2.x)::

    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import texttospeech

    client = texttospeech.TextToSpeechClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=server.url),  # "http://127.0.0.1:<port>"
    )

Why ``http://`` works: the generated ``_BaseTextToSpeechRestTransport.__init__`` (``transports/rest_base.py``)
matches the host against ``^(?P<scheme>http(?:s)?://)?(?P<host>.*)$`` and only prefixes its ``url_scheme``
argument (default ``"https"``) when the endpoint has *no* scheme, so an ``api_endpoint`` that already starts with
``http://`` is used verbatim; and ``transports/base.py`` only appends ``:443`` when the host has no ``:``. The
equivalent explicit form is ``TextToSpeechRestTransport(host="127.0.0.1:<port>", url_scheme="http",
credentials=AnonymousCredentials())`` passed as ``transport=`` (credentials then go to the transport, not the
client). ``AnonymousCredentials`` sends no ``Authorization`` header and needs no token endpoint. The gRPC transport
is not served. ``synthesize_speech`` has no default retry in the generated client, so a scripted 503 surfaces at
once as ``google.api_core.exceptions.ServiceUnavailable`` (429 -> ``TooManyRequests``, 400 -> ``BadRequest``).

What it speaks:

* ``POST /v1/text:synthesize`` with ``{"input": {"text"|"ssml"}, "voice": {"languageCode", "name"?},
  "audioConfig": {"audioEncoding", "sampleRateHertz"?, "speakingRate"?, ...}}`` -> ``{"audioContent": base64}``.
  Enums are accepted as names (what the client sends) or numbers.
* ``LINEAR16`` returns a WAV file (RIFF header, mono, 16-bit PCM, ``sampleRateHertz`` or 24000 Hz) holding a quiet
  440 Hz tone -- not silence, so loudness checks behave -- whose length is ``ms_per_character`` (65 ms) per spoken
  character divided by ``speakingRate``, plus any SSML ``<break time="...">``; ``server.duration_for()`` computes
  it. Other encodings get 400 ``INVALID_ARGUMENT`` ("unsupported in test server").
* Validation as the API does it: exactly one of ``input.text``/``input.ssml``, at most 5000 bytes; a
  ``voice.languageCode``; an ``audioEncoding``; ``speakingRate`` in [0.25, 2.0].
* ``GET /v1/voices`` lists a few voices.
* Errors in Google's shape ``{"error": {"code", "message", "status"}}``: ``fail_next(503)`` UNAVAILABLE,
  ``fail_next(429)`` RESOURCE_EXHAUSTED, ``fail_next(400)`` INVALID_ARGUMENT, etc.
* Optional API-key check: set ``server.api_key`` and the request must carry ``x-goog-api-key`` (or ``?key=``).
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
import sys
import wave
from array import array
from typing import Any, ClassVar

from .base import ProtocolServer, RecordedRequest, Reply

SYNTHESIZE_PATH = "/v1/text:synthesize"
VOICES_PATH = "/v1/voices"

DEFAULT_SAMPLE_RATE_HZ = 24000
MAX_INPUT_BYTES = 5000
TONE_HZ = 440.0
TONE_AMPLITUDE = 0.1  # of full scale: audible but quiet

# google.rpc.Code names by HTTP status, as in Google's JSON error bodies.
_STATUS_NAMES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_DEFAULT_MESSAGES: dict[int, str] = {
    429: "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
    504: "Deadline exceeded.",
}

# AudioEncoding enum values, for clients that send numbers.
_ENCODINGS_BY_NUMBER = {
    0: "AUDIO_ENCODING_UNSPECIFIED",
    1: "LINEAR16",
    2: "MP3",
    3: "OGG_OPUS",
    5: "MULAW",
    6: "ALAW",
    7: "PCM",
    8: "M4A",
}

_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<break\b([^>]*)/?>", re.IGNORECASE)
_BREAK_TIME = re.compile(r"""time\s*=\s*["']\s*([\d.]+)\s*(ms|s)\s*["']""", re.IGNORECASE)
_BREAK_WITHOUT_TIME_S = 0.3

DEFAULT_VOICES: list[dict[str, Any]] = [
    {"languageCodes": ["en-US"], "name": "en-US-Neural2-C", "ssmlGender": "FEMALE", "naturalSampleRateHertz": 24000},
    {"languageCodes": ["en-US"], "name": "en-US-Neural2-D", "ssmlGender": "MALE", "naturalSampleRateHertz": 24000},
    {"languageCodes": ["de-DE"], "name": "de-DE-Neural2-B", "ssmlGender": "MALE", "naturalSampleRateHertz": 24000},
]


def google_error(status: int, message: str) -> dict[str, Any]:
    """Google's JSON error body for an HTTP status."""
    return {"error": {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "UNKNOWN")}}


def spoken_text_and_pauses(input_: dict[str, Any]) -> tuple[str, float]:
    """The characters that would be spoken, and the seconds of explicit SSML pauses, for a synthesis input."""
    if "ssml" in input_:
        ssml = str(input_["ssml"])
        pauses = 0.0
        for match in _BREAK.finditer(ssml):
            time_match = _BREAK_TIME.search(match.group(1))
            if time_match is None:
                pauses += _BREAK_WITHOUT_TIME_S
            else:
                value = float(time_match.group(1))
                pauses += value / 1000 if time_match.group(2).lower() == "ms" else value
        text = html.unescape(_TAG.sub(" ", ssml))
        return " ".join(text.split()), pauses
    return str(input_.get("text", "")), 0.0


def render_tone_wav(duration_s: float, sample_rate_hz: int) -> bytes:
    """A mono 16-bit PCM WAV file of ``duration_s`` seconds holding a quiet 440 Hz sine tone."""
    frames = max(0, round(duration_s * sample_rate_hz))
    amplitude = TONE_AMPLITUDE * 32767
    step = 2 * math.pi * TONE_HZ / sample_rate_hz
    samples = array("h", (int(amplitude * math.sin(step * i)) for i in range(frames)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate_hz)
        if sys.byteorder == "big":  # WAV is little-endian; array uses native order
            samples.byteswap()
        wav.writeframes(samples.tobytes())
    return buffer.getvalue()


class GoogleTTSServer(ProtocolServer):
    """The ``text:synthesize`` and ``voices`` methods of Google Cloud Text-to-Speech v1 (REST)."""

    name: ClassVar[str] = "google-tts"

    def __init__(self, *, ms_per_character: float = 65.0, api_key: str | None = None) -> None:
        super().__init__()
        #: Milliseconds of audio per spoken character at speaking rate 1.0.
        self.ms_per_character = ms_per_character
        #: When set, requests must send it as ``x-goog-api-key`` (or ``?key=``).
        self.api_key = api_key
        #: Voices reported by ``GET /v1/voices``.
        self.voices: list[dict[str, Any]] = [dict(v) for v in DEFAULT_VOICES]

    # --- test-facing helpers -----------------------------------------------------------------------------------

    @property
    def synthesis_requests(self) -> list[dict[str, Any]]:
        """JSON bodies of every ``POST /v1/text:synthesize`` received, oldest first."""
        return [r.json for r in self.requests if r.method == "POST" and r.path == SYNTHESIZE_PATH and r.json]

    def duration_for(self, text: str = "", *, ssml: str | None = None, speaking_rate: float = 1.0) -> float:
        """Seconds of audio this server returns for ``text`` (or ``ssml``) at ``speaking_rate``."""
        return self._duration({"ssml": ssml} if ssml is not None else {"text": text}, speaking_rate)

    # --- protocol ----------------------------------------------------------------------------------------------

    def error_reply(self, status: int, message: str | None = None) -> Reply:
        text = message or _DEFAULT_MESSAGES.get(status) or f"HTTP {status}"
        return Reply.json(status, google_error(status, text), {"Content-Type": "application/json; charset=UTF-8"})

    def handle(self, request: RecordedRequest) -> Reply:
        route = (request.method, request.path)
        if request.path not in (SYNTHESIZE_PATH, VOICES_PATH):
            return self.error_reply(404, f"Method not found: {request.method} {request.path}")
        if route not in (("POST", SYNTHESIZE_PATH), ("GET", VOICES_PATH)):
            return self.error_reply(405, f"Method {request.method} not allowed for {request.path}")
        key_error = self._check_api_key(request)
        if key_error is not None:
            return key_error
        if route == ("GET", VOICES_PATH):
            return self._list_voices(request)
        return self._synthesize(request)

    # --- internals ---------------------------------------------------------------------------------------------

    def _duration(self, input_: dict[str, Any], speaking_rate: float) -> float:
        spoken, pauses = spoken_text_and_pauses(input_)
        return len(spoken) * self.ms_per_character / 1000 / speaking_rate + pauses

    def _check_api_key(self, request: RecordedRequest) -> Reply | None:
        if self.api_key is None:
            return None
        sent = request.header("x-goog-api-key") or next(iter(request.query.get("key", [])), None)
        if sent != self.api_key:
            return self.error_reply(400, "API key not valid. Please pass a valid API key.")
        return None

    def _list_voices(self, request: RecordedRequest) -> Reply:
        language = (request.query.get("languageCode") or [""])[0]
        voices = [v for v in self.voices if not language or language in v.get("languageCodes", [])]
        return Reply.json(200, {"voices": voices})

    def _synthesize(self, request: RecordedRequest) -> Reply:
        body = request.json
        if not isinstance(body, dict):
            return self.error_reply(400, "Invalid JSON payload received.")
        input_ = body.get("input") or {}
        voice = body.get("voice") or {}
        audio_config = body.get("audioConfig") or {}
        if not isinstance(input_, dict) or not isinstance(voice, dict) or not isinstance(audio_config, dict):
            return self.error_reply(400, "Invalid JSON payload received.")

        given = [k for k in ("text", "ssml") if input_.get(k)]
        if len(given) != 1:
            return self.error_reply(400, "Exactly one of `input.text` or `input.ssml` must be set.")
        if len(str(input_[given[0]]).encode()) > MAX_INPUT_BYTES:
            return self.error_reply(
                400, f"Either `input.text` or `input.ssml` is longer than the limit of {MAX_INPUT_BYTES} bytes."
            )
        if not voice.get("languageCode"):
            return self.error_reply(400, "Invalid value for `voice.language_code`: a language code is required.")

        raw_encoding = audio_config.get("audioEncoding")
        encoding = _ENCODINGS_BY_NUMBER.get(raw_encoding, "") if isinstance(raw_encoding, int) else raw_encoding
        if not encoding or encoding == "AUDIO_ENCODING_UNSPECIFIED":
            return self.error_reply(400, "Invalid value for `audio_config.audio_encoding`: it is required.")
        if encoding != "LINEAR16":
            return self.error_reply(400, f"audioEncoding {encoding} is unsupported in test server; use LINEAR16.")

        speaking_rate = float(audio_config.get("speakingRate") or 1.0)
        if not 0.25 <= speaking_rate <= 2.0:
            return self.error_reply(400, "`audio_config.speaking_rate` must be in the range [0.25, 2.0].")
        sample_rate = int(audio_config.get("sampleRateHertz") or DEFAULT_SAMPLE_RATE_HZ)
        if not 8000 <= sample_rate <= 48000:
            return self.error_reply(400, "`audio_config.sample_rate_hertz` must be between 8000 and 48000.")

        audio = render_tone_wav(self._duration(input_, speaking_rate), sample_rate)
        return Reply.json(
            200,
            {"audioContent": base64.b64encode(audio).decode("ascii")},
            {"Content-Type": "application/json; charset=UTF-8"},
        )
