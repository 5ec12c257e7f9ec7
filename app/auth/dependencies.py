"""FastAPI dependencies that turn the Authorization header into a Caller."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.caller import Caller
from app.auth.tokens import verify_token
from app.config import Settings
from app.problems import Unauthorized

_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A JWT from your identity provider (`python -m app.cli token` in development).",
)


def get_settings_from_app(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_from_app)]


async def get_caller(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None:
        raise Unauthorized("Send `Authorization: Bearer <token>`.", error=None)
    caller = verify_token(credentials.credentials, settings)
    structlog.contextvars.bind_contextvars(org_id=caller.org_id, caller=caller.subject)
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
