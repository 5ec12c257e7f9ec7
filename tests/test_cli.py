"""The developer commands: a token that the API accepts, and the demo data set."""

from __future__ import annotations

import os
import subprocess
import sys

from httpx import AsyncClient

from app.auth.tokens import verify_shared_secret_token
from app.config import Settings
from app.main import PROJECT_ROOT
from tests.api import Api
from tests.conftest import TEST_JWT_SECRET


def run_cli(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "app.cli", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


async def test_token_command_prints_a_token_the_api_accepts(
    settings: Settings, http: AsyncClient
) -> None:
    token = run_cli(
        "token",
        "--role",
        "admin",
        "--org",
        "demo",
        "--sub",
        "root",
        env={"JWT_SECRET": TEST_JWT_SECRET},
    ).strip()
    caller = verify_shared_secret_token(token, settings)
    assert (caller.org_id, caller.subject, caller.role.value) == ("demo", "root", "admin")
    response = await http.get("/v1/clients", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_token_command_offers_only_roles_a_token_may_carry() -> None:
    """An integration authenticates with an API key; a JWT saying `integration` is refused
    (401), so the command does not offer to make one."""
    refused = subprocess.run(
        [sys.executable, "-m", "app.cli", "token", "--role", "integration"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2
    assert "invalid choice: 'integration'" in refused.stderr


async def test_seed_demo_loads_a_client_with_active_goals(migrated_database: str, api: Api) -> None:
    env = {"DATABASE_URL": migrated_database, "JWT_SECRET": TEST_JWT_SECRET}
    output = run_cli("seed-demo", "--org", "cli-demo-org", env=env)
    assert "Demo data loaded in org 'cli-demo-org'" in output
    assert "request" not in output  # the service's access lines stay out of it
    alice = api.actor("clinician", org="cli-demo-org", sub="alice")
    goals = (await alice.get("/v1/goals")).json()["items"]
    assert [goal["lifecycle_status"] for goal in goals] == ["active", "active"]
    assert all(goal["smart"]["passed"] for goal in goals)
    again = run_cli("seed-demo", "--org", "cli-demo-org", env=env)
    assert "already loaded" in again
    assert len((await alice.get("/v1/goals")).json()["items"]) == 2
