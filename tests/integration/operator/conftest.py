"""Fixtures for operator tests: the operator as a real subprocess, and a kubelet stand-in.

The helpers themselves are in ``harness.py`` (the operator benchmark uses them too) and ``kubelet.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from preboarding.testenv.ground import GroundInfo

from .harness import OperatorProcess
from .kubelet import KubeletStandIn


@pytest.fixture
def operator_factory(ground: GroundInfo, namespace: str, tmp_path: Path) -> Iterator[Any]:
    started: list[OperatorProcess] = []

    def make(**extra_env: str) -> OperatorProcess:
        proc = OperatorProcess(ground, namespace, tmp_path / "operator.log", extra_env).start()
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.stop()


@pytest.fixture
def kubelet_factory(kube_api: Any, ground: GroundInfo, namespace: str) -> Iterator[Any]:
    started: list[KubeletStandIn] = []

    def make(override: Any = None) -> KubeletStandIn:
        env = {**ground.env(), "PREBOARDING_MAIL_PROVIDER": "smtp", "PREBOARDING_SCRIPT_PROVIDER": "template",
               "PREBOARDING_TTS_PROVIDER": "flite", "PREBOARDING_MAIL_FROM": "welcome@northwind.example"}
        stand_in = KubeletStandIn(kube_api, namespace, env, override).start()
        started.append(stand_in)
        return stand_in

    yield make
    for stand_in in started:
        stand_in.stop()
