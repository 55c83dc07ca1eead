"""The test ground: a real Kubernetes control plane, MinIO and an SMTP server on 127.0.0.1.

A separate, test-only distribution (``testenv/pyproject.toml``, preboarding-testenv), installed next to
the product by ``make venv``; neither the product wheel nor the images contain it. Started by
``make testenv`` / ``preboarding-testenv up`` and by the pytest session fixture ``ground`` through the
same code (``Ground``). Binaries are built by ``testenv/build-*.sh`` and cached under
``~/.cache/preboarding/<component>-<version>/``.
"""
