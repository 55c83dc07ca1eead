"""The test ground: a real Kubernetes control plane, MinIO and an SMTP server on 127.0.0.1.

Started by ``make testenv`` / ``preboarding testenv up`` and by the pytest session fixture ``ground``
through the same code (``Ground``). Binaries are built by ``testenv/build-*.sh`` and cached under
``~/.cache/preboarding/<component>-<version>/``.
"""
