"""Rate limits for the routes that invite abuse (search, token minting): token buckets per caller.

Home-made because it is 40 lines and the established options (slowapi / limits) bring a global
decorator model that does not fit FastAPI dependencies well. Buckets live in the process: behind a
load balancer each node enforces its own share; a shared store (Redis) can implement the same
``RateLimiter`` protocol when one node's view is not enough.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fastapi import Request

from oberih.api.problems import ApiProblem


class RateLimiter(Protocol):
    def allow(self, key: str) -> float | None:
        """None when allowed; otherwise the seconds to wait."""


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """``burst`` requests at once, refilled at ``per_second``; buckets of idle keys are dropped."""

    def __init__(
        self, *, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float | None:
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key) or _Bucket(tokens=self.burst, updated=now)
            bucket.tokens = min(
                self.burst, bucket.tokens + (now - bucket.updated) * self.per_second
            )
            bucket.updated = now
            self._buckets[key] = bucket
            if len(self._buckets) > 100_000:
                self._forget_idle(now)
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return (1 - bucket.tokens) / self.per_second

    def _forget_idle(self, now: float) -> None:
        full_after = self.burst / self.per_second
        for key in [k for k, b in self._buckets.items() if now - b.updated > full_after]:
            del self._buckets[key]


def caller_key(request: Request) -> str:
    """Who is asking: the bearer token's hash-free prefix is not used (tokens are secrets); the
    authenticated subject when a route has set it, else the client address."""
    subject = getattr(request.state, "subject", None)
    if subject:
        return f"sub:{subject}"
    client = request.client.host if request.client else "unknown"
    return f"ip:{client}"


def enforce(limiter: RateLimiter, request: Request, bucket: str) -> None:
    wait = limiter.allow(f"{bucket}:{caller_key(request)}")
    if wait is not None:
        raise ApiProblem(
            429,
            "too-many",
            "Too many requests",
            detail=f"retry after {max(1, round(wait))} s",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
