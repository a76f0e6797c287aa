"""A sliding-window rate limit per key, kept in the process (the public survey routes:
one worker process answers a client's burst; with several processes each counts its own,
so the effective limit is at most the number of processes times the limit)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from bankcrm.web.problems import Problem


@dataclass
class SlidingWindow:
    limit: int
    """Requests allowed per key within ``seconds``."""
    seconds: float
    max_keys: int = 50_000
    """Keys remembered at most; beyond, the quietest are forgotten first."""
    hits: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, key: str, now: float | None = None) -> float | None:
        """None when the request is allowed (and counted); else seconds to wait."""
        moment = time.monotonic() if now is None else now
        window = self.hits.get(key)
        if window is None:
            if len(self.hits) >= self.max_keys:
                self._forget(moment)
            window = self.hits[key] = deque()
        while window and window[0] <= moment - self.seconds:
            window.popleft()
        if len(window) >= self.limit:
            return max(window[0] + self.seconds - moment, 0.0)
        window.append(moment)
        return None

    def check(self, key: str) -> None:
        """Raise a 429 problem with ``Retry-After`` when ``key`` is over its limit."""
        wait = self.retry_after(key)
        if wait is not None:
            seconds = max(int(wait) + 1, 1)
            raise Problem(
                429,
                f"too many requests; try again in {seconds} s",
                code="rate_limited",
                headers={"Retry-After": str(seconds)},
            )

    def clear(self) -> None:
        self.hits.clear()

    def _forget(self, now: float) -> None:
        for key in [k for k, w in self.hits.items() if not w or w[-1] <= now - self.seconds]:
            del self.hits[key]
        if len(self.hits) >= self.max_keys:
            quiet = sorted(self.hits, key=lambda k: self.hits[k][-1])
            for key in quiet[: len(quiet) // 2]:
                del self.hits[key]
