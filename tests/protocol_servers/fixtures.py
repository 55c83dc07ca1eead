"""Pytest fixtures for the protocol servers: each test gets a fresh server, started and stopped around it.

Enable with ``pytest_plugins = ["tests.protocol_servers.fixtures"]`` in a conftest, or ``-p
tests.protocol_servers.fixtures`` on the command line. Starting a server costs a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .google_tts_server import GoogleTTSServer
from .openai_server import OpenAIServer
from .sendgrid_server import SendGridServer


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """An OpenAI Chat Completions server; the client uses ``base_url=server.url + "/v1"``, ``api_key="test-key"``."""
    with OpenAIServer() as server:
        yield server


@pytest.fixture
def google_tts_server() -> Iterator[GoogleTTSServer]:
    """A Google Text-to-Speech v1 REST server; the client uses ``ClientOptions(api_endpoint=server.url)``."""
    with GoogleTTSServer() as server:
        yield server


@pytest.fixture
def sendgrid_server() -> Iterator[SendGridServer]:
    """A SendGrid v3 mail/send server; the client uses ``SendGridAPIClient(api_key="SG.test", host=server.url)``."""
    with SendGridServer() as server:
        yield server
