"""Settings: production refuses weak secrets; development warns."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from app.config import DEVELOPMENT_JWT_SECRET, Settings
from app.main import PROJECT_ROOT

STRONG = "p" * 48


@pytest.mark.parametrize("secret", [DEVELOPMENT_JWT_SECRET, "short-secret"])
def test_production_refuses_weak_or_development_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(app_env="production", jwt_secret=secret, database_url="postgresql+asyncpg://x/y")


def test_production_needs_a_database_url() -> None:
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        Settings(app_env="production", jwt_secret=STRONG, api_key_pepper=STRONG, database_url=None)


def test_production_refuses_the_development_api_key_pepper() -> None:
    with pytest.raises(ValidationError, match="API_KEY_PEPPER"):
        Settings(app_env="production", jwt_secret=STRONG, database_url="postgresql+asyncpg://x/y")


def test_production_with_strong_secret_is_fine() -> None:
    settings = Settings(
        app_env="production",
        jwt_secret=STRONG,
        api_key_pepper=STRONG,
        database_url="postgresql+asyncpg://x/y?sslmode=verify-full",
    )
    assert settings.app_env == "production"


@pytest.mark.parametrize(
    "claims", [{}, {"jwt_issuer": "https://idp.example"}, {"jwt_audience": "therapy-goals"}]
)
def test_production_with_an_identity_provider_names_its_issuer_and_our_audience(
    claims: dict[str, str],
) -> None:
    with pytest.raises(ValidationError, match="JWT_ISSUER and JWT_AUDIENCE"):
        Settings(
            app_env="production",
            jwt_jwks_url="https://idp.example/.well-known/jwks.json",
            api_key_pepper=STRONG,
            database_url="postgresql+asyncpg://x/y?sslmode=verify-full",
            **claims,
        )
    Settings(
        app_env="production",
        jwt_jwks_url="https://idp.example/.well-known/jwks.json",
        jwt_issuer="https://idp.example",
        jwt_audience="therapy-goals",
        api_key_pepper=STRONG,
        database_url="postgresql+asyncpg://x/y?sslmode=verify-full",
    )


def test_development_secret_is_allowed_in_development_and_flagged() -> None:
    settings = Settings(app_env="development", jwt_secret=DEVELOPMENT_JWT_SECRET)
    assert settings.uses_development_secret
    assert not Settings(jwt_secret=STRONG).uses_development_secret


def test_cors_origins_from_comma_separated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings(jwt_secret=STRONG).cors_origins == ["https://a.example", "https://b.example"]


def test_service_refuses_to_start_in_production_with_development_secret() -> None:
    """And says why without printing what it was given: the settings hold the secrets."""
    env = {k: v for k, v in os.environ.items() if k not in {"JWT_SECRET", "DATABASE_URL"}}
    env.update(
        APP_ENV="production",
        API_KEY_PEPPER="p" * 40 + "-canary",  # the end of the input is what pydantic shows
        DATABASE_URL="postgresql+asyncpg://x:password-canary@127.0.0.1:1/y",
    )
    result = subprocess.run(
        [sys.executable, "-c", "import app.main"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "APP_ENV=production needs JWT_SECRET" in result.stderr
    assert "canary" not in result.stderr


def test_rules_that_cannot_work_stop_the_start() -> None:
    with pytest.raises(ValidationError, match="couldn't parse"):
        Settings(jwt_secret=STRONG, rate_limit="lots")
    with pytest.raises(ValidationError, match="at least 100 records"):
        Settings(jwt_secret=STRONG, list_budget="5000/hour;50/minute")
    assert Settings(jwt_secret=STRONG, list_budget="100/minute").list_budget == "100/minute"
