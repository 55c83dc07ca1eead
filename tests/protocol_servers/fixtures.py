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


# --- HR vendor APIs for id-only webhooks: Lever, BambooHR, HiBob (one block; other vendors append below) ---

from .bamboohr_api import BambooHRApiServer  # noqa: E402 - kept in this block so parallel additions don't clash
from .hibob_api import HiBobApiServer  # noqa: E402
from .lever_api import LeverApiServer  # noqa: E402


@pytest.fixture
def lever_api_server() -> Iterator[LeverApiServer]:
    """Lever's Data API; the client uses ``server.api_url`` and ``(server.api_key, "")`` as Basic auth."""
    with LeverApiServer() as server:
        yield server


@pytest.fixture
def bamboohr_api_server() -> Iterator[BambooHRApiServer]:
    """BambooHR's Get Employee API for company ``example``; ``server.api_url``, Basic ``(server.api_key, "x")``."""
    with BambooHRApiServer() as server:
        yield server


@pytest.fixture
def hibob_api_server() -> Iterator[HiBobApiServer]:
    """HiBob's people read API; ``server.api_url``, Basic ``(server.service_user_id, server.token)``."""
    with HiBobApiServer() as server:
        yield server


# --- HR vendor API: Ashby (department, location and candidate lookups for candidateHire) ---

from .ashby_api import AshbyApiServer  # noqa: E402 - kept in this block so parallel additions don't clash


@pytest.fixture
def ashby_api_server() -> Iterator[AshbyApiServer]:
    """Ashby's RPC API (``POST /department.info`` ...); ``server.url``, Basic ``(server.api_key, "")``."""
    with AshbyApiServer() as server:
        yield server
