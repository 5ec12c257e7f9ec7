"""`make bench-cpu`: the service's own CPU time per request, endpoint by endpoint.

wrk figures move with everything else on the machine (wrk itself, PostgreSQL and both workers
share its cores). This drives the ASGI app in this process instead, with the bench's data set,
endpoints and callers' tokens, and prints what one request costs the service in CPU
microseconds (this process only: PostgreSQL's share is not in it), which is what profiling
work should lower.
Profile the same run with `py-spy record -o profile.svg -- python bench/cpu.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    CALLERS_HELP,
    ENDPOINTS,
    SECRET,
    callers,
    fresh_database,
    plain,
    service_env,
)  # fmt: skip
from bench.seed import ORG, Seeded, seed  # noqa: E402

Message = dict[str, Any]


async def prepare(server: str, args: argparse.Namespace) -> tuple[str, Seeded]:
    url = await fresh_database(server, "tg_bench_cpu")
    env = {**os.environ, "DATABASE_URL": url}
    migrate = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alembic", "upgrade", "head", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    if await migrate.wait() != 0:
        raise RuntimeError("alembic upgrade failed")
    seeded = await seed(plain(url), clients=args.clients, goals_per_client=args.goals,
                        events=args.events)  # fmt: skip
    return url, seeded


def request_maker(app: Any, tokens: list[str], state: dict[str, Any]) -> Callable[..., Any]:
    """A request from one of `tokens`' callers, picked at random each time."""
    bearers = [f"Bearer {token}".encode() for token in tokens]

    async def call(method: str, path: str, query: str, body: bytes | None) -> int:
        bearer = random.choice(bearers)  # noqa: S311 - varied callers, not secrets
        headers = [(b"host", b"bench"), (b"authorization", bearer)]
        if body:
            headers += [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())]  # fmt: skip
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": query.encode(), "root_path": "", "headers": headers,
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
                 "state": dict(state)}  # fmt: skip
        delivered = False
        status: list[int] = []

        async def receive() -> Message:
            nonlocal delivered
            if delivered:
                await asyncio.Event().wait()  # no disconnect while the request runs
            delivered = True
            return {"type": "http.request", "body": body or b"", "more_body": False}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        return status[0]

    return call


async def measure(args: argparse.Namespace) -> None:
    server = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    url, seeded = await prepare(server, args)
    os.environ.update(service_env(url))
    from app.auth.caller import Role
    from app.auth.tokens import mint_token
    from app.config import Settings
    from app.main import create_app

    app = create_app()
    settings = Settings(jwt_secret=SECRET, database_url=url)
    tokens = [mint_token(settings, role=Role.ADMIN, org=ORG, subject=f"bench-{n}")
              for n in range(args.callers)]  # fmt: skip
    ids = {"goals": [str(g) for g in seeded.goal_ids],
           "clients": [str(c) for c in seeded.client_ids]}  # fmt: skip
    print(f"{args.events:,} events; {args.requests} requests per endpoint, "
          f"{args.concurrency} at a time, after {args.requests // 5} not counted")  # fmt: skip
    print(f"   {'endpoint':34} {'CPU µs/request':>15} {'non-2xx':>8}")
    async with app.router.lifespan_context(app) as state:
        call = request_maker(app, tokens, dict(state or {}))
        for name, method, template, kind, body in chosen(args.only):
            endpoint = Endpoint(call, method, template, ids[kind], body)
            await endpoint.drive(args.requests // 5, args.concurrency)
            started = time.process_time()
            failed, count = await endpoint.drive(args.requests, args.concurrency)
            used = time.process_time() - started
            print(f"   {name:34} {1e6 * used / count:15.0f} {failed:8d}")


def chosen(only: str) -> list[tuple[str, str, str, str, str | None]]:
    """The endpoint named exactly `only`, else those whose name contains it."""
    return [e for e in ENDPOINTS if e[0] == only] or [e for e in ENDPOINTS if only in e[0]]


class Endpoint:
    def __init__(self, call: Callable[..., Any], method: str, template: str, ids: list[str],
                 body: str | None) -> None:  # fmt: skip
        self.call, self.method, self.ids = call, method, ids
        self.path, _, self.query = template.partition("?")
        self.body = body.encode() if body else None

    async def one(self) -> int:
        some = random.choice(self.ids)  # noqa: S311 - varied ids, not secrets
        status: int = await self.call(self.method, self.path.replace("{id}", some),
                                      self.query.replace("{id}", some), self.body)  # fmt: skip
        return status

    async def drive(self, requests: int, concurrency: int) -> tuple[int, int]:
        """(failed, sent): `concurrency` callers, each sending its share one after another."""
        share = requests // concurrency

        async def caller() -> int:
            return sum([await self.one() >= 300 for _ in range(share)])

        failed = sum(await asyncio.gather(*(caller() for _ in range(concurrency))))
        return failed, share * concurrency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--goals", type=int, default=10, help="goals per client")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--callers", type=callers, default=1000, help=CALLERS_HELP)
    parser.add_argument(
        "--only", default="", help="the endpoint of this name, else those whose name has it"
    )
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
