"""`make chaos`: PostgreSQL restarted under load, and a graceful shutdown with work in flight.

Needs the machine's PostgreSQL cluster (`pg_ctlcluster`, as root): it restarts it. Load goes to
127.0.0.1 only, is bounded in time, and everything started here is stopped.

1. Writers post progress events, each with its own Idempotency-Key, while PostgreSQL restarts.
   A request whose outcome is unknown (503, timeout, connection error) is retried with the same
   key. Afterwards every acknowledged write must be stored exactly once.
2. Requests in flight when the service gets SIGTERM must complete.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.auth.caller import Role  # noqa: E402
from app.auth.tokens import mint_token  # noqa: E402
from app.config import Settings  # noqa: E402
from bench.run import SECRET, fresh_database, plain, serve, uvicorn  # noqa: E402

PORT = 8611
CLUSTER = os.environ.get("CHAOS_CLUSTER", "15 main")
LOAD_SECONDS = 20
WRITERS = 8


def pg_ctl(action: str) -> None:
    subprocess.run(  # noqa: S603
        ["pg_ctlcluster", "--skip-systemctl-redirect", *CLUSTER.split(), action],  # noqa: S607
        check=True,
    )


async def writer(
    http: httpx.AsyncClient, goal: str, acked: list[str], log: list[tuple[float, int]], stop: float
) -> None:
    while time.monotonic() < stop:
        key = str(uuid.uuid4())
        for _ in range(60):  # retry an unknown outcome with the same key
            started = time.monotonic()
            try:
                response = await http.post(
                    f"/v1/goals/{goal}/progress-events",
                    json={"kind": "measurement", "value": 3},
                    headers={"Idempotency-Key": key},
                    timeout=5,
                )
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            log.append((started, status))
            if status == 201:
                acked.append(response.json()["id"])
                break
            if status not in (0, 409, 503):
                break
            await asyncio.sleep(0.25)


async def restart_under_load(base: str, token: str, goal: str, url: str) -> None:
    acked: list[str] = []
    log: list[tuple[float, int]] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers) as http:
        begin = time.monotonic()
        stop = begin + LOAD_SECONDS
        writers = [
            asyncio.create_task(writer(http, goal, acked, log, stop)) for _ in range(WRITERS)
        ]
        await asyncio.sleep(5)
        down = time.monotonic()
        await asyncio.to_thread(pg_ctl, "stop")
        await asyncio.sleep(3)
        await asyncio.to_thread(pg_ctl, "start")
        up = time.monotonic()
        await asyncio.gather(*writers)
    statuses = Counter(status for _, status in log)
    after_up = [at for at, status in log if at >= up and status == 201]
    connection = await asyncpg.connect(plain(url))
    try:
        stored = await connection.fetch(
            "SELECT id::text, count(*) OVER (PARTITION BY id) AS copies FROM progress_events "
            "WHERE goal_id = $1",
            uuid.UUID(goal),
        )
    finally:
        await connection.close()
    stored_ids = {row["id"] for row in stored}
    print("== PostgreSQL stopped for 3 s under load")
    print(f"   requests: {dict(sorted(statuses.items()))}  (0 = connection error or timeout)")
    print(f"   outage began {down - begin:.1f} s in; PostgreSQL back at {up - begin:.1f} s")
    if after_up:
        print(f"   first success {min(after_up) - up:.2f} s after PostgreSQL was back")
    print(f"   acknowledged writes: {len(acked)}; stored: {len(stored_ids)}")
    print(f"   acknowledged but missing: {len(set(acked) - stored_ids)}")
    print(f"   duplicates: {sum(1 for row in stored if row['copies'] > 1)}")
    print(f"   500 responses: {statuses.get(500, 0)}")


async def graceful_shutdown(master_pid: int, base: str, token: str, url: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    locker = await asyncpg.connect(plain(url))
    transaction = locker.transaction()
    await transaction.start()
    await locker.execute("LOCK TABLE clients IN ACCESS EXCLUSIVE MODE")
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        in_flight = [asyncio.create_task(http.get("/v1/clients")) for _ in range(6)]
        await asyncio.sleep(1)
        os.kill(master_pid, signal.SIGTERM)
        await asyncio.sleep(1)
        await transaction.rollback()
        results = await asyncio.gather(*in_flight, return_exceptions=True)
    await locker.close()
    done = [r for r in results if isinstance(r, httpx.Response) and r.status_code == 200]
    print("== SIGTERM with 6 requests in flight")
    print(f"   completed with 200: {len(done)} of {len(in_flight)}")


def main() -> None:
    server = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    url = asyncio.run(fresh_database(server, "tg_chaos"))
    env = {"DATABASE_URL": url, "JWT_SECRET": SECRET, "API_KEY_PEPPER": SECRET,
           "APP_ENV": "production", "LOG_LEVEL": "ERROR", "RATE_LIMIT": "1000000/minute",
           "DB_POOL_TIMEOUT_SECONDS": "2", "DB_STATEMENT_TIMEOUT_MS": "5000"}  # fmt: skip
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT,
                   env={**os.environ, **env}, check=True, capture_output=True)  # fmt: skip
    token = mint_token(Settings(jwt_secret=SECRET, database_url=url), role=Role.ADMIN,
                       org="chaos", subject="chaos")  # fmt: skip
    base = f"http://127.0.0.1:{PORT}"
    headers = {"Authorization": f"Bearer {token}"}
    with serve(uvicorn("app.main:app", PORT), env, PORT, "/readyz"):
        client = httpx.post(
            f"{base}/v1/clients", json={"display_name": "Chaos"}, headers=headers
        ).json()
        goal = httpx.post(
            f"{base}/v1/clients/{client['id']}/goals",
            json={"title": "Walk each morning", "category": "healthy_behaviors",
                  "measure": {"name": "Walks", "unit": "walks", "kind": "count",
                              "direction": "increase", "baseline": 1, "target": 5}},
            headers=headers,
        ).json()  # fmt: skip
        asyncio.run(restart_under_load(base, token, goal["id"], url))
    with serve(uvicorn("app.main:app", PORT), env, PORT, "/readyz") as master:
        asyncio.run(graceful_shutdown(master.pid, base, token, url))


if __name__ == "__main__":
    main()
