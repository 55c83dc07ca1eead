"""The test node's containerd (Debian's, with runc): its config, ``ctr``, image import and clean-up.

Its config, root, state, socket and runc root are under ``<ground>/node/``; nothing is shared with a
system containerd. Stopping removes every container and shim it started, even when containerd is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

from preboarding.testenv.images import PAUSE_IMAGE
from preboarding.testenv.processes import HOST, GroundError, check_progress

# containerd 1.6 puts the shims' sockets here, whatever its own root and state are.
SHIM_SOCKETS = Path("/run/containerd/s")


def containerd_config(node: Path, sock: Path) -> str:
    """containerd's config.toml for the node in ``node``, serving the CRI on ``sock``."""
    cri = '[plugins."io.containerd.grpc.v1.cri"]'
    return f"""# Written by the test ground (preboarding.testenv.node); nothing here is shared with a system containerd.
version = 2
root = "{node / 'containerd' / 'root'}"
state = "{node / 'containerd' / 'state'}"
# opt would create /opt/containerd; the others are snapshotters and runtimes this node does not use.
disabled_plugins = ["io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{sock}"

[metrics]
  address = ""

{cri}
  sandbox_image = "{PAUSE_IMAGE}"
  # root lacks CAP_SYS_RESOURCE here: without this runc fails ("can't get final child's PID from pipe").
  restrict_oom_score_adj = true
  stream_server_address = "{HOST}"
  stream_server_port = "0"
  disable_apparmor = true
  enable_selinux = false

{cri[:-1]}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

{cri[:-1]}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

{cri[:-1]}.containerd.runtimes.runc.options]
  Root = "{node / 'runc'}"
  SystemdCgroup = false

{cri[:-1]}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "{node / 'cni'}"
  max_conf_num = 1
"""


def ctr(sock: Path, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``ctr`` against the containerd on ``sock``, in the kubelet's ``k8s.io`` namespace."""
    result = subprocess.run(["ctr", f"--address={sock}", "--namespace=k8s.io", *args], capture_output=True,
                            text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise GroundError(f"ctr {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def wait_containerd(sock: Path, pid: int, log: Path) -> None:
    """Wait until containerd answers on ``sock`` (``ctr version``), while it lives."""
    deadline = time.monotonic() + 60
    while True:
        if sock.exists() and subprocess.run(["ctr", f"--address={sock}", "version"], capture_output=True,
                                            timeout=10).returncode == 0:
            return
        check_progress("containerd", pid, deadline, log)
        time.sleep(0.2)


def import_images(sock: Path, archives: list[Path]) -> None:
    """``ctr images import`` of every archive into the k8s.io namespace, in parallel (unpacking is most of it)."""
    procs = [(a, subprocess.Popen(["ctr", f"--address={sock}", "--namespace=k8s.io", "images", "import", str(a)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)) for a in archives]
    failed = []
    for archive, proc in procs:
        _, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            failed.append(f"{archive.name}: {err.strip()}")
    if failed:
        raise GroundError("ctr images import failed: " + "; ".join(failed))


def remove_containers(sock: Path) -> None:
    """Kill and delete every task and container of the k8s.io namespace through containerd."""
    tasks = ctr(sock, "tasks", "ls", "-q", check=False).stdout.split()
    for task in tasks:
        ctr(sock, "tasks", "kill", "--signal", "SIGKILL", task, check=False)
    for task in tasks:
        for _ in range(50):
            if ctr(sock, "tasks", "delete", "--force", task, check=False).returncode == 0:
                break
            time.sleep(0.1)
    for container in ctr(sock, "containers", "ls", "-q", check=False).stdout.split():
        ctr(sock, "containers", "delete", container, check=False)


def kill_leftovers(node: Path, sock: Path) -> None:
    """Container processes and shims that outlived containerd: by runc's state and the shims' address."""
    runc_root = node / "runc"
    if runc_root.is_dir():
        for ns_root in [runc_root, *[p for p in runc_root.iterdir() if p.is_dir()]]:
            listed = subprocess.run(["runc", f"--root={ns_root}", "list", "-q"], capture_output=True, text=True)
            for cid in listed.stdout.split() if listed.returncode == 0 else []:
                subprocess.run(["runc", f"--root={ns_root}", "delete", "--force", cid], capture_output=True)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        # containerd-shim-runc-v2 -namespace k8s.io -id <id> -address <our socket>
        if argv and argv[0].endswith(b"containerd-shim-runc-v2") and str(sock).encode() in argv:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)
            args = [a.decode() for a in argv]
            if "-namespace" in args and "-id" in args:
                # Its socket, which a shim removes only when it exits cleanly (containerd 1.6's fixed location).
                key = os.path.join(str(sock), args[args.index("-namespace") + 1], args[args.index("-id") + 1])
                with contextlib.suppress(FileNotFoundError):
                    (SHIM_SOCKETS / hashlib.sha256(key.encode()).hexdigest()).unlink()
