"""FastAPI dependencies that turn the Authorization header into a Caller."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from app.api_keys.secrets import looks_like_key
from app.api_keys.service import authenticate_key
from app.auth.caller import Caller, Role
from app.auth.scopes import SCOPE_BY_OPERATION
from app.auth.tokens import verify_token
from app.config import Settings
from app.problems import Forbidden, Unauthorized


class BearerAuthentication(HTTPBearer):
    """Authorization header → Caller, as one dependency of the request alone.

    Every operation depends on it, so it reads the settings and the session from where the
    app and the route class put them rather than through sub-dependencies (each of which
    FastAPI would solve on every request). As an `HTTPBearer` it still documents the scheme.
    """

    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        credentials = await super().__call__(request)
        if credentials is None:
            raise Unauthorized("Send `Authorization: Bearer <token>`.", error=None)
        settings: Settings = request.app.state.settings
        token = credentials.credentials
        if looks_like_key(token):
            caller = await authenticate_key(request.state.session, token, settings.api_key_pepper)
        else:
            caller = await verify_token(
                token, settings, request.app.state.jwks, request.app.state.verified_tokens
            )
        # Known from here on: logged, audited and rate-limited, even when refused below.
        request.state.caller = caller
        structlog.contextvars.bind_contextvars(org_id=caller.org_id, caller=caller.subject)
        await request.app.state.rate_limiter.check(caller)
        if caller.role is Role.INTEGRATION:
            _check_integration_scope(request, caller)
        return caller


get_caller = BearerAuthentication(
    scheme_name="HTTPBearer",  # the name the published OpenAPI has always used
    auto_error=False,
    bearerFormat="JWT or API key",
    description="A JWT from your identity provider (`python -m app.cli token` in development), "
    "or an integration's API key (`tgk_…`).",
)


async def get_settings_from_app(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_from_app)]


def _check_integration_scope(request: Request, caller: Caller) -> None:
    operation = getattr(request.scope.get("route"), "name", "")
    needed = SCOPE_BY_OPERATION.get(operation)
    if needed is None:
        raise Forbidden("Integrations may not call this operation.")
    if needed not in caller.scopes:
        raise Forbidden(f"This API key lacks the `{needed}` scope.", required_scope=needed)


CallerDep = Annotated[Caller, Depends(get_caller)]
