"""Operation ids, and the app's routes as one flat list whether added flat or included."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import compile_path


@dataclass(frozen=True, slots=True)
class FlatRoute:
    path: str  # as declared, with convertors: /v1/goals/{goal_id:uuid}
    regex: re.Pattern[str]
    route: APIRoute


def operation_id(route: APIRoute) -> str:
    """Stable operationIds (`create_goal`, `list_goals`) for generated clients. Each router
    names it too: its routes are added to the app as they are (`app.main.include_flat`)."""
    return route.name


def flat_routes(app: FastAPI) -> list[FlatRoute]:
    flat: list[FlatRoute] = []
    for context in iter_route_contexts(app.router.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path:
            flat.append(FlatRoute(context.path, compile_path(context.path)[0], route))
    return flat


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves at `path` (for a 405's `Allow` header)."""
    methods: set[str] = set()
    for flat in flat_routes(app):
        if flat.regex.match(path):
            served = flat.route.methods or set()
            if "GET" in served and getattr(flat.route, "answers_head", False):
                served = served | {"HEAD"}
            methods |= served
    return sorted(methods)
