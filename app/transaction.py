"""One transaction per request, opened and committed in one place: the route class.

The handler's work, the stored idempotent response and the audit record commit together,
before the response is sent, so a failed commit is a problem response and never a 2xx whose
data was lost.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def run_in_transaction(request: Request) -> Response:
            sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
            async with sessionmaker() as session:
                request.state.session = session
                response = await handler(request)
                await session.commit()
            return response

        return run_in_transaction
