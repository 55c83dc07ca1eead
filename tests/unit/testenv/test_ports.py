"""The test ground's port picker: every port distinct, none of them listened on."""

from __future__ import annotations

import socket

from preboarding.testenv.processes import HOST, free_port, free_ports


def test_ports_are_distinct_within_a_call_and_across_calls() -> None:
    names = [f"server-{i}" for i in range(40)]
    first = free_ports(names)
    assert list(first) == names
    later = [free_port() for _ in range(40)]
    every = [*first.values(), *later]
    assert len(set(every)) == len(every)


def test_a_picked_port_can_be_listened_on() -> None:
    port = free_port()
    with socket.socket() as s:
        s.bind((HOST, port))
        s.listen()
