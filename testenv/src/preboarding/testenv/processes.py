"""The test ground's servers as processes: free ports, spawning by PID, waiting for readiness, stopping.

Shared by the control plane (``ground.py``) and the node (``node.py``). Every server listens on
``HOST`` (loopback only), logs to ``<root>/logs/<name>.log`` and has its PID in ``<root>/pids/<name>.pid``,
so that a later ``stop`` finds it even when the state file was never written.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

HOST = "127.0.0.1"


class GroundError(RuntimeError):
    """The test ground could not start; the message says which server and where its log is."""


_HANDED_OUT: set[int] = set()


def free_ports(names: Iterable[str]) -> dict[str, int]:
    """One free port per name, all distinct, and none handed out before by this process.

    The sockets stay bound until every port is chosen: picked one at a time, the kernel may hand the
    same port out twice (etcd's client and peer ports once got the same one).
    """
    held: list[socket.socket] = []
    ports: dict[str, int] = {}
    try:
        for name in names:
            while True:
                s = socket.socket()
                held.append(s)
                s.bind((HOST, 0))
                port = int(s.getsockname()[1])
                if port not in _HANDED_OUT:
                    break
            _HANDED_OUT.add(port)
            ports[name] = port
    finally:
        for s in held:
            s.close()
    return ports


def free_port() -> int:
    """A port nothing listens on now (see ``free_ports``)."""
    return free_ports(("port",))["port"]


def log_file(root: Path, name: str) -> Path:
    """Where the server ``name`` of the ground in ``root`` writes its output."""
    return root / "logs" / f"{name}.log"


def spawn(root: Path, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
    """Start a server in its own session (so ``terminate`` can signal its whole group); returns its PID.

    Output goes to ``log_file(root, name)``, the PID to ``<root>/pids/<name>.pid``; the working directory
    is ``root``, and ``env`` is added to this process's environment.
    """
    log = open(log_file(root, name), "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})}, start_new_session=True, cwd=root,
    )
    log.close()
    (root / "pids" / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as dead.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def tail(log: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of a server's log, for error messages."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def check_progress(name: str, pid: int, deadline: float, log: Path) -> None:
    """Raise ``GroundError`` (with the log's tail) if the server died or its start-up deadline passed."""
    if not alive(pid):
        raise GroundError(f"{name} exited during start-up; see {log}:\n{tail(log)}")
    if time.monotonic() > deadline:
        raise GroundError(f"{name} did not become ready in time; see {log}:\n{tail(log)}")


def wait_http(name: str, url: str, log: Path, pid: int, timeout: float = 60) -> None:
    """Wait until ``url`` answers 200 (plain HTTP), while the server lives and the timeout has not passed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        check_progress(name, pid, deadline, log)
        time.sleep(0.2)


def wait_tcp(name: str, port: int, log: Path, pid: int, timeout: float = 30) -> None:
    """Wait until something accepts connections on ``HOST:port``, while the server lives."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=2):
                return
        except OSError:
            pass
        check_progress(name, pid, deadline, log)
        time.sleep(0.1)


def terminate(pid: int, timeout: float = 15) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            if not alive(pid):
                return
            time.sleep(0.1)
