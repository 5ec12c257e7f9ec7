"""FastAPI dependencies that turn the Authorization header into a Caller, and a service.

FastAPI solves every dependency and each of its sub-dependencies again on every request. So
an operation depends on one thing: its domain's service (`ServiceDependency`), which reads
the session, the settings and the caller from where the route class, the app and
authentication put them rather than asking for each as a sub-dependency (3.5 % of a GET's
instructions, measured with callgrind).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.secrets import hash_key, looks_like_key
from app.api_keys.service import RevokedKey, authenticate_key
from app.auth.caller import Caller, Role
from app.auth.scopes import SCOPE_BY_OPERATION
from app.auth.tokens import ExpiredToken, VerifiedTokens, verify_token
from app.config import Settings
from app.limits import FailedAuthentications, sender
from app.logging import bind_request_context
from app.problems import Forbidden, Unauthorized

Service = TypeVar("Service")


class _Bearer(HTTPBearer):
    """The bearer scheme as the published OpenAPI has always described it, and the one place
    a request's caller is authenticated."""

    def __init__(self) -> None:
        super().__init__(
            scheme_name="HTTPBearer",
            auto_error=False,
            bearerFormat="JWT or API key",
            description="A JWT from your identity provider (`python -m app.cli token` in "
            "development), or an integration's API key (`tgk_…`).",
        )

    async def authenticate(self, request: Request) -> Caller:
        """The request's caller, authenticated once however many dependencies ask."""
        known: Caller | None = getattr(request.state, "authenticated", None)
        if known is not None:
            return known
        token = bearer_token(request.headers.get("Authorization"))
        if token is None:
            raise Unauthorized("Send `Authorization: Bearer <token>`.", error=None)
        caller = await self._verify(request, token)
        # Known from here on: logged, audited and rate-limited, even when refused below.
        request.state.caller = caller
        bind_request_context(org_id=caller.org_id, caller=caller.subject)
        await request.app.state.rate_limiter.check(caller)
        if caller.role is Role.INTEGRATION:
            _check_integration_scope(request, caller)
        # `caller` above is set before the checks, for the audit of a refused request; this
        # one only once they pass, for the next dependency that asks.
        request.state.authenticated = caller
        return caller

    @staticmethod
    async def _verify(request: Request, token: str) -> Caller:
        """The token's or key's caller. Credentials that fail (but for an expired token, which
        was once valid) count against the sender's address; past its budget the address may
        send only tokens and keys already seen valid, until the window lets it try again."""
        guard: FailedAuthentications = request.app.state.failed_authentications
        host = request.client.host if request.client else ""
        settings: Settings = request.app.state.settings
        try:
            if looks_like_key(token):
                digest = hash_key(token, settings.api_key_pepper)
                if guard.over and digest not in guard.good_keys:
                    await guard.check(sender(host))
                try:
                    caller = await authenticate_key(request.state.session, token, digest)
                except RevokedKey as revoked:
                    request.state.caller = revoked.caller  # audited as the key's attempt
                    guard.key_was_refused(digest)
                    raise
                except Unauthorized:
                    guard.key_was_refused(digest)
                    raise
                guard.key_was_valid(digest)
                return caller
            verified: VerifiedTokens = request.app.state.verified_tokens
            if guard.over and verified.get(token) is None:
                await guard.check(sender(host))
            return await verify_token(token, settings, request.app.state.jwks, verified)
        except ExpiredToken:
            raise
        except Unauthorized:
            await guard.failed(sender(host))
            raise


def bearer_token(authorization: str | None) -> str | None:
    """The token of `Authorization: Bearer <token>` (the scheme in any case), read as
    `HTTPBearer` reads it, without the credentials model it builds on every request."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class BearerAuthentication(_Bearer):
    """Authorization header → Caller, for operations that need no service."""

    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        return await self.authenticate(request)


class ServiceDependency(_Bearer, Generic[Service]):
    """Authorization header → the domain's service, built for that caller in this request's
    session (opened by `TransactionalRoute`, which every domain router uses). As an
    `HTTPBearer` it still documents the scheme on every operation using it."""

    def __init__(self, build: Callable[[AsyncSession, Caller, Settings], Service]) -> None:
        super().__init__()
        self.build = build

    async def __call__(self, request: Request) -> Service:  # type: ignore[override]
        caller = await self.authenticate(request)
        return self.build(request.state.session, caller, request.app.state.settings)


get_caller = BearerAuthentication()


def _check_integration_scope(request: Request, caller: Caller) -> None:
    operation = getattr(request.scope.get("route"), "name", "")
    needed = SCOPE_BY_OPERATION.get(operation)
    if needed is None:
        raise Forbidden("Integrations may not call this operation.")
    if needed not in caller.scopes:
        raise Forbidden(f"This API key lacks the `{needed}` scope.", required_scope=needed)


CallerDep = Annotated[Caller, Depends(get_caller)]
