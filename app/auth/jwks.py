"""Signing keys from the identity provider's JWKS URL (RS256 / ES256), fetched without blocking.

Only the configured URL is ever fetched: `jku`, `x5u`, `jwk` and `x5c` in a token's header are
attacker-controlled and are never read. The key set is cached for `cache_ttl` seconds; a token
naming an unknown `kid` triggers a refresh (the IdP may have rotated its keys), but fetches are
rate-limited to one per `min_refresh_interval` so that random `kid`s cannot make us hammer the
IdP. When a refresh fails and keys were fetched before, the old keys stay in use
(stale-if-error); with nothing cached the caller gets `JwksUnavailable` (503, not 401).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import structlog
from jwt.types import Options

ALLOWED_ALGORITHMS = ("RS256", "ES256")
FETCH_TIMEOUT_SECONDS = 5.0
# The key type (and, for EC, the curve) each algorithm needs.
_KEY_TYPE_FOR = {"RS256": ("RSA", None), "ES256": ("EC", "P-256")}

_log = structlog.get_logger(__name__)


class InvalidKey(Exception):
    """No acceptable key for this token: answer 401."""


class JwksUnavailable(Exception):
    """The key set could not be fetched and none is cached: answer 503."""


@dataclass(frozen=True, slots=True)
class _CachedKey:
    algorithm: str | None  # the algorithm this key may verify; None when it is unusable
    key: jwt.PyJWK | None


class JwksKeySource:
    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        cache_ttl: float = 600.0,
        min_refresh_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._client = client
        self._cache_ttl = cache_ttl
        self._min_refresh_interval = min_refresh_interval
        self._clock = clock
        self._lock = asyncio.Lock()
        self._keys: dict[str, list[_CachedKey]] | None = None  # None: never fetched
        self._fetched_at = 0.0
        self._last_attempt: float | None = None

    async def signing_key(self, token: str) -> jwt.PyJWK:
        """The key that must have signed `token` (its signature is not checked here)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidKey("The token's header cannot be read.") from None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidKey("The token's header has no `kid`.")
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in ALLOWED_ALGORITHMS:
            raise InvalidKey("The token's algorithm is not accepted.")

        if self._keys is None or self._clock() - self._fetched_at >= self._cache_ttl:
            await self._refresh()
        candidates = self._lookup(kid)
        if candidates is None:
            # The IdP may have rotated its keys; `_refresh` is rate-limited.
            await self._refresh()
            candidates = self._lookup(kid)
        if candidates is None:
            raise InvalidKey("The token's `kid` names no key of the identity provider.")
        for candidate in candidates:
            if candidate.algorithm == algorithm and candidate.key is not None:
                return candidate.key
        raise InvalidKey("The token's `kid` names a key that does not fit its algorithm.")

    def _lookup(self, kid: str) -> list[_CachedKey] | None:
        if self._keys is None:
            raise JwksUnavailable("The identity provider's keys are unavailable.")
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        """Fetch the key set unless a fetch was attempted less than `min_refresh_interval` ago.

        Callers queue on the lock, so concurrent callers share one fetch: those that waited
        find the attempt recent and use its result.
        """
        async with self._lock:
            started = self._clock()
            if (
                self._last_attempt is not None
                and started - self._last_attempt < self._min_refresh_interval
            ):
                return
            self._last_attempt = started
            try:
                keys = await self._fetch()
            except JwksUnavailable as error:
                stale = self._keys is not None
                _log.warning(
                    "jwks_refresh_failed",
                    url=self._url,
                    reason=str(error),
                    using_stale_keys=stale,
                    stale_key_age_seconds=round(started - self._fetched_at, 1) if stale else None,
                )
                if not stale:
                    raise
                return
            self._keys = keys
            self._fetched_at = self._clock()

    async def _fetch(self) -> dict[str, list[_CachedKey]]:
        try:
            response = await self._client.get(
                self._url, timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False
            )
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise JwksUnavailable(f"JWKS request failed: {type(error).__name__}") from error
        if response.status_code != httpx.codes.OK:
            raise JwksUnavailable(f"JWKS request answered HTTP {response.status_code}")
        try:
            document = response.json()
        except ValueError:
            raise JwksUnavailable("JWKS response is not JSON") from None
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise JwksUnavailable("JWKS response is not an object with a `keys` list")

        keys: dict[str, list[_CachedKey]] = {}
        for jwk in document["keys"]:
            if not isinstance(jwk, dict):
                continue
            kid, use = jwk.get("kid"), jwk.get("use")
            if not isinstance(kid, str) or not kid or (use is not None and use != "sig"):
                continue
            keys.setdefault(kid, []).append(_parse_key(jwk))
        if not any(k.key is not None for entries in keys.values() for k in entries):
            raise JwksUnavailable("JWKS response has no usable RS256 or ES256 signing key")
        return keys


def _parse_key(jwk: dict[str, Any]) -> _CachedKey:
    """The key with the one algorithm it may verify; unusable keys stay so that their `kid`
    counts as known (a token naming one is rejected without a refresh)."""
    unusable = _CachedKey(algorithm=None, key=None)
    declared = jwk.get("alg")
    if declared is not None and declared not in ALLOWED_ALGORITHMS:
        return unusable
    if "d" in jwk:  # a private key has no business in a published key set
        return unusable
    for algorithm, (kty, crv) in _KEY_TYPE_FOR.items():
        if declared not in (None, algorithm) or jwk.get("kty") != kty:
            continue
        if crv is not None and jwk.get("crv") != crv:
            continue
        try:
            return _CachedKey(algorithm=algorithm, key=jwt.PyJWK(jwk, algorithm=algorithm))
        except (jwt.PyJWTError, ValueError, TypeError):
            return unusable
    return unusable


async def verify_with_jwks(
    token: str,
    source: JwksKeySource,
    *,
    issuer: str | None,
    audience: str | None,
    leeway: int = 30,
) -> dict[str, Any]:
    """Verify `token` against the IdP's keys and return its claims.

    Raises `InvalidKey` / `jwt.PyJWTError` (answer 401) or `JwksUnavailable` (answer 503).
    """
    key = await source.signing_key(token)
    required = ["exp", "sub"]
    if issuer:
        required.append("iss")
    if audience:
        required.append("aud")
    options: Options = {"require": required, "verify_aud": audience is not None}
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=[key.algorithm_name],
        issuer=issuer,
        audience=audience,
        options=options,
        leeway=leeway,
    )
    return claims
