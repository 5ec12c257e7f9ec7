"""What every connection of the service's pool is set up with."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from app.config import Settings
from tests.api import production_app


async def plan_cache_mode(settings: Settings, **changes: Any) -> Any:
    async with production_app(settings, **changes) as (app, _):
        engine = app.state.engine
        async with engine.connect() as connection:
            return await connection.scalar(text("SHOW plan_cache_mode"))


async def test_connections_plan_statements_once_by_default(settings: Settings) -> None:
    assert await plan_cache_mode(settings) == "force_generic_plan"


async def test_the_plan_cache_mode_is_a_setting(settings: Settings) -> None:
    assert await plan_cache_mode(settings, db_plan_cache_mode="auto") == "auto"
