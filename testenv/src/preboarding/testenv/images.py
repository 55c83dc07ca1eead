"""The images the test node runs: the sandbox (pause) image and the project's images, as OCI archives.

Nothing can be pulled here: ``testenv/build-pause.sh`` packs a static C program as a one-layer image, and
``build/images.sh --archive`` builds the project's images with buildah, cached by a digest of what goes
into them. The node imports the archives into containerd with ``ctr`` (``containerd.import_images``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from preboarding.testenv.binaries import cache_dir, repo_root

PAUSE_VERSION = "1"
PAUSE_IMAGE = f"localhost/preboarding-pause:{PAUSE_VERSION}"
PROJECT_IMAGES = ("operator", "renderer")
# What goes into the images (see .dockerignore). README.md is copied too, but only becomes the wheel's
# long description: editing it does not rebuild the images.
IMAGE_INPUTS = ("Dockerfile.operator", "Dockerfile.renderer", "build/images.sh", "build/pip.conf", "pyproject.toml",
                "src", "operator/src", "renderer/src", "webhook-bridge/src")


def pause_archive() -> Path:
    """The sandbox image as an OCI archive, built once per PAUSE_VERSION (testenv/build-pause.sh)."""
    env = {**os.environ, "PAUSE_VERSION": PAUSE_VERSION, "PAUSE_IMAGE": PAUSE_IMAGE,
           "PREBOARDING_CACHE": str(cache_dir())}
    out = subprocess.run(["bash", str(repo_root() / "testenv" / "build-pause.sh")], check=True, env=env,
                         stdout=subprocess.PIPE, text=True).stdout
    return Path(out.strip().splitlines()[-1])


def image_sources_digest(root: Path | None = None) -> str:
    """sha256 over the paths and contents of every file the images are built from."""
    root = root or repo_root()
    digest = hashlib.sha256()
    for name in IMAGE_INPUTS:
        top = root / name
        files = [top] if top.is_file() else sorted(
            p for p in top.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")
            and not any(part.endswith(".egg-info") for part in p.parts))
        for path in files:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def project_image_archives() -> list[Path]:
    """``build/images.sh --archive`` output, reused while the sources digest is unchanged."""
    digest = image_sources_digest()[:16]
    out = cache_dir() / f"images-{digest}"
    archives = [out / f"preboarding-{name}.tar" for name in PROJECT_IMAGES]
    if all(a.is_file() for a in archives):
        return archives
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(["bash", str(repo_root() / "build" / "images.sh"), "--archive", str(partial)], check=True,
                   cwd=repo_root(), stdout=subprocess.DEVNULL)
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    for old in cache_dir().glob("images-*"):  # keep one set: each is about 1.5 GB
        if old != out:
            shutil.rmtree(old, ignore_errors=True)
    return archives
