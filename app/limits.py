"""Per-caller rate limits (OWASP API4), a budget of records listed per caller (OWASP API6:
bulk listing is how a stolen account carries off a practice's data), and a budget of failed
authentications per client address (OWASP API2: guessing keys or tokens), with the `limits`
library's sliding window counter.

The sliding window counter weighs the previous window's count by how much of it is still in
view: constant work and memory per caller, where a moving window keeps (and sorts, and
expires on a thread) one entry per request.

The counters live in each worker's memory: with N workers a caller gets up to N times the
limit. Behind several replicas, point `limits` at Redis instead (one line here).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from types import ModuleType

import structlog
from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.storage import memory as limits_memory
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

from app.auth.caller import Caller
from app.problems import AppError

_log = structlog.get_logger("app.limits")


class TooManyRequests(AppError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"


class ListBudgetSpent(TooManyRequests):
    slug = "list-budget-spent"
    title = "Too many records listed"


class TooManyFailedCredentials(TooManyRequests):
    slug = "too-many-failed-credentials"
    title = "Too many rejected credentials"


class SweptMemoryStorage(MemoryStorage):
    """`limits`' in-memory counters, with expired ones swept at most once per SWEEP_SECONDS.

    Its own `incr` starts a task after every hit that walks the counters of every caller
    seen in the window, so a request cost more the more callers there were. Here the walk
    runs once a second at most, inline; a counter whose window has passed is dropped when it
    is next read or counted, as `limits` does, so it never counts again. Counting is
    unchanged: nothing awaits between reading a counter and writing it, so no other request
    can come in between."""

    SWEEP_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._swept_at = _now()

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = _now()
        self._sweep(now)
        self._drop_if_expired(key, now)
        self.storage[key] += amount
        if self.storage[key] == amount:  # a new counter
            self.expirations[key] = now + expiry
        return self.storage[key]

    async def decr(self, key: str, amount: int = 1) -> int:
        now = _now()
        self._sweep(now)
        self._drop_if_expired(key, now)
        self.storage[key] = max(self.storage[key] - amount, 0)
        return self.storage[key]

    def _drop_if_expired(self, key: str, now: float) -> None:
        if self.expirations.get(key, 0) <= now:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            self.locks.pop(key, None)

    def _sweep(self, now: float) -> None:
        if now - self._swept_at < self.SWEEP_SECONDS:
            return
        self._swept_at = now
        for key in [key for key, at in self.expirations.items() if at <= now]:
            self._drop_if_expired(key, now)


def _now() -> float:
    """The clock `limits` reads for its windows and expiry, so that the sweep's agrees (and a
    test that moves it moves both)."""
    clock: ModuleType = vars(limits_memory)["time"]
    return float(clock.time())


class _Windows:
    """A rule's windows (`limits` notation, e.g. `10/second;1000/hour`), counted in memory."""

    strategy: type[RateLimiter] = SlidingWindowCounterRateLimiter
    refused: type[TooManyRequests] = TooManyRequests

    def __init__(self, rule: str) -> None:
        self.items = parse_many(rule)
        self.limiter = self.strategy(SweptMemoryStorage())

    async def refusal(self, item: RateLimitItem, detail: str, *identity: str) -> TooManyRequests:
        stats = await self.limiter.get_window_stats(item, *identity)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        return self.refused(detail, headers={"Retry-After": str(retry_after)})


def per_window(item: RateLimitItem, what: str) -> str:
    """`item` in words: "600 requests per minute", "5000 records per 2 hours"."""
    unit = item.GRANULARITY.name
    window = unit if item.multiples == 1 else f"{item.multiples} {unit}s"
    return f"{item.amount} {what} per {window}"


class CallerRateLimiter(_Windows):
    async def check(self, caller: Caller) -> None:
        identity = (caller.unique_key,)
        for item in self.items:
            if not await self.limiter.hit(item, *identity):
                detail = f"Your limit is {per_window(item, 'requests')}; slow down."
                raise await self.refusal(item, detail, *identity)


class ListBudget(_Windows):
    """Records of client data (clients, goals, goal revisions, progress events) one caller may
    list per window, charged per page by the records on it. Past the budget the page is
    refused whole: 429, audited like every refused request, and a warning in the log (ids
    only) to alert on.

    Fixed windows, so that `Retry-After` is when the whole budget is back; a sliding window
    frees a record at a time, and a page asked for again a second later would be refused
    again."""

    strategy = FixedWindowRateLimiter
    refused = ListBudgetSpent

    async def spend(self, caller: Caller, records: int) -> None:
        if not records:
            return
        identity = (caller.unique_key,)
        for item in self.items:  # every window must have room before any is charged
            if not await self.limiter.test(item, *identity, cost=records):
                _log.warning("list budget spent", budget=str(item), records=records)
                detail = (
                    f"This page of {records} records would pass your budget of "
                    f"{per_window(item, 'records listed')}."
                )
                raise await self.refusal(item, detail, *identity)
        for item in self.items:
            await self.limiter.hit(item, *identity, cost=records)


async def charge_listed(request: Request, records: int) -> None:
    """Spends `records` of the authenticated caller's list budget (`ListBudget`)."""
    budget: ListBudget = request.app.state.list_budget
    await budget.spend(request.state.authenticated, records)


def sender(host: str) -> str:
    """Who a failed credential is counted against: the IPv4 address, or the IPv6 /64 (one
    network hands its hosts a whole /64, and any of them can take a new address in it)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # no address (a test client, a Unix socket): one sender
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # an IPv4 sender on a dual-stack socket
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return host


class FailedAuthentications(_Windows):
    """Counts rejected credentials per client address (not expired tokens: they were valid);
    past the budget, the address may send only tokens and API keys already seen valid.
    Anything else is refused with 429 before it is looked at (no database lookup of a guessed
    key, no signature check), until the window lets it try again. So a guesser behind the
    same NAT or proxy as an EHR cannot lock the EHR's working key out.

    Only addresses that went over pay for a check: every other request does one set lookup.
    Behind a proxy the address is the one it forwards (uvicorn `--proxy-headers` with
    `FORWARDED_ALLOW_IPS` set to the proxy's address, never `*`, or senders choose their own).
    """

    TRACKED = 10_000  # addresses over the budget kept at once; a flood of new ones resets it
    refused = TooManyFailedCredentials

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.over: set[str] = set()
        # Digests (`hash_key`) of API keys that authenticated, most recent last: a key's
        # digest is what the database keeps of it, and lets nobody in.
        self.good_keys: OrderedDict[str, None] = OrderedDict()

    def key_was_valid(self, digest: str) -> None:
        self.good_keys[digest] = None
        self.good_keys.move_to_end(digest)
        if len(self.good_keys) > self.TRACKED:
            self.good_keys.popitem(last=False)

    def key_was_refused(self, digest: str) -> None:
        """Revoked since it was seen valid: a stranger again."""
        self.good_keys.pop(digest, None)

    async def check(self, address: str) -> None:
        if address not in self.over:
            return
        for item in self.items:
            if not await self.limiter.test(item, address):
                detail = "Too many rejected credentials from this address; try again later."
                raise await self.refusal(item, detail, address)
        self.over.discard(address)

    async def failed(self, address: str) -> None:
        for item in self.items:
            await self.limiter.hit(item, address)
            if not await self.limiter.test(item, address):  # the budget is spent
                if len(self.over) >= self.TRACKED:
                    self.over.clear()  # the limiter still counts them; they come back at once
                self.over.add(address)
