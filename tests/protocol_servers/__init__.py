"""Real HTTP servers on 127.0.0.1 that speak the providers' wire protocols (OpenAI, Google TTS, SendGrid).

Provider client libraries are tested against these instead of mocks: the real client builds the real request,
sends it over a socket, and parses a reply shaped like the provider's. Use the pytest fixtures in
:mod:`tests.protocol_servers.fixtures` (``openai_server``, ``google_tts_server``, ``sendgrid_server``) or start a
server directly with ``with OpenAIServer() as server: ...``.
"""

from .base import ProtocolServer, RecordedRequest, Reply
from .google_tts_server import GoogleTTSServer
from .openai_server import OpenAIServer
from .sendgrid_server import SendGridServer, SentMessage

__all__ = [
    "GoogleTTSServer",
    "OpenAIServer",
    "ProtocolServer",
    "RecordedRequest",
    "Reply",
    "SendGridServer",
    "SentMessage",
]
