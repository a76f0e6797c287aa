"""A small sliding-window rate limiter, per key (the client's address), in process.

The public self-service has no login to throttle, so each address may ask a number of
questions per window. Counts live in the server process (with several worker processes
each keeps its own, so the effective limit is the setting times the workers); at most
:data:`MAX_KEYS` addresses are remembered, the least recently seen forgotten first.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_KEYS = 50_000


class RateLimiter:
    def __init__(
        self, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = window_seconds
        self.clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str, limit: int) -> float:
        """Count one request of ``key``; 0 when allowed, else the seconds to wait (the
        refused request is not counted)."""
        now = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        self._hits.move_to_end(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= limit:
            return max(1.0, math.ceil(hits[0] + self.window - now))
        hits.append(now)
        while len(self._hits) > MAX_KEYS:
            self._hits.popitem(last=False)
        return 0.0

    def reset(self) -> None:
        self._hits.clear()


SELF_SERVICE = RateLimiter()
