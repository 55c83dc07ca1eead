"""Start, reuse and stop the test ground's servers, by PID, on 127.0.0.1 only.

The control plane (etcd, kube-apiserver, kube-controller-manager), MinIO and an SMTP server; with
``node=True`` also a real node (``node.py``). The process helpers both use are in ``processes.py``.
"""

from __future__ import annotations

import contextlib
import json
import mailbox
import os
import secrets
import shlex
import shutil
import ssl
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from preboarding.testenv import certs
from preboarding.testenv import node as node_mod  # `node` is Ground.start's flag
from preboarding.testenv.binaries import ensure_binaries, kube_bin_dir, minio_bin, repo_root
from preboarding.testenv.processes import (
    HOST,
    GroundError,
    alive,
    check_progress,
    free_ports,
    log_file,
    spawn,
    terminate,
    wait_http,
    wait_tcp,
)

BUCKET = "preboarding"
REGION = "us-east-1"
# Starting again with new ports when a server finds its port taken (see Ground.start).
START_ATTEMPTS = 3
# The order servers start in; they stop in reverse.
SERVERS = ("etcd", "kube-apiserver", "kube-controller-manager", "minio", "smtp")


@dataclass
class GroundInfo:
    """Where the running ground's servers are and how to reach them."""

    root: Path
    api_server: str
    admin_token: str
    ca_file: Path
    kubeconfig: Path
    kubectl: Path
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_bucket: str
    s3_region: str
    smtp_host: str
    smtp_port: int
    mail_dir: Path
    pids: dict[str, int] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """Environment variables that point a process at this ground."""
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "PREBOARDING_S3_ENDPOINT": self.s3_endpoint,
            "PREBOARDING_S3_ACCESS_KEY": self.s3_access_key,
            "PREBOARDING_S3_SECRET_KEY": self.s3_secret_key,
            "PREBOARDING_S3_BUCKET": self.s3_bucket,
            "PREBOARDING_S3_REGION": self.s3_region,
            "PREBOARDING_S3_SECURE": "false",
            "PREBOARDING_SMTP_HOST": self.smtp_host,
            "PREBOARDING_SMTP_PORT": str(self.smtp_port),
            "PREBOARDING_TESTENV_MAILDIR": str(self.mail_dir),
            "PREBOARDING_TESTENV_KUBECTL": str(self.kubectl),
        }

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in data.items()}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> GroundInfo:
        data = json.loads(text)
        for key in ("root", "ca_file", "kubeconfig", "kubectl", "mail_dir"):
            data[key] = Path(data[key])
        return cls(**data)


class Ground:
    """The test ground rooted at a state folder (``.testenv/`` in the source tree by default)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state_file = root / "state.json"
        self.logs = root / "logs"

    @classmethod
    def default(cls) -> Ground:
        """The ground in ``PREBOARDING_TESTENV_DIR``, by default ``.testenv/`` in the source tree."""
        return cls(Path(os.environ.get("PREBOARDING_TESTENV_DIR", repo_root() / ".testenv")))

    # ---- public API -------------------------------------------------------------------------

    def info(self) -> GroundInfo:
        """The running ground's endpoints and credentials (from its state file)."""
        if not self.state_file.exists():
            raise GroundError("the test ground is not running: run `make testenv`")
        return GroundInfo.from_json(self.state_file.read_text())

    def running(self) -> bool:
        """True when every server of a previous start is alive and answering."""
        if not self.state_file.exists():
            return False
        try:
            info = self.info()
        except (ValueError, TypeError, KeyError):
            return False
        expected = {*SERVERS, *node_mod.NODE_SERVERS} if node_mod.has_node(info) else set(SERVERS)
        if set(info.pids) != expected or not all(alive(pid) for pid in info.pids.values()):
            return False
        try:
            self._check_apiserver(info)
            if node_mod.has_node(info):
                node_mod.check(info)
        except (OSError, GroundError):
            return False
        return True

    def start(self, node: bool = False) -> bool:
        """Start the ground, or reuse a running one. Returns True if this call started it.

        ``node=True`` adds a real node (kube-scheduler, containerd, kubelet; see ``node.py``). A running
        ground without a node is not extended: stop it first.
        """
        if self.running():
            if node and not node_mod.has_node(self.info()):
                raise GroundError(f"a test ground without a node runs in {self.root}: stop it "
                                  "(`make testenv-down`) and start it again with a node")
            if node:  # the sources may have changed since it started: run the current images
                node_mod.refresh_images(self.root, node_mod.ensure_artifacts(self.root))
            return False
        self.stop()
        ensure_binaries()
        archives = node_mod.ensure_artifacts(self.root) if node else None
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                self._start_all(archives)
                return True
            except BaseException as exc:
                self.stop()
                # A port chosen free may be taken by another process before our server binds it.
                port_taken = isinstance(exc, GroundError) and "address already in use" in str(exc)
                if not port_taken or attempt == START_ATTEMPTS:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    def stop(self) -> None:
        """Stop every server this ground started (by PID) and remove its data."""
        pids: dict[str, int] = {}
        if self.state_file.exists():
            try:
                pids = json.loads(self.state_file.read_text()).get("pids", {})
            except ValueError:
                pids = {}
        pid_dir = self.root / "pids"
        if pid_dir.is_dir():
            for pid_file in pid_dir.glob("*.pid"):
                with contextlib.suppress(ValueError):
                    pids.setdefault(pid_file.stem, int(pid_file.read_text()))
        node_mod.stop(self.root, pids)  # first, and a no-op without a node: takes the node's pids out of `pids`
        for name in reversed([*SERVERS, *sorted(set(pids) - set(SERVERS))]):
            pid = pids.get(name)
            if pid:
                terminate(pid)
        for path in (self.state_file, self.root / "env", self.root / "kubeconfig"):
            path.unlink(missing_ok=True)
        for sub in ("pids", "data", "pki", "mail"):
            shutil.rmtree(self.root / sub, ignore_errors=True)

    # ---- starting -----------------------------------------------------------------------------

    def _start_all(self, node_archives: list[Path] | None = None) -> None:
        """Start the servers; with ``node_archives`` (the images to import) also the node."""
        root = self.root
        for sub in ("pids", "data", "pki", "logs"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        pki = root / "pki"
        certs.generate(pki)
        ports = free_ports(("etcd", "etcd-peer", "apiserver", "controller-manager", "minio", "minio-console",
                             "smtp"))
        admin_token = secrets.token_hex(24)
        (pki / "tokens.csv").write_text(f'{admin_token},admin,admin,"system:masters"\n')
        (pki / "tokens.csv").chmod(0o600)
        kbin = kube_bin_dir()
        api_server = f"https://{HOST}:{ports['apiserver']}"
        kubeconfig = root / "kubeconfig"
        _write_kubeconfig(kubeconfig, api_server, pki / "ca.crt", admin_token)
        pids: dict[str, int] = {}

        etcd_url = f"http://{HOST}:{ports['etcd']}"
        peer_url = f"http://{HOST}:{ports['etcd-peer']}"
        pids["etcd"] = spawn(root, "etcd", [
            str(kbin / "etcd"), "--name=ground", f"--data-dir={root / 'data' / 'etcd'}",
            f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=ground={peer_url}", "--unsafe-no-fsync=true", "--log-level=warn",
        ])
        wait_http("etcd", f"{etcd_url}/health", log_file(root, "etcd"), pids["etcd"])

        pids["kube-apiserver"] = spawn(root, "kube-apiserver", [
            str(kbin / "kube-apiserver"),
            f"--etcd-servers={etcd_url}",
            f"--bind-address={HOST}", f"--advertise-address={HOST}", f"--secure-port={ports['apiserver']}",
            f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--token-auth-file={pki / 'tokens.csv'}",
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-cluster-ip-range=10.96.0.0/16",
            # No Endpoints for the `kubernetes` Service: its address would be loopback, and nothing
            # here routes to the ClusterIP anyway (in-cluster clients are pointed at 127.0.0.1).
            "--endpoint-reconciler-type=none",
            "--allow-privileged=true",
            "--profiling=false",
            *(node_mod.apiserver_flags(pki) if node_archives is not None else []),
        ])
        self._wait_apiserver(api_server, pki / "ca.crt", admin_token, pids["kube-apiserver"])

        pids["kube-controller-manager"] = spawn(root, "kube-controller-manager", [
            str(kbin / "kube-controller-manager"),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
            f"--bind-address={HOST}", f"--secure-port={ports['controller-manager']}",
            "--leader-elect=false",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            "--use-service-account-credentials=true",
            # No cloud, no node IPAM; node lifecycle would taint the (later) loopback node.
            "--controllers=*,-node-lifecycle-controller,-node-ipam-controller,-cloud-node-lifecycle-controller,"
            "-service-lb-controller,-node-route-controller",
        ])

        access_key = "preboarding"
        secret_key = secrets.token_hex(16)
        pids["minio"] = spawn(root, "minio", [
            str(minio_bin()), "server", "--quiet",
            f"--address={HOST}:{ports['minio']}", f"--console-address={HOST}:{ports['minio-console']}",
            str(root / "data" / "minio"),
        ], env={"MINIO_ROOT_USER": access_key, "MINIO_ROOT_PASSWORD": secret_key, "MINIO_BROWSER": "off",
                "MINIO_UPDATE": "off", "MINIO_CALLHOME_ENABLE": "off"})
        wait_http("minio", f"http://{HOST}:{ports['minio']}/minio/health/live", log_file(root, "minio"),
                  pids["minio"])

        mail_dir = root / "mail"
        mailbox.Maildir(mail_dir, create=True)  # tmp/, new/, cur/
        pids["smtp"] = spawn(root, "smtp", [
            sys.executable, "-m", "aiosmtpd", "--nosetuid", "--listen", f"{HOST}:{ports['smtp']}",
            "--class", "aiosmtpd.handlers.Mailbox", str(mail_dir),
        ])
        wait_tcp("smtp", ports["smtp"], log_file(root, "smtp"), pids["smtp"])

        info = GroundInfo(
            root=root, api_server=api_server, admin_token=admin_token, ca_file=pki / "ca.crt",
            kubeconfig=kubeconfig, kubectl=kbin / "kubectl",
            s3_endpoint=f"{HOST}:{ports['minio']}", s3_access_key=access_key, s3_secret_key=secret_key,
            s3_bucket=BUCKET, s3_region=REGION, smtp_host=HOST, smtp_port=ports["smtp"], mail_dir=mail_dir,
            pids=pids, ports=ports,
        )
        _make_bucket(info)
        self._wait_controller_manager(info)
        if node_archives is not None:
            node_mod.start(root, info, node_archives)
        self.state_file.write_text(info.to_json())
        (root / "env").write_text(
            "# Written by `make testenv`; source it: . .testenv/env\n"
            + "".join(f"export {k}={shlex.quote(v)}\n" for k, v in info.env().items())
            + f"export PATH={shlex.quote(str(kbin))}:\"$PATH\"\n"
        )

    def _wait_apiserver(self, url: str, ca: Path, token: str, pid: int) -> None:
        deadline = time.monotonic() + 120
        ctx = ssl.create_default_context(cafile=str(ca))
        while True:
            try:
                req = urllib.request.Request(f"{url}/readyz", headers={"Authorization": f"Bearer {token}"})
                with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
                    if resp.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            check_progress("kube-apiserver", pid, deadline, log_file(self.root, "kube-apiserver"))
            time.sleep(0.3)

    def _check_apiserver(self, info: GroundInfo) -> None:
        ctx = ssl.create_default_context(cafile=str(info.ca_file))
        req = urllib.request.Request(f"{info.api_server}/readyz",
                                     headers={"Authorization": f"Bearer {info.admin_token}"})
        with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
            if resp.status != 200:
                raise GroundError("apiserver not ready")

    def _wait_controller_manager(self, info: GroundInfo) -> None:
        """Wait until the controller-manager serves; tokens for ServiceAccounts need it."""
        url = f"https://{HOST}:{info.ports['controller-manager']}/healthz"
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # its serving cert is self-signed, made at start
        deadline = time.monotonic() + 90
        while True:
            try:
                req = urllib.request.Request(url, headers={"Authorization": f"Bearer {info.admin_token}"})
                with urllib.request.urlopen(req, context=ctx, timeout=5) as resp:
                    if resp.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            check_progress("kube-controller-manager", info.pids["kube-controller-manager"], deadline,
                           log_file(self.root, "kube-controller-manager"))
            time.sleep(0.3)


def _write_kubeconfig(path: Path, server: str, ca: Path, token: str) -> None:
    import base64

    import yaml

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "testenv", "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(ca.read_bytes()).decode()}}],
        "users": [{"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": "testenv", "context": {"cluster": "testenv", "user": "admin", "namespace": "default"}}],
        "current-context": "testenv",
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)


def _make_bucket(info: GroundInfo) -> None:
    from minio import Minio

    client = Minio(info.s3_endpoint, access_key=info.s3_access_key, secret_key=info.s3_secret_key,
                   secure=False, region=info.s3_region)
    if not client.bucket_exists(info.s3_bucket):
        client.make_bucket(info.s3_bucket)
