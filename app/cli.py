"""Developer commands.

python -m app.cli token --role clinician --org demo --sub alice
python -m app.cli seed-demo          # loads a small demo data set through the API itself
python -m app.cli verify-audit       # checks the audit trail's hash chain (exit 1 if broken)
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.auth.caller import USER_ROLES, Role
from app.auth.tokens import mint_token
from app.config import get_settings

DEMO_EXTERNAL_ID = "DEMO-0001"


def _token(args: argparse.Namespace) -> None:
    token = mint_token(
        get_settings(),
        role=Role(args.role),
        org=args.org,
        subject=args.sub,
        ttl=timedelta(hours=args.hours),
    )
    print(token)


def _demo_goal(
    title: str, category: str, measure: dict[str, Any], relevance: str
) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "title": title,
        "description": f"{title}, noted in the app the same day so we can review it in session.",
        "category": category,
        "measure": measure,
        "start_date": today.isoformat(),
        "target_date": (today + timedelta(weeks=12)).isoformat(),
        "relevance": relevance,
    }


async def _seed(org: str) -> None:
    from asgi_lifespan import LifespanManager

    from app.main import create_app

    settings = get_settings()
    # The service's own access lines would drown the two lines this prints: warnings only.
    app = create_app(settings.model_copy(update={"log_level": "WARNING"}))
    token = mint_token(settings, role=Role.CLINICIAN, org=org, subject="alice")
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url="http://demo",
            headers={"Authorization": f"Bearer {token}"},
        ) as api,
    ):
        found = await api.get("/v1/clients", params={"external_id": DEMO_EXTERNAL_ID})
        existing = found.raise_for_status().json()["items"]
        if existing:
            print(f"Demo data is already loaded in org '{org}' (client {existing[0]['id']}).")
            return
        demo_client = {
            "display_name": "Demo client",
            "external_id": DEMO_EXTERNAL_ID,
            "user_subject": "robin",
        }
        client = (await api.post("/v1/clients", json=demo_client)).raise_for_status().json()
        goals = [
            _demo_goal(
                "Write down one feeling and its trigger each evening",
                "emotional_awareness",
                {
                    "name": "Evenings with an entry",
                    "unit": "evenings per week",
                    "kind": "count",
                    "direction": "increase",
                    "baseline": 1,
                    "target": 5,
                },
                "Spotting anger early helps avoid arguments at home.",
            ),
            _demo_goal(
                "Go to bed by 23:00 on weeknights",
                "sleep",
                {
                    "name": "Weeknights in bed by 23:00",
                    "unit": "nights per week",
                    "kind": "count",
                    "direction": "increase",
                    "baseline": 1,
                    "target": 4,
                },
                "Tiredness makes the low days lower; a steady bedtime is the first lever.",
            ),
        ]
        for body in goals:
            goal = (
                (await api.post(f"/v1/clients/{client['id']}/goals", json=body))
                .raise_for_status()
                .json()
            )
            activated = await api.post(f"/v1/goals/{goal['id']}/transition", json={"to": "active"})
            activated.raise_for_status()
    print(f"Demo data loaded in org '{org}': client {client['id']} with {len(goals)} goals.")
    print(f"Try: .venv/bin/python -m app.cli token --role clinician --org {org} --sub alice")


async def _verify_audit() -> bool:
    """Reads the chain on an engine of its own: the app would start its sealer, a write."""
    from app.audit.seals import GRACE, verify_chain
    from app.db import create_engine
    from app.embedded_db import embedded_database_url

    settings = get_settings()
    url = settings.database_url
    if not url:
        url = await asyncio.to_thread(embedded_database_url, settings.embedded_db_path)
    engine = create_engine(settings, url)
    try:
        async with engine.connect() as connection:
            check = await verify_chain(connection)
    finally:
        await engine.dispose()
    if check.intact:
        print(
            f"Audit chain intact: {check.seals} seals over {check.events} events; "
            f"{check.unsealed} newer events not sealed yet (sealed once {GRACE} old)."
        )
    else:
        print(
            f"Audit chain BROKEN at seal {check.broken_at}: {check.reason} "
            f"({check.seals} seals over {check.events} events check before it)."
        )
    return check.intact


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m app.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a development token")
    token.add_argument(
        "--role",
        choices=[r.value for r in USER_ROLES],  # integrations hold API keys, never a JWT
        default="clinician",
        help="an integration's credential is an API key: POST /v1/api-keys as an admin",
    )
    token.add_argument("--org", default="demo")
    token.add_argument("--sub", default="alice")
    token.add_argument("--hours", type=float, default=8.0)
    seed = commands.add_parser("seed-demo", help="load a small demo data set")
    seed.add_argument("--org", default="demo")
    commands.add_parser("verify-audit", help="check the audit trail's hash chain")
    args = parser.parse_args(argv)
    if args.command == "token":
        _token(args)
    elif args.command == "seed-demo":
        asyncio.run(_seed(args.org))
    elif not asyncio.run(_verify_audit()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
