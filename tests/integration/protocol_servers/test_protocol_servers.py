"""The protocol servers speak each provider's wire protocol to the provider's real client library."""

from __future__ import annotations

import base64
import io
import json
import socket
import wave
from array import array
from typing import Any

import openai
import pytest
import sendgrid
from google.api_core import exceptions as google_exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import texttospeech
from google.cloud.texttospeech_v1.services.text_to_speech.transports import TextToSpeechRestTransport
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema
from python_http_client import exceptions as http_exceptions
from sendgrid.helpers.mail import Attachment, Mail

from tests.protocol_servers import GoogleTTSServer, OpenAIServer, Reply, SendGridServer

# --- helpers -------------------------------------------------------------------------------------------------------


def openai_client(server: OpenAIServer, *, api_key: str = "test-key", **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=api_key, **kwargs)


def tts_client(server: GoogleTTSServer) -> texttospeech.TextToSpeechClient:
    return texttospeech.TextToSpeechClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=server.url),
    )


def synthesize(
    client: texttospeech.TextToSpeechClient,
    *,
    text: str | None = None,
    ssml: str | None = None,
    encoding: int = texttospeech.AudioEncoding.LINEAR16,
    **audio_config: Any,
) -> bytes:
    response = client.synthesize_speech(
        input=texttospeech.SynthesisInput(text=text) if text is not None else texttospeech.SynthesisInput(ssml=ssml),
        voice=texttospeech.VoiceSelectionParams(language_code="en-US", name="en-US-Neural2-C"),
        audio_config=texttospeech.AudioConfig(audio_encoding=encoding, **audio_config),
    )
    return bytes(response.audio_content)


def wav_properties(data: bytes) -> tuple[int, int, int, float, int]:
    """(channels, sample width, rate, duration seconds, peak sample) of a WAV file."""
    with wave.open(io.BytesIO(data), "rb") as wav:
        frames = wav.readframes(wav.getnframes())
        samples = array("h", frames)
        return (
            wav.getnchannels(),
            wav.getsampwidth(),
            wav.getframerate(),
            wav.getnframes() / wav.getframerate(),
            max((abs(s) for s in samples), default=0),
        )


MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You write welcome scripts."},
    {"role": "user", "content": "Write a welcome script for Ada."},
]


# --- OpenAI --------------------------------------------------------------------------------------------------------


def test_openai_chat_completion_returns_the_handlers_content_and_usage(openai_server: OpenAIServer) -> None:
    seen: list[dict[str, Any]] = []

    def reply(request_json: dict[str, Any]) -> str:
        seen.append(request_json)
        return json.dumps({"greeting": "Welcome, Ada!"})

    openai_server.reply_with = reply
    schema: ResponseFormatJSONSchema = {
        "type": "json_schema",
        "json_schema": {
            "name": "script",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"greeting": {"type": "string"}},
                "required": ["greeting"],
                "additionalProperties": False,
            },
        },
    }

    completion = openai_client(openai_server).chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        response_format=schema,
    )

    assert completion.object == "chat.completion"
    assert completion.model == "gpt-4o-mini"
    assert completion.choices[0].finish_reason == "stop"
    assert json.loads(completion.choices[0].message.content or "") == {"greeting": "Welcome, Ada!"}
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert seen[0]["messages"] == MESSAGES
    assert openai_server.response_formats == [schema]
    [request] = openai_server.requests
    assert request.method == "POST"
    assert request.path == "/v1/chat/completions"
    assert request.header("Authorization") == "Bearer test-key"


def test_openai_default_reply_is_an_empty_json_object(openai_server: OpenAIServer) -> None:
    completion = openai_client(openai_server).chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "{}"


def test_openai_rate_limit_is_retried_by_the_client(openai_server: OpenAIServer) -> None:
    openai_server.fail_next(429, retry_after=0.01)
    openai_server.reply_with = lambda _: "after the rate limit"

    completion = openai_client(openai_server, max_retries=2).chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
    )

    assert completion.choices[0].message.content == "after the rate limit"
    assert len(openai_server.requests) == 2
    assert openai_server.pending_replies == 0


def test_openai_rate_limit_beyond_the_retry_budget_raises(openai_server: OpenAIServer) -> None:
    openai_server.fail_next(429, times=3, retry_after=0.01)

    with pytest.raises(openai.RateLimitError) as caught:
        openai_client(openai_server, max_retries=1).chat.completions.create(model="m", messages=MESSAGES)

    assert caught.value.code == "rate_limit_exceeded"
    assert len(openai_server.requests) == 2


def test_openai_wrong_key_raises_authentication_error(openai_server: OpenAIServer) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        openai_client(openai_server, api_key="wrong").chat.completions.create(model="m", messages=MESSAGES)

    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"


def test_openai_content_policy_raises_bad_request(openai_server: OpenAIServer) -> None:
    openai_server.fail_next_content_policy()

    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(openai_server).chat.completions.create(model="m", messages=MESSAGES)

    assert caught.value.code == "content_policy_violation"
    assert caught.value.type == "invalid_request_error"


def test_openai_server_error_without_retries_raises(openai_server: OpenAIServer) -> None:
    openai_server.fail_next(500)

    with pytest.raises(openai.InternalServerError):
        openai_client(openai_server, max_retries=0).chat.completions.create(model="m", messages=MESSAGES)


def test_openai_handler_can_answer_with_a_reply(openai_server: OpenAIServer) -> None:
    openai_server.reply_with = lambda _: Reply.json(
        400, {"error": {"message": "nope", "type": "invalid_request_error", "param": None, "code": "nope"}}
    )

    with pytest.raises(openai.BadRequestError) as caught:
        openai_client(openai_server).chat.completions.create(model="m", messages=MESSAGES)

    assert caught.value.code == "nope"


def test_openai_streaming(openai_server: OpenAIServer) -> None:
    openai_server.reply_with = lambda _: "streamed"

    stream = openai_client(openai_server).chat.completions.create(
        model="m",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "streamed"
    assert chunks[-1].usage is not None


def test_dropped_connection_raises_connection_error(openai_server: OpenAIServer) -> None:
    openai_server.drop_next()

    with pytest.raises(openai.APIConnectionError):
        openai_client(openai_server, max_retries=0).chat.completions.create(model="m", messages=MESSAGES)


def test_delay_makes_the_client_time_out(openai_server: OpenAIServer) -> None:
    openai_server.delay = 2.0

    with pytest.raises(openai.APITimeoutError):
        openai_client(openai_server, max_retries=0, timeout=0.2).chat.completions.create(
            model="m",
            messages=MESSAGES,
        )


def test_stop_releases_the_port() -> None:
    server = OpenAIServer().start()
    port = server.port
    openai_client(server).chat.completions.create(model="m", messages=MESSAGES)
    server.stop()

    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(1)
        probe.connect(("127.0.0.1", port))


# --- Google Text-to-Speech -----------------------------------------------------------------------------------------


def test_google_tts_returns_wav_of_the_expected_duration(google_tts_server: GoogleTTSServer) -> None:
    text = "Welcome to the team, Ada!"

    audio = synthesize(tts_client(google_tts_server), text=text)

    assert audio[:4] == b"RIFF"
    assert audio[8:12] == b"WAVE"
    channels, width, rate, duration, peak = wav_properties(audio)
    assert (channels, width, rate) == (1, 2, 24000)
    assert duration == pytest.approx(len(text) * 0.065, abs=0.001)
    assert duration == pytest.approx(google_tts_server.duration_for(text), abs=0.001)
    assert 0 < peak < 32767 // 2  # a quiet tone, not silence
    [body] = google_tts_server.synthesis_requests
    assert body["input"] == {"text": text}
    assert body["voice"]["languageCode"] == "en-US"
    assert body["audioConfig"]["audioEncoding"] == "LINEAR16"


def test_google_tts_honours_sample_rate_and_speaking_rate(google_tts_server: GoogleTTSServer) -> None:
    text = "Hello"

    audio = synthesize(tts_client(google_tts_server), text=text, sample_rate_hertz=16000, speaking_rate=2.0)

    _, _, rate, duration, _ = wav_properties(audio)
    assert rate == 16000
    assert duration == pytest.approx(len(text) * 0.065 / 2, abs=0.001)


def test_google_tts_counts_ssml_text_and_breaks(google_tts_server: GoogleTTSServer) -> None:
    ssml = '<speak>Hi <break time="500ms"/> Ada &amp; team</speak>'

    audio = synthesize(tts_client(google_tts_server), ssml=ssml)

    _, _, _, duration, _ = wav_properties(audio)
    assert duration == pytest.approx(len("Hi Ada & team") * 0.065 + 0.5, abs=0.001)
    assert duration == pytest.approx(google_tts_server.duration_for(ssml=ssml), abs=0.001)


def test_google_tts_unavailable_raises_service_unavailable(google_tts_server: GoogleTTSServer) -> None:
    google_tts_server.fail_next(503)

    with pytest.raises(google_exceptions.ServiceUnavailable):
        synthesize(tts_client(google_tts_server), text="Hi")


def test_google_tts_quota_raises_too_many_requests(google_tts_server: GoogleTTSServer) -> None:
    google_tts_server.fail_next(429)

    with pytest.raises(google_exceptions.TooManyRequests):
        synthesize(tts_client(google_tts_server), text="Hi")


def test_google_tts_unsupported_encoding_is_a_bad_request(google_tts_server: GoogleTTSServer) -> None:
    with pytest.raises(google_exceptions.BadRequest) as caught:
        synthesize(tts_client(google_tts_server), text="Hi", encoding=texttospeech.AudioEncoding.MP3)

    assert "unsupported in test server" in str(caught.value)


def test_google_tts_rejects_input_over_5000_bytes(google_tts_server: GoogleTTSServer) -> None:
    with pytest.raises(google_exceptions.BadRequest):  # REST errors map by HTTP status, not "status"
        synthesize(tts_client(google_tts_server), text="x" * 5001)


def test_google_tts_explicit_http_transport_and_list_voices(google_tts_server: GoogleTTSServer) -> None:
    transport = TextToSpeechRestTransport(
        host=f"127.0.0.1:{google_tts_server.port}", url_scheme="http", credentials=AnonymousCredentials()
    )
    client = texttospeech.TextToSpeechClient(transport=transport)

    voices = client.list_voices(language_code="en-US").voices

    assert {v.name for v in voices} == {"en-US-Neural2-C", "en-US-Neural2-D"}
    assert voices[0].ssml_gender == texttospeech.SsmlVoiceGender.FEMALE
    assert google_tts_server.requests[0].path == "/v1/voices"


# --- SendGrid ------------------------------------------------------------------------------------------------------


def test_sendgrid_accepts_a_message_with_html_and_text(sendgrid_server: SendGridServer) -> None:
    client = sendgrid.SendGridAPIClient(api_key="SG.test", host=sendgrid_server.url)
    mail = Mail(
        from_email="welcome@example.com",
        to_emails="ada@example.org",
        subject="Welcome, Ada",
        plain_text_content="Watch your video: https://example.com/v",
        html_content='<p>Watch <a href="https://example.com/v">your video</a></p>',
    )
    mail.attachment = Attachment(
        file_content=base64.b64encode(b"poster").decode(), file_name="poster.png", file_type="image/png"
    )

    response = client.send(mail)

    assert response.status_code == 202
    assert response.body == b""
    [message] = sendgrid_server.messages
    assert response.headers["X-Message-Id"] == message.message_id
    assert message.to == ["ada@example.org"]
    assert message.from_email == "welcome@example.com"
    assert message.subject == "Welcome, Ada"
    assert message.text == "Watch your video: https://example.com/v"
    assert message.html == '<p>Watch <a href="https://example.com/v">your video</a></p>'
    assert message.attachments[0]["filename"] == "poster.png"
    assert sendgrid_server.requests[0].header("Authorization") == "Bearer SG.test"


def test_sendgrid_rejects_an_incomplete_message(sendgrid_server: SendGridServer) -> None:
    client = sendgrid.SendGridAPIClient(api_key="SG.test", host=sendgrid_server.url)
    payload = {"personalizations": [{"to": [{"email": "not-an-address"}]}], "subject": "Hi"}

    with pytest.raises(http_exceptions.BadRequestsError) as caught:
        client.send(payload)

    errors = json.loads(caught.value.body)["errors"]
    fields = {e["field"] for e in errors}
    assert fields == {"personalizations.0.to.0.email", "from", "content"}
    assert all(e["help"] is None and e["message"] for e in errors)
    assert sendgrid_server.messages == []


def test_sendgrid_wrong_key_is_unauthorized(sendgrid_server: SendGridServer) -> None:
    client = sendgrid.SendGridAPIClient(api_key="SG.wrong", host=sendgrid_server.url)

    with pytest.raises(http_exceptions.UnauthorizedError):
        client.send(Mail("a@example.com", "b@example.com", "s", plain_text_content="t"))


def test_sendgrid_scripted_outage(sendgrid_server: SendGridServer) -> None:
    sendgrid_server.fail_next(503)
    client = sendgrid.SendGridAPIClient(api_key="SG.test", host=sendgrid_server.url)
    mail = Mail("a@example.com", "b@example.com", "s", plain_text_content="t")

    with pytest.raises(http_exceptions.ServiceUnavailableError):
        client.send(mail)
    assert client.send(mail).status_code == 202
    assert len(sendgrid_server.messages) == 1
