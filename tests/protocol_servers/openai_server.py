"""OpenAI Chat Completions over real HTTP, for testing code that uses the official ``openai`` client.

Client construction that works (openai 1.x-3.x; 3.x speaks through ``httpx2``, which is fine against this server)::

    client = openai.OpenAI(base_url=server.url + "/v1", api_key="test-key", max_retries=2)
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=[...])

What it speaks:

* ``POST /v1/chat/completions``. ``Authorization: Bearer <server.api_key>`` is required (``"test-key"`` by
  default); a missing or different key gets OpenAI's 401 ``invalid_api_key`` error, which the client raises as
  ``openai.AuthenticationError``.
* The reply is a valid ``chat.completion`` object (``id``, ``object``, ``created``, ``model`` echoed from the
  request, ``choices[0].message.content``, ``finish_reason="stop"``, ``usage``). The content comes from
  ``server.reply_with(request_json) -> str`` -- the test decides what the model "says"; the default says ``"{}"``.
  The handler may instead return a :class:`~tests.protocol_servers.base.Reply` to answer one request specially.
  Token counts are a deterministic estimate (one token per four characters, at least one).
* ``response_format`` (``json_schema`` or ``json_object``) is accepted and recorded (``server.response_formats``);
  the server does not enforce it -- the handler's string is returned as is.
* ``stream=True`` gets a short server-sent-event stream (one content delta, a finish chunk, an optional usage
  chunk when ``stream_options.include_usage``, then ``[DONE]``).
* Errors in OpenAI's shape ``{"error": {"message", "type", "param", "code"}}``: ``fail_next(429, retry_after=0.05)``
  (adds ``Retry-After`` and the ``retry-after-ms`` header the client prefers, so retries stay fast),
  ``fail_next(500)``, ``fail_next_content_policy()`` (400 ``content_policy_violation``).
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

from .base import ProtocolServer, RecordedRequest, Reply

CHAT_COMPLETIONS_PATH = "/v1/chat/completions"

ReplyHandler = Callable[[dict[str, Any]], "str | Reply"]

# (type, code, default message) per status, as the real API reports them.
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("permission_error", None, "You are not allowed to access this resource."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
    409: ("invalid_request_error", None, "Conflict."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1s."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def openai_error(message: str, type_: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error body."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def estimate_tokens(text: str) -> int:
    """A deterministic stand-in for a tokenizer: one token per four characters, at least one."""
    return max(1, math.ceil(len(text) / 4))


def _message_text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def default_reply(request_json: dict[str, Any]) -> str:
    """The default model output: an empty JSON object."""
    return "{}"


class OpenAIServer(ProtocolServer):
    """The Chat Completions endpoint of the OpenAI API."""

    name: ClassVar[str] = "openai"

    def __init__(self, api_key: str = "test-key") -> None:
        super().__init__()
        #: The key the client must send as ``Authorization: Bearer``; ``None`` disables the check.
        self.api_key: str | None = api_key
        #: What the model says: ``callable(request_json) -> str`` (or a ``Reply`` to answer verbatim).
        self.reply_with: ReplyHandler = default_reply
        self._ids = itertools.count(1)
        self._ids_lock = threading.Lock()

    # --- test-facing helpers -----------------------------------------------------------------------------------

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """JSON bodies of every ``POST /v1/chat/completions`` received, oldest first."""
        return [r.json for r in self.requests if r.method == "POST" and r.path == CHAT_COMPLETIONS_PATH and r.json]

    @property
    def response_formats(self) -> list[Any]:
        """The ``response_format`` of each chat request (``None`` where it was not given)."""
        return [body.get("response_format") for body in self.chat_requests]

    def fail_next_content_policy(
        self, message: str = "Your request was rejected as a result of our safety system.", *, times: int = 1
    ) -> None:
        """Answer the next ``times`` requests with OpenAI's 400 ``content_policy_violation``."""
        self.respond_next(400, openai_error(message, "invalid_request_error", "content_policy_violation"), times=times)

    # --- protocol ----------------------------------------------------------------------------------------------

    def error_reply(self, status: int, message: str | None = None) -> Reply:
        type_, code, default_message = _ERRORS.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None, f"HTTP {status}")
        )
        return Reply.json(status, openai_error(message or default_message, type_, code), self._request_id_header())

    def retry_after_headers(self, seconds: float) -> dict[str, str]:
        # The client prefers retry-after-ms, which lets a test ask for a sub-second wait.
        headers = super().retry_after_headers(seconds)
        headers["retry-after-ms"] = str(max(0, round(seconds * 1000)))
        return headers

    def handle(self, request: RecordedRequest) -> Reply:
        if request.path != CHAT_COMPLETIONS_PATH:
            return Reply.json(
                404,
                openai_error(f"Invalid URL ({request.method} {request.path})", "invalid_request_error"),
            )
        if request.method != "POST":
            return Reply.json(405, openai_error(f"Method {request.method} not allowed.", "invalid_request_error"))
        auth_error = self._check_auth(request)
        if auth_error is not None:
            return auth_error
        body = request.json
        if not isinstance(body, dict):
            return Reply.json(
                400,
                openai_error("We could not parse the JSON body of your request.", "invalid_request_error"),
            )
        if not body.get("model"):
            return Reply.json(
                400, openai_error("you must provide a model parameter", "invalid_request_error", param="model")
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return Reply.json(
                400,
                openai_error(
                    "Missing required parameter: 'messages'.",
                    "invalid_request_error",
                    "missing_required_parameter",
                    "messages",
                ),
            )

        produced = self.reply_with(body)
        if isinstance(produced, Reply):
            return produced
        if not isinstance(produced, str):
            raise TypeError(f"reply_with must return str or Reply, got {type(produced).__name__}")
        prompt_tokens = estimate_tokens("".join(_message_text(m) for m in messages))
        completion_tokens = estimate_tokens(produced)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        completion_id = f"chatcmpl-test{self._next_id()}"
        created = int(time.time())
        model = str(body["model"])
        n = int(body.get("n") or 1)
        if body.get("stream"):
            return self._stream(completion_id, created, model, produced, usage, body)
        completion = {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_test",
            "choices": [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": produced, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
                for i in range(n)
            ],
            "usage": usage,
        }
        return Reply.json(200, completion, self._request_id_header())

    # --- internals ---------------------------------------------------------------------------------------------

    def _check_auth(self, request: RecordedRequest) -> Reply | None:
        if self.api_key is None:
            return None
        header = request.header("authorization") or ""
        if not header.startswith("Bearer ") or not header[len("Bearer ") :].strip():
            return Reply.json(
                401,
                openai_error(
                    "You didn't provide an API key. You need to provide your API key in an Authorization header "
                    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    "invalid_request_error",
                ),
            )
        if header[len("Bearer ") :].strip() != self.api_key:
            return Reply.json(
                401,
                openai_error(
                    "Incorrect API key provided. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    "invalid_request_error",
                    "invalid_api_key",
                ),
            )
        return None

    def _next_id(self) -> int:
        with self._ids_lock:
            return next(self._ids)

    def _request_id_header(self) -> dict[str, str]:
        return {"x-request-id": f"req_test{self._next_id()}"}

    def _stream(
        self,
        completion_id: str,
        created: int,
        model: str,
        content: str,
        usage: dict[str, int],
        body: dict[str, Any],
    ) -> Reply:
        base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks: list[dict[str, Any]] = [
            {
                **base,
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": None}],
            },
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        ]
        if include_usage:
            chunks.append({**base, "choices": [], "usage": usage})
        stream = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
        headers = {"Content-Type": "text/event-stream", **self._request_id_header()}
        return Reply(status=200, body=stream.encode(), headers=headers)
