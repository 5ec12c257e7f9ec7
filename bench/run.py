"""`make bench`: seed, serve, load, compare with the raw ceiling, print, and clean up.

Seeds two data sets (10,000 and 1,000,000 events). For each endpoint in turn, serves the small
data set with the service (2 uvicorn workers), drives it with wrk (32 connections) against
127.0.0.1 only, then does the same at once on the large one; a raw Starlette + asyncpg app on
the same tables gives each baseline just before the endpoint compared with it. So every ratio
compares runs seconds apart. Everything it starts, it stops. Figures depend on the machine:
read the ratios more than the numbers, and on a shared machine take the median of a few
rounds (`--rounds 3`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from statistics import median
from typing import Any

import asyncpg
import httpx
import psutil
from sqlalchemy import make_url
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.auth.caller import Role  # noqa: E402
from app.auth.tokens import VerifiedTokens, mint_token  # noqa: E402
from app.config import Settings  # noqa: E402
from app.driver import DriverQuery  # noqa: E402
from app.progress.service import GAS_SCORED_STATUSES  # noqa: E402
from bench.seed import ORG, Seeded, seed  # noqa: E402

SECRET = "bench-secret-" + "b" * 40
SERVICE_PORT, RAW_PORT = 8601, 8602
WORKERS = 2  # uvicorn's, for the service and the raw app alike
WARM_UP_SECONDS = 2
ENDPOINTS = [
    ("GET /v1/goals/{id}", "GET", "/v1/goals/{id}", "goals", None),
    ("GET /v1/goals?limit=20", "GET", "/v1/goals?limit=20&client_id={id}", "clients", None),
    ("GET /v1/goals/{id}/progress", "GET", "/v1/goals/{id}/progress", "goals", None),
    ("GET /v1/clients/{id}/summary", "GET", "/v1/clients/{id}/summary", "clients", None),
    ("POST …/progress-events", "POST", "/v1/goals/{id}/progress-events", "goals",
     '{"kind": "measurement", "value": 3}'),
]  # fmt: skip
RAW = [
    ("raw GET goal", "GET", "/raw/goals/{id}", "goals", None),
    ("raw POST event", "POST", "/raw/goals/{id}/progress-events", "goals", '{"value": 3}'),
]
BASELINE_FOR = {"GET /v1/goals/{id}": "raw GET goal", "POST …/progress-events": "raw POST event"}
# Each raw baseline runs just before the endpoint compared with it: on a shared machine, what
# drifts over a run (other tenants, caches, the disk) weighs on both sides of a ratio alike.
SCHEDULE = [RAW[0], *ENDPOINTS[:4], RAW[1], ENDPOINTS[4]]
# Every round of reads sees the data set as seeded: each POST run adds its events (thousands;
# as many again as the 10,000-event set holds), on pages VACUUM has not seen yet. So the reads
# of all rounds go first, then the writes of all rounds.
READS = [step for step in SCHEDULE if step[1] == "GET"]
WRITES = [step for step in SCHEDULE if step[1] != "GET"]
# The statements the service runs for the listed endpoints (an admin's, as the bench token is):
# their plans at 1,000,000 events show index scans bounded by LIMIT or by one goal's rows.
# The event page as ProgressRepository.search builds it (per call, so written out here).
EVENT_PAGE = "SELECT * FROM progress_events WHERE org_id = $1 AND goal_id = $2 " \
    "ORDER BY occurred_at DESC, id DESC LIMIT 21"  # fmt: skip


def explained() -> dict[str, Any]:
    from app.goals.repository import _by_id, _search
    from app.progress import figures

    return {
        "goal by id": _by_id(Role.ADMIN, for_update=False),
        "goal list page": _search(Role.ADMIN, frozenset({"client_id"})),
        "event page": EVENT_PAGE,
        "goal progress: facts and figures": figures.facts_and_figures_query(Role.ADMIN),
        "client summary: facts and figures": figures.client_figures_query(Role.ADMIN),
        "measurements (a goal's status after a retraction)": figures.MEASUREMENTS,
    }


@dataclass
class Result:
    name: str
    rps: float
    p50: float
    p99: float
    errors: int
    # CPU time per request of the app's processes and of the PostgreSQL server's (backends,
    # WAL writer and the rest; None when it runs on another machine), over the measured run:
    # which side a ratio is lost on.
    app_us: float
    db_us: float | None


def plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def fresh_database(server: str, name: str) -> str:
    await drop_database(server, name)
    connection = await asyncpg.connect(plain(server))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


async def drop_database(server: str, name: str) -> None:
    connection = await asyncpg.connect(plain(server))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@contextmanager
def serve(
    command: list[str], env: dict[str, str], port: int, ready: str
) -> Iterator[psutil.Process]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
        command, cwd=ROOT, env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{ready}", timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"nothing answered on port {port}")
        yield psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


MAX_CALLERS = VerifiedTokens().capacity
CALLERS_HELP = f"callers' tokens, one picked per request (1 to {MAX_CALLERS:,})"


def callers(text: str) -> int:
    """How many callers the bench sends as: at least one, and no more than the service keeps
    verified tokens of (`VerifiedTokens`), or most requests would pay a signature check."""
    count = int(text)
    if not 1 <= count <= MAX_CALLERS:
        raise argparse.ArgumentTypeError(f"{count} is not between 1 and {MAX_CALLERS:,}")
    return count


def positive(text: str) -> int:
    count = int(text)
    if count < 1:
        raise argparse.ArgumentTypeError(f"{count} is not 1 or more")
    return count


def uvicorn(app: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(WORKERS), "--no-access-log", "--log-level", "warning"]  # fmt: skip


def cpu_seconds(root: psutil.Process) -> float:
    """CPU time of `root` and its children, those that ended since included (a PostgreSQL
    backend that closed, reaped by the server): a total that only grows."""
    times = root.cpu_times()
    total: float = times.user + times.system + times.children_user + times.children_system
    for child in root.children():
        try:
            child_times = child.cpu_times()
        except psutil.Error:  # ended since it was listed: reaped, and counted above next time
            continue
        total += child_times.user + child_times.system
    return total


async def database_server(url: str) -> psutil.Process | None:
    """The PostgreSQL server process behind `url`, if it runs on this machine."""
    connection = await asyncpg.connect(plain(url))
    try:  # the backend's parent, looked up while the backend is there
        backend: int = await connection.fetchval("SELECT pg_backend_pid()")
        server = psutil.Process(backend).parent()
        return server if server is not None and server.name() == "postgres" else None
    except psutil.Error:  # not a process of this machine: the server runs elsewhere
        return None
    finally:
        await connection.close()


def wrk(name: str, method: str, path: str, ids: Path, body: str | None, *, port: int,
        app: psutil.Process, database: psutil.Process | None, tokens: Path | None,
        seconds: int, connections: int) -> Result:  # fmt: skip
    env = {**os.environ, "BENCH_IDS": str(ids), "BENCH_PATH": path, "BENCH_METHOD": method,
           "BENCH_TOKENS": str(tokens or "")}  # fmt: skip
    if body:
        env["BENCH_BODY"] = body

    def load(duration: int) -> str:
        return subprocess.run(  # noqa: S603
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",  # noqa: S607
             "-s", str(ROOT / "bench" / "wrk.lua"), f"http://127.0.0.1:{port}"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip

    # A short run first, not counted: connections opened, statements prepared, caches and
    # PostgreSQL's buffers filled, as in a service that has been up for a while. (For the
    # POST endpoints it writes events too: a few thousand more on top of the data set.)
    load(WARM_UP_SECONDS)
    app_before = cpu_seconds(app)
    db_before = cpu_seconds(database) if database else 0.0
    output = load(seconds)
    app_used = cpu_seconds(app) - app_before
    db_used = cpu_seconds(database) - db_before if database else None
    found = re.search(r"BENCH_RESULT (\{.*\})", output)
    if not found:
        raise RuntimeError(output)
    data = json.loads(found.group(1))
    per_request = 1e6 / max(data["requests"], 1)
    return Result(name, data["requests"] / data["seconds"], data["p50_ms"], data["p99_ms"],
                  data["errors"], app_used * per_request,
                  None if db_used is None else db_used * per_request)  # fmt: skip


def literal(value: object) -> str:
    """A bench value as an SQL literal of unknown type (the prepared statement types it)."""
    if isinstance(value, list):
        text = "{" + ",".join(map(str, value)) + "}"
    elif isinstance(value, datetime):
        text = value.isoformat()
    else:
        text = str(value)
    return "'" + text.replace("'", "''") + "'"


async def explain(url: str, client_id: str, goal_ids: list[str]) -> dict[str, str]:
    values = {"caller_org": ORG, "caller_subject": "bench", "client_id": uuid.UUID(client_id),
              "goal_id": uuid.UUID(goal_ids[0]), "goal_ids": [uuid.UUID(g) for g in goal_ids],
              "since": datetime.now(UTC) - timedelta(weeks=8), "limit": 21,
              "habits_since": datetime.now(UTC) - timedelta(days=180),
              "statuses": GAS_SCORED_STATUSES}  # fmt: skip
    # The plans the service runs: prepared statements, planned as its connections plan them.
    default = Settings.model_fields["db_plan_cache_mode"].default
    plan_cache_mode = os.environ.get("DB_PLAN_CACHE_MODE", default)
    connection = await asyncpg.connect(
        plain(url), server_settings={"plan_cache_mode": plan_cache_mode}
    )
    try:
        plans = {}
        for name, statement in explained().items():
            if isinstance(statement, str):
                sql, args = statement, [ORG, values["goal_id"]]
            elif isinstance(statement, DriverQuery):
                sql, args = statement.sql, statement.arguments(values)
            else:
                compiled = statement.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
                sql = str(compiled)
                args = [values.get(key, compiled.binds[key].value) for key in compiled.positiontup]
            await connection.execute(f"PREPARE explained AS {sql}")
            given = ", ".join(map(literal, args))  # EXPLAIN EXECUTE takes no parameters
            rows = await connection.fetch(
                f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE explained({given})"
            )
            await connection.execute("DEALLOCATE explained")
            plans[name] = "\n".join("    " + row[0] for row in rows)
        return plans
    finally:
        await connection.close()


@dataclass
class DataSet:
    """A seeded database, and the files of its goal and client ids that wrk picks from."""

    events: int
    url: str
    files: dict[str, Path]
    seeded: Seeded
    server: psutil.Process | None  # PostgreSQL's, if on this machine (for its CPU time)


def prepare(server: str, events: int, args: argparse.Namespace, workdir: Path) -> DataSet:
    print(
        f"== data set: {args.clients} clients, {args.clients * args.goals} goals, {events:,} events"
    )
    url = asyncio.run(fresh_database(server, f"tg_bench_{events}"))
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env,
                   check=True, capture_output=True)  # fmt: skip
    started = time.monotonic()
    seeded = asyncio.run(seed(plain(url), clients=args.clients, goals_per_client=args.goals,
                              events=events))  # fmt: skip
    print(f"   seeded in {time.monotonic() - started:.1f} s")
    files = {"goals": workdir / f"goals-{events}.txt", "clients": workdir / f"clients-{events}.txt"}
    files["goals"].write_text("\n".join(map(str, seeded.goal_ids)))
    files["clients"].write_text("\n".join(map(str, seeded.client_ids)))
    return DataSet(events, url, files, seeded, asyncio.run(database_server(url)))


def service_env(url: str) -> dict[str, str]:
    """The service's settings for a bench on `url` (limits out of the way of the load)."""
    return {"DATABASE_URL": url, "JWT_SECRET": SECRET, "API_KEY_PEPPER": SECRET,
            "RATE_LIMIT": "100000000/minute", "LIST_BUDGET": "1000000000/hour",
            "LOG_LEVEL": "WARNING", "APP_ENV": "production"}  # fmt: skip


def service(data: DataSet) -> AbstractContextManager[psutil.Process]:
    command = uvicorn("app.main:app", SERVICE_PORT)
    return serve(command, service_env(data.url), SERVICE_PORT, "/readyz")


def largest_worker_rss(master: psutil.Process) -> float:
    """The largest RSS of the master's workers, in MB."""
    workers = master.children(recursive=True)
    return max((worker.memory_info().rss for worker in workers), default=0) / 2**20


def raw_app(data: DataSet) -> AbstractContextManager[psutil.Process]:
    command = uvicorn("bench.raw_app:app", RAW_PORT)
    ready = "/raw/goals/00000000-0000-0000-0000-000000000000"
    return serve(command, {"RAW_DATABASE_DSN": plain(data.url)}, RAW_PORT, ready)


def measure(
    datasets: list[DataSet], args: argparse.Namespace, workdir: Path
) -> dict[int, dict[str, Result]]:
    """Each endpoint is run on each data set back to back: a comparison between data sets,
    like a ratio to the raw baseline, is then made of runs seconds apart, not minutes apart,
    between which a shared machine's neighbours may have slowed it by half (seen here: the raw
    GET baseline moved from 2,300 to 3,500 req/s between two runs of the same code).

    One app serves at a time, started for its runs (each begins with a warm-up) and stopped
    after them. Both services at once would need their pools (20 connections a worker) and a
    raw app's within PostgreSQL's 100 connections; with 16 a worker instead, GET by id
    measured 10-30 % slower here (a request that finds no idle connection waits in the
    pool's queue)."""
    # Many callers, as a practice has: what is kept per caller (verified tokens, rate-limit
    # counters) must cost no more with a thousand of them than with one.
    settings = Settings(jwt_secret=SECRET, database_url=datasets[0].url)
    tokens = workdir / "tokens.txt"
    tokens.write_text("\n".join(
        mint_token(settings, role=Role.ADMIN, org=ORG, subject=f"bench-{n}")
        for n in range(args.callers)
    ))  # fmt: skip
    load = {"seconds": args.seconds, "connections": args.connections}
    runs: dict[int, dict[str, list[Result]]] = {
        d.events: {name: [] for name, *_ in (*RAW, *ENDPOINTS)} for d in datasets
    }
    rss = dict.fromkeys(runs, 0.0)
    for part in (READS, WRITES):
        for name, method, path, kind, body in part * args.rounds:
            for d in datasets:
                run = partial(
                    wrk, name, method, path, d.files[kind], body, database=d.server, **load
                )
                if name in BASELINE_FOR.values():
                    with raw_app(d) as master:
                        runs[d.events][name].append(run(port=RAW_PORT, app=master, tokens=None))
                    continue
                with service(d) as master:
                    runs[d.events][name].append(run(port=SERVICE_PORT, app=master, tokens=tokens))
                    rss[d.events] = max(rss[d.events], largest_worker_rss(master))
    for events, largest in rss.items():
        print(f"   {events:,} events: largest worker RSS after an endpoint's run: {largest:.0f} MB")
    for d in datasets:
        seeded = d.seeded
        goal_ids = [str(g) for g in seeded.goal_ids[: args.goals]]
        print(f"\n== plans at {d.events:,} events")
        for name, plan in asyncio.run(explain(d.url, str(seeded.client_ids[0]), goal_ids)).items():
            print(f"   EXPLAIN {name}:\n{plan}")
    return {
        events: {name: median_of(results) for name, results in by_name.items()}
        for events, by_name in runs.items()
    }


def median_of(results: list[Result]) -> Result:
    """Each figure's median over the rounds (errors: their sum)."""
    database = [result.db_us for result in results if result.db_us is not None]
    return Result(
        results[0].name,
        median(result.rps for result in results),
        median(result.p50 for result in results),
        median(result.p99 for result in results),
        sum(result.errors for result in results),
        median(result.app_us for result in results),
        median(database) if database else None,
    )


def report(results: dict[str, Result]) -> None:
    print(f"   {'endpoint':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'vs raw':>7}   CPU µs/request: app + PostgreSQL")  # fmt: skip
    for name, result in results.items():
        baseline = results.get(BASELINE_FOR.get(name, ""))
        ratio = f"{result.rps / baseline.rps:.2f}x" if baseline else ""
        database = "-" if result.db_us is None else f"{result.db_us:.0f}"
        print(f"   {name:34} {result.rps:8.0f} {result.p50:8.2f} {result.p99:8.2f} "
              f"{result.errors:7d} {ratio:>7}   {result.app_us:5.0f} + {database}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--goals", type=int, default=10, help="goals per client")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--compare-events",
        type=int,
        default=10_000,
        help="a second, small data set to compare latency with (0: skip)",
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--callers", type=callers, default=1000, help=CALLERS_HELP)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rounds",
        type=positive,
        default=1,
        help="measure everything this many times and print each figure's median",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the tg_bench_* databases to look into"
    )
    args = parser.parse_args()
    server = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    sizes = [n for n in (args.compare_events, args.events) if n]
    if not sizes or len(set(sizes)) < len(sizes):
        parser.error("--events and --compare-events must differ, and one be more than 0")
    with tempfile.TemporaryDirectory(prefix="tg-bench-") as folder:
        try:
            datasets = [prepare(server, n, args, Path(folder)) for n in sizes]
            by_size = measure(datasets, args, Path(folder))
        finally:
            if not args.keep:  # a million events take about a gigabyte
                for events in sizes:
                    asyncio.run(drop_database(server, f"tg_bench_{events}"))
    for events, results in by_size.items():
        print(f"\n== {events:,} events")
        report(results)
    if len(by_size) == 2:
        small, large = (by_size[n] for n in sizes)
        print(f"\n== latency at {sizes[1]:,} events vs {sizes[0]:,} (target: within 1.5x)")
        for name in (
            "GET /v1/goals?limit=20",
            "GET /v1/goals/{id}/progress",
            "GET /v1/clients/{id}/summary",
        ):
            print(f"   {name:34} p50 {large[name].p50 / small[name].p50:5.2f}x   "
                  f"p99 {large[name].p99 / small[name].p99:5.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
