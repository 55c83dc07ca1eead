"""The binaries the test ground runs: their versions, the cache they are built into, the scripts that build them.

``testenv/build-*.sh`` in the source tree build Kubernetes, etcd and MinIO once per version into
``~/.cache/preboarding/<component>-<version>/`` (``PREBOARDING_CACHE`` moves it).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from preboarding.testenv.processes import GroundError

KUBE_VERSION = "1.34.4"
MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"


def repo_root() -> Path:
    """The source tree the test ground belongs to (its build scripts, Dockerfiles, chart and examples).

    preboarding-testenv is installed in editable mode from the tree's ``testenv/`` folder, so this module
    lives in ``<tree>/testenv/src/preboarding/testenv/``: the tree is the nearest parent that holds both
    ``pyproject.toml`` and ``testenv/pyproject.toml``.
    """
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "testenv" / "pyproject.toml").is_file():
            return parent
    raise GroundError(f"{here} is not inside a preboarding source tree: the test ground needs its scripts; "
                      "install it from a checkout with `pip install -e ./testenv`")


def cache_dir() -> Path:
    """Where built binaries and image archives are kept, outside the checkout."""
    return Path(os.environ.get("PREBOARDING_CACHE", Path.home() / ".cache" / "preboarding"))


def kube_bin_dir() -> Path:
    """etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kubectl."""
    return cache_dir() / f"kube-v{KUBE_VERSION}" / "bin"


def minio_bin() -> Path:
    """The MinIO server binary."""
    return cache_dir() / f"minio-{MINIO_VERSION}" / "bin" / "minio"


def ensure_binaries() -> None:
    """Build (or find cached) Kubernetes, etcd and MinIO binaries."""
    scripts = repo_root() / "testenv"
    env = {**os.environ, "KUBE_VERSION": KUBE_VERSION, "MINIO_VERSION": MINIO_VERSION,
           "PREBOARDING_CACHE": str(cache_dir())}
    for script in ("build-kube.sh", "build-minio.sh"):
        subprocess.run(["bash", str(scripts / script)], check=True, env=env)
