"""Per-caller rate limits (OWASP API4), with the `limits` library's sliding window counter.

The sliding window counter weighs the previous window's count by how much of it is still in
view: constant work and memory per caller, where a moving window keeps (and sorts, and
expires on a thread) one entry per request.

The counters live in each worker's memory: with N workers a caller gets up to N times the
limit. Behind several replicas, point `limits` at Redis instead (one line here).
"""

from __future__ import annotations

import math
import time

from limits import parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from app.auth.caller import Caller
from app.problems import AppError


class TooManyRequests(AppError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"


class CallerRateLimiter:
    def __init__(self, rule: str) -> None:
        self.items = parse_many(rule)
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    async def check(self, caller: Caller) -> None:
        identity = (caller.org_id, caller.subject)
        for item in self.items:
            if not await self.limiter.hit(item, *identity):
                stats = await self.limiter.get_window_stats(item, *identity)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise TooManyRequests(
                    f"More than {item} requests; slow down.",
                    headers={"Retry-After": str(retry_after)},
                )
