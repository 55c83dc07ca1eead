"""A reused node imports the images of the current sources, and only when they changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from preboarding.testenv import containerd, node

pytestmark = pytest.mark.unit


def test_images_are_imported_again_only_when_the_archives_change(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    imported: list[list[Path]] = []
    monkeypatch.setattr(containerd, "import_images", lambda sock, archives: imported.append(list(archives)))
    node.node_dir(tmp_path).mkdir(parents=True)
    old = [tmp_path / "images-aaaa" / "preboarding-renderer.tar"]
    new = [tmp_path / "images-bbbb" / "preboarding-renderer.tar"]
    node.refresh_images(tmp_path, old)
    node.refresh_images(tmp_path, old)  # the same sources: nothing to do
    node.refresh_images(tmp_path, new)  # a reused ground after a source change
    assert imported == [old, new]
