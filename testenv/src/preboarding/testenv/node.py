"""A real node for the test ground: kube-scheduler, containerd + runc and a kubelet, all on 127.0.0.1.

What the project measured on this kind of machine (README.md, "The test ground"), applied:

- containerd (Debian) with its own config, root, state, socket and runc root under ``<ground>/node/``,
  ``restrict_oom_score_adj`` (root lacks CAP_SYS_RESOURCE), and a sandbox image built here
  (``testenv/build-pause.sh``: a static C program in a one-layer OCI image). The only CNI network is a
  loopback one, so the runtime reports its network ready; every pod of ours uses ``hostNetwork``.
- kubelet v1.34 (cgroup v1 needs <= 1.34): cgroupfs, address and healthz on 127.0.0.1,
  ``makeIPTablesUtilChains: false`` (it leaves the firewall alone), relaxed eviction thresholds,
  ``--hostname-override=localhost`` (the apiserver reaches it by that name: logs and exec work). It
  authenticates with a client certificate of the ground's CA, ``system:node:localhost`` in
  ``system:nodes``, bound to the ``system:node`` ClusterRole; the apiserver reaches it with its own
  client certificate, bound to ``system:kubelet-api-admin``.
- The project's images (``build/images.sh --archive``, cached by a digest of what goes into them) and
  the sandbox image are imported into containerd's ``k8s.io`` namespace with ``ctr``; pods use
  ``imagePullPolicy: Never``.

One node per machine (the kubelet owns the ``kubepods`` cgroups): ``/run/preboarding-testenv-node.json``
names the ground that has it. Stopping the node removes what it added: its containers and shims, mounts
under ``<ground>/node/``, the ``kubepods`` cgroups, ``/var/log/containers`` links, the kernel settings the
kubelet changed, and containerd's state.

containerd's config and clean-up are in ``containerd.py``, the image archives in ``images.py``, the
certificates in ``certs.py``; this module starts, checks and stops the node as a whole.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from preboarding.testenv import certs, containerd, images
from preboarding.testenv.binaries import kube_bin_dir
from preboarding.testenv.processes import (
    HOST,
    GroundError,
    alive,
    check_progress,
    free_ports,
    log_file,
    spawn,
    tail,
    terminate,
    wait_http,
)

if TYPE_CHECKING:
    from preboarding.testenv.ground import GroundInfo

# Servers the node adds to the ground, in start order (they stop in reverse, before the control plane).
NODE_SERVERS = ("kube-scheduler", "containerd", "kubelet")
NODE_NAME = "localhost"
# Debian packages the node needs (the Makefile's node-deps installs them).
NODE_TOOLS = {"containerd": "containerd", "runc": "runc", "ctr": "containerd", "buildah": "buildah",
              "debootstrap": "debootstrap", "gcc": "gcc"}
OWNER_FILE = Path(os.environ.get("PREBOARDING_NODE_OWNER_FILE", "/run/preboarding-testenv-node.json"))
CGROUP_ROOT = Path("/sys/fs/cgroup")
LEGACY_LOG_DIR = Path("/var/log/containers")
# Fixed paths outside the ground's folder that the node creates (kubelet: device-plugin socket and the
# legacy log links; containerd: the shims' socket folder); removed on stop if they did not exist before.
HOST_PATHS = (Path("/var/lib/kubelet/device-plugins"), Path("/var/lib/kubelet"), LEGACY_LOG_DIR,
              containerd.SHIM_SOCKETS, Path("/run/containerd"))
# The kernel settings the kubelet sets at start (protectKernelDefaults: false); restored on stop.
KUBELET_SYSCTLS = ("vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
                   "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes")


def has_node(info: GroundInfo) -> bool:
    """True if the ground ``info`` describes was started with a node."""
    return "kubelet" in info.pids


def node_dir(root: Path) -> Path:
    """The node's own folder inside the ground's (config, containerd's root and state, kubelet root)."""
    return root / "node"


# ---- artifacts: tools, the sandbox image, the project's images (images.py) -----------------------------


def check_tools() -> None:
    """Raise unless this machine can run the node: root, the Debian packages, kubelet and kube-scheduler."""
    if os.geteuid() != 0:
        raise GroundError("the test node needs root (containerd, runc and the kubelet manage cgroups and mounts)")
    missing = sorted({pkg for tool, pkg in NODE_TOOLS.items() if shutil.which(tool) is None})
    if missing:
        raise GroundError(f"the test node needs Debian packages {', '.join(missing)}: run `make node-deps`")
    if not (kube_bin_dir() / "kubelet").exists() or not (kube_bin_dir() / "kube-scheduler").exists():
        raise GroundError(f"kubelet or kube-scheduler missing in {kube_bin_dir()}: run `make binaries`")


def ensure_artifacts(root: Path | None = None) -> list[Path]:
    """Check the tools (and that no other ground's node runs) and build or find the archives the node imports."""
    check_tools()
    if root is not None:
        _check_free(root)
    return [images.pause_archive(), *images.project_image_archives()]


def apiserver_flags(pki: Path) -> list[str]:
    """Issue the apiserver's kubelet client certificate; the flags that make the apiserver use it."""
    certs.issue_client_cert(pki, "apiserver-kubelet-client", "kube-apiserver-kubelet-client")
    return [f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}"]


# ---- starting -----------------------------------------------------------------------------------------


def refresh_images(root: Path, archives: list[Path]) -> None:
    """Import ``archives`` into the node's containerd unless exactly these were imported last.

    A ground that is reused (it still runs from an earlier session) must not go on running the images
    of older sources: the archives' paths carry the digest of the sources they were built from.
    """
    marker = node_dir(root) / "imported-images"
    wanted = "\n".join(str(a) for a in archives)
    if marker.is_file() and marker.read_text() == wanted:
        return
    containerd.import_images(node_dir(root) / "containerd.sock", archives)
    marker.write_text(wanted)


def start(root: Path, info: GroundInfo, archives: list[Path]) -> None:
    """Start scheduler, containerd and kubelet for the ground in ``root`` whose control plane runs.

    Fills ``info``'s pids and ports; ``archives`` are the images to import (``ensure_artifacts``).
    """
    node = node_dir(root)
    _claim(root)
    for sub in ("containerd/root", "containerd/state", "runc", "cni", "kubelet", "pod-logs"):
        (node / sub).mkdir(parents=True, exist_ok=True)
    _save_host_state(node)
    pki = root / "pki"
    ports = free_ports(("kube-scheduler", "kubelet", "kubelet-healthz"))
    info.ports.update(ports)
    kbin = kube_bin_dir()
    _bind_rbac(info)

    info.pids["kube-scheduler"] = spawn(root, "kube-scheduler", [
        str(kbin / "kube-scheduler"),
        f"--kubeconfig={info.kubeconfig}",
        f"--authentication-kubeconfig={info.kubeconfig}", f"--authorization-kubeconfig={info.kubeconfig}",
        f"--bind-address={HOST}", f"--secure-port={ports['kube-scheduler']}",
        "--leader-elect=false",
    ])

    sock = node / "containerd.sock"
    (node / "containerd.toml").write_text(containerd.containerd_config(node, sock))
    (node / "cni" / "10-loopback.conflist").write_text(json.dumps(
        {"cniVersion": "0.4.0", "name": "loopback-only", "plugins": [{"type": "loopback"}]}))
    info.pids["containerd"] = spawn(root, "containerd", ["containerd", f"--config={node / 'containerd.toml'}"])
    containerd.wait_containerd(sock, info.pids["containerd"], log_file(root, "containerd"))
    refresh_images(root, archives)

    certs.issue_client_cert(pki, "kubelet", f"system:node:{NODE_NAME}", ["system:nodes"])
    kubeconfig = node / "kubelet.kubeconfig"
    _write_cert_kubeconfig(kubeconfig, info.api_server, pki / "ca.crt", pki / "kubelet.crt", pki / "kubelet.key")
    (node / "kubelet.yaml").write_text(json.dumps(_kubelet_config(node, sock, pki, ports), indent=2))
    info.pids["kubelet"] = spawn(root, "kubelet", [
        str(kbin / "kubelet"),
        f"--config={node / 'kubelet.yaml'}",
        f"--kubeconfig={kubeconfig}",
        f"--root-dir={node / 'kubelet'}",
        f"--cert-dir={node / 'kubelet' / 'pki'}",
        f"--hostname-override={NODE_NAME}",
        "--v=1",
    ])
    wait_http("kubelet", f"http://{HOST}:{ports['kubelet-healthz']}/healthz", log_file(root, "kubelet"),
              info.pids["kubelet"], timeout=120)
    _wait_node_ready(info, log_file(root, "kubelet"))


def check(info: GroundInfo) -> None:
    """Raise unless the kubelet answers its health check (for ``Ground.running``)."""
    port = info.ports.get("kubelet-healthz")
    with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=5) as resp:
        if resp.status != 200:
            raise GroundError("kubelet not healthy")


def _kubelet_config(node: Path, sock: Path, pki: Path, ports: Mapping[str, int]) -> dict[str, Any]:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": HOST,
        "port": ports["kubelet"],
        "readOnlyPort": 0,
        "healthzBindAddress": HOST,
        "healthzPort": ports["kubelet-healthz"],
        "containerRuntimeEndpoint": f"unix://{sock}",
        "cgroupDriver": "cgroupfs",
        "failSwapOn": False,
        # Without this the kubelet adds KUBE-* iptables chains, one of which drops loopback traffic from
        # non-loopback sources.
        "makeIPTablesUtilChains": False,
        "podLogsDir": str(node / "pod-logs"),
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        # The disk is large but mostly used; the defaults would evict at once.
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "nodefs.inodesFree": "1%",
                         "imagefs.available": "1%"},
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "maxPods": 50,
        "serializeImagePulls": False,
        "registerNode": True,
        "rotateCertificates": False,
    }


def _api(info: GroundInfo, method: str, path: str, body: dict[str, Any] | None = None,
         content_type: str = "application/json") -> dict[str, Any]:
    ctx = ssl.create_default_context(cafile=str(info.ca_file))
    req = urllib.request.Request(
        f"{info.api_server}{path}", method=method, data=json.dumps(body).encode() if body else None,
        headers={"Authorization": f"Bearer {info.admin_token}", "Content-Type": content_type})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
        result: dict[str, Any] = json.loads(resp.read())
        return result


def _bind_rbac(info: GroundInfo) -> None:
    """Real RBAC for the node: the kubelet as system:node, the apiserver as the kubelet API's admin."""
    bindings = {
        "preboarding-testenv:node": ("system:node", "Group", "system:nodes"),
        "preboarding-testenv:apiserver-kubelet-client": ("system:kubelet-api-admin", "User",
                                                         "kube-apiserver-kubelet-client"),
    }
    for name, (role, kind, subject) in bindings.items():
        body = {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": subject}],
        }
        try:
            _api(info, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", body)
        except urllib.error.HTTPError as exc:
            if exc.code != 409:
                raise


def _wait_node_ready(info: GroundInfo, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            node = _api(info, "GET", f"/api/v1/nodes/{NODE_NAME}")
            conditions = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
            if conditions.get("Ready") == "True":
                break
        except (OSError, urllib.error.URLError):
            pass
        check_progress("kubelet", info.pids["kubelet"], deadline, log)
        time.sleep(0.5)
    # The apiserver's TaintNodesByCondition admission taints every new node not-ready; the node lifecycle
    # controller that would lift it is off in this ground (it would also taint and evict on a slow heartbeat).
    _api(info, "PATCH", f"/api/v1/nodes/{NODE_NAME}", {"spec": {"taints": None}},
         content_type="application/merge-patch+json")


def _write_cert_kubeconfig(path: Path, server: str, ca: Path, cert: Path, key: Path) -> None:
    import yaml

    config = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "testenv", "cluster": {"server": server, "certificate-authority": str(ca)}}],
        "users": [{"name": "node", "user": {"client-certificate": str(cert), "client-key": str(key)}}],
        "contexts": [{"name": "testenv", "context": {"cluster": "testenv", "user": "node"}}],
        "current-context": "testenv",
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)


def _save_host_state(node: Path) -> None:
    """Record what the kubelet will change on the host, so that stopping the node puts it back."""
    state = node / "host-state.json"
    if state.exists():
        return
    sysctls = {}
    for key in KUBELET_SYSCTLS:
        with contextlib.suppress(OSError):
            sysctls[key] = (Path("/proc/sys") / key).read_text().strip()
    state.write_text(json.dumps({"sysctls": sysctls, "created": [str(p) for p in HOST_PATHS if not p.exists()]}))


# ---- ownership: one node per machine --------------------------------------------------------------------


def _owner() -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(OWNER_FILE.read_text())
        return data
    except (OSError, ValueError):
        return {}


def _node_pids(root: Path) -> dict[str, int]:
    pids = {}
    for name in NODE_SERVERS:
        with contextlib.suppress(OSError, ValueError):
            pids[name] = int((root / "pids" / f"{name}.pid").read_text())
    return pids


def _check_free(root: Path) -> bool:
    """Raise if another ground's node runs; True if another ground's node died without cleaning up."""
    owner = _owner().get("root")
    if not owner or Path(owner) == root:
        return False
    running = [name for name, pid in _node_pids(Path(owner)).items() if alive(pid)]
    if running:
        raise GroundError(f"the test ground in {owner} runs a node ({', '.join(running)}); one node per machine: "
                          f"stop it first (PREBOARDING_TESTENV_DIR={owner} preboarding-testenv down)")
    return True


def _claim(root: Path) -> None:
    if _check_free(root):
        # A node that died without cleaning up: what it left behind is ours to clean now.
        _cleanup_host()
    OWNER_FILE.write_text(json.dumps({"root": str(root), "pid": os.getpid()}))


# ---- stopping -----------------------------------------------------------------------------------------


def stop(root: Path, pids: dict[str, int]) -> None:
    """Stop the node of the ground in ``root`` (a no-op without one); removes the node's pids from ``pids``."""
    node = node_dir(root)
    node_pids = {name: pids.pop(name) for name in NODE_SERVERS if name in pids}
    owned = _owner().get("root") == str(root)
    if not node_pids and not node.exists() and not owned:
        return
    for name in ("kubelet", "kube-scheduler"):
        if name in node_pids:
            terminate(node_pids[name])
    sock = node / "containerd.sock"
    containerd_pid = node_pids.get("containerd")
    if containerd_pid and alive(containerd_pid) and sock.exists():
        containerd.remove_containers(sock)
    if containerd_pid:
        terminate(containerd_pid)
    containerd.kill_leftovers(node, sock)
    problems = _unmount_all(node)
    if owned or not _owner():
        problems += _cleanup_host(node)
        with contextlib.suppress(FileNotFoundError):
            if _owner().get("root") == str(root):
                OWNER_FILE.unlink()
    if problems:
        raise GroundError("the test node left things behind (not removed): " + "; ".join(problems))
    shutil.rmtree(node, ignore_errors=True)


def _mount_points() -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        raw = line.split()[4]
        points.append(raw.encode().decode("unicode_escape"))  # \040 and friends
    return points


def _unmount_all(node: Path) -> list[str]:
    """Unmount everything under the node's folder, deepest first; returns what could not be unmounted."""
    prefix = str(node)
    for _ in range(5):
        under = [p for p in _mount_points() if p == prefix or p.startswith(prefix + "/")]
        if not under:
            return []
        for point in sorted(set(under), key=lambda p: p.count("/"), reverse=True):
            if subprocess.run(["umount", point], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", point], capture_output=True)
    left = [p for p in _mount_points() if p == prefix or p.startswith(prefix + "/")]
    return [f"mounted: {p}" for p in left]


def _cleanup_host(node: Path | None = None) -> list[str]:
    """Remove the kubepods cgroups and log links, restore the kernel settings; returns what is left."""
    problems: list[str] = []
    for top in sorted(CGROUP_ROOT.glob("*/kubepods")):
        dirs = sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True)
        for cgroup in [*dirs, top]:
            for _ in range(50):
                try:
                    cgroup.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                problems.append(f"cgroup {cgroup}")
    state: dict[str, Any] = {}
    if node is not None:
        with contextlib.suppress(OSError, ValueError):
            state = json.loads((node / "host-state.json").read_text())
    for key, value in state.get("sysctls", {}).items():
        with contextlib.suppress(OSError):
            (Path("/proc/sys") / key).write_text(value)
    if LEGACY_LOG_DIR.is_dir() and node is not None:
        for link in LEGACY_LOG_DIR.iterdir():
            if link.is_symlink() and os.readlink(link).startswith(str(node) + "/"):
                link.unlink()
    for created in map(Path, state.get("created", [])):  # deepest first, as HOST_PATHS lists them
        if created.name == "device-plugins":
            with contextlib.suppress(FileNotFoundError):
                (created / "kubelet.sock").unlink()
        with contextlib.suppress(OSError):  # only if empty: never someone else's files
            created.rmdir()
    return problems


def kubelet_log_tail(root: Path) -> str:
    """The end of the kubelet's log, for error messages."""
    return tail(log_file(root, "kubelet"), 30)
