"""The webhook bridge: HR "new hire" webhooks in, OnboardingVideo resources out.

``main.create_app`` builds the FastAPI app from a ``BridgeSettings`` and a ``BridgeDeps`` (the Kubernetes
repository and the object store), so the routes run against in-memory fakes in unit tests. The pure
core (signatures, payload intake, the idempotency decision, status mapping, rate limiting) has no I/O.
"""

APP_NAME = "preboarding-bridge"
