"""Per-caller rate limits (OWASP API4), and a budget of failed authentications per client
address (OWASP API2: guessing keys or tokens), with the `limits` library's sliding window
counter.

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


class FailedAuthentications:
    """Counts rejected credentials per client address; past the budget, every request from that
    address is refused with 429 before its credentials are looked at (a right guess must not
    get through either), until the window lets it try again.

    Only addresses that went over pay for a check: every other request does one set lookup.
    Behind a proxy the address is the one it forwards (uvicorn `--proxy-headers`).
    """

    TRACKED = 10_000  # addresses over the budget kept at once; a flood of new ones resets it

    def __init__(self, rule: str) -> None:
        self.items = parse_many(rule)
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        self.over: set[str] = set()

    async def check(self, address: str) -> None:
        if address not in self.over:
            return
        for item in self.items:
            if not await self.limiter.test(item, address):
                stats = await self.limiter.get_window_stats(item, address)
                raise TooManyRequests(
                    "Too many rejected credentials from this address; try again later.",
                    headers={"Retry-After": str(max(1, math.ceil(stats.reset_time - time.time())))},
                )
        self.over.discard(address)

    async def failed(self, address: str) -> None:
        for item in self.items:
            await self.limiter.hit(item, address)
            if not await self.limiter.test(item, address):  # the budget is spent
                if len(self.over) >= self.TRACKED:
                    self.over.clear()  # the limiter still counts them; they come back at once
                self.over.add(address)
