"""Per-client token buckets in memory (pure: the caller passes the monotonic time).

One process holds the buckets, so the limit is per bridge replica. Memory is bounded: past
``max_clients`` the least recently seen client's bucket is dropped (it would have refilled anyway).
"""

from __future__ import annotations

from collections import OrderedDict


class TokenBucketLimiter:
    """``per_minute`` requests a minute per key, bursts of up to ``burst``; ``per_minute=0`` allows all."""

    def __init__(self, per_minute: int, burst: int, max_clients: int = 10_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def acquire(self, key: str, now: float) -> float:
        """Take one token for ``key``: 0.0 if allowed, else the seconds until a token is available."""
        if not self.enabled:
            return 0.0
        tokens, at = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)
