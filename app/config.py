"""Settings from the environment (or `.env`), validated once at start-up."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from limits import parse_many
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.db_tls import ENCRYPTED, SslMode, connect_options, is_local
from app.pagination import MAX_LIMIT

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEVELOPMENT_JWT_SECRET = "development-only-secret-change-me-0123456789"  # noqa: S105
DEVELOPMENT_API_KEY_PEPPER = "development-only-pepper-change-me-0123456789"
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: Literal["development", "production"] = "development"
    database_url: str | None = Field(
        default=None,
        description="postgresql+asyncpg://… ; unset starts the embedded PostgreSQL under .data/",
    )
    embedded_db_dir: str = ".data/pg"
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    api_key_pepper: str = Field(
        default=DEVELOPMENT_API_KEY_PEPPER,
        description="Server secret mixed into API-key hashes (HMAC-SHA256), so a copy of the "
        "database alone cannot be used to check guessed keys.",
    )
    jwt_jwks_url: str | None = Field(
        default=None,
        description="The identity provider's JWKS URL: tokens are then RS256/ES256 only.",
    )
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Connections a worker keeps open. Overflow connections are opened for a burst and closed
    # after it: under steady load beyond the pool they are opened and closed all the time (a
    # connect costs more than many queries), so the pool itself is sized for the load.
    db_pool_size: int = Field(default=20, ge=1, le=100)
    db_max_overflow: int = Field(default=0, ge=0, le=100)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    db_statement_timeout_ms: int = Field(default=10_000, ge=100)
    # Every statement here is scoped by organization and walks an index by id, client or
    # goal (with a time range or a LIMIT at most), built per shape of its filters, so one
    # plan serves every value. PostgreSQL's default ("auto") re-plans some of them on every
    # execution anyway (the summary's measurements: 0.19 ms of server CPU per execution
    # instead of 0.06 ms, most of it planning). "auto" is there if a plan ever goes wrong.
    db_plan_cache_mode: Literal["auto", "force_generic_plan", "force_custom_plan"] = (
        "force_generic_plan"
    )
    db_sslmode: SslMode | None = Field(
        default=None,
        description="TLS to PostgreSQL, as libpq's sslmode (also read from `sslmode=` in "
        "DATABASE_URL). In production a database on another host needs require, verify-ca or "
        "verify-full (verify-*: the CA in PGSSLROOTCERT), or an explicit disable.",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Larger bodies get 413.")
    max_requests_in_progress: int = Field(
        default=256,
        ge=1,
        description="API requests a worker works on at once; more get 503 with Retry-After "
        "(the probes and /metrics are not counted).",
    )
    rate_limit: str = Field(
        default="600/minute",
        description="Requests per caller (the `limits` notation, e.g. 100/second;1000/hour).",
    )
    list_budget: str = Field(
        default="5000/hour",
        description="Records of client data (clients, goals, goal revisions, progress events) "
        "one caller may list (`limits` notation); past it, 429 and a warning in the log.",
    )
    failed_auth_limit: str = Field(
        default="20/minute",
        description="Rejected credentials per client address (`limits` notation); past it, the "
        "address gets 429 for anything but a token already seen valid.",
    )
    progress_backdate_days: int = Field(
        default=30, ge=0, description="How long before a goal existed progress may be dated."
    )
    review_interval_days: int = Field(
        default=90, ge=1, description="Goals are reviewed this often."
    )

    @field_validator("rate_limit", "failed_auth_limit")
    @classmethod
    def _parse_rule(cls, rule: str) -> str:
        """A rule `limits` cannot read stops the start, not the first request."""
        parse_many(rule)
        return rule

    @field_validator("list_budget")
    @classmethod
    def _room_for_a_page(cls, rule: str) -> str:
        """A page is charged whole: a window smaller than the largest page could never serve
        one."""
        for item in parse_many(rule):
            if item.amount < MAX_LIMIT:
                raise ValueError(f"each window must allow at least {MAX_LIMIT} records")
        return rule

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_cors(cls, raw: object) -> object:
        """`CORS_ORIGINS=https://a.example,https://b.example` (a comma-separated list)."""
        if isinstance(raw, str):
            return [origin.strip() for origin in raw.split(",") if origin.strip()]
        return raw

    @model_validator(mode="after")
    def _guard_production(self) -> Settings:
        weak = self.jwt_secret == DEVELOPMENT_JWT_SECRET or len(self.jwt_secret) < MIN_SECRET_LENGTH
        if self.app_env == "production":
            if weak and not self.jwt_jwks_url:
                raise ValueError(
                    "APP_ENV=production needs JWT_SECRET set to a random value of at least "
                    f"{MIN_SECRET_LENGTH} characters (e.g. `openssl rand -hex 32`); "
                    "the development secret is refused."
                )
            if self.jwt_jwks_url and not (self.jwt_issuer and self.jwt_audience):
                raise ValueError(
                    "APP_ENV=production with JWT_JWKS_URL needs JWT_ISSUER and JWT_AUDIENCE: an "
                    "identity provider signs tokens for every application it serves, and only "
                    "its issuer and our audience tell the tokens meant for this API apart."
                )
            if self.api_key_pepper == DEVELOPMENT_API_KEY_PEPPER or (
                len(self.api_key_pepper) < MIN_SECRET_LENGTH
            ):
                raise ValueError(
                    "APP_ENV=production needs API_KEY_PEPPER set to a random value of at least "
                    f"{MIN_SECRET_LENGTH} characters; the development pepper is refused."
                )
            if not self.database_url:
                raise ValueError(
                    "APP_ENV=production needs DATABASE_URL; "
                    "the embedded PostgreSQL is for development only."
                )
            self._refuse_clear_text_database(self.database_url)
        elif self.database_url:
            connect_options(self.database_url, self.db_sslmode)  # a contradiction stops the start
        return self

    def _refuse_clear_text_database(self, database_url: str) -> None:
        """Health data may not cross a network unencrypted by accident: a remote database
        needs an encrypting sslmode, or `disable` set on purpose (a private network)."""
        url, mode = connect_options(database_url, self.db_sslmode)
        if is_local(url) or mode in ENCRYPTED or mode == "disable":
            return
        raise ValueError(
            "APP_ENV=production with the database on another host needs TLS: set "
            "DB_SSLMODE=verify-full (the CA in PGSSLROOTCERT) or require, or sslmode=… in "
            f"DATABASE_URL; it is {mode or 'unset'}. DB_SSLMODE=disable allows clear text."
        )

    @property
    def uses_development_secret(self) -> bool:
        return self.jwt_secret == DEVELOPMENT_JWT_SECRET

    @property
    def embedded_db_path(self) -> Path:
        return PROJECT_ROOT / self.embedded_db_dir


class SettingsError(Exception):
    """Settings that stop the start, said without the values given: pydantic's own error
    shows the input, and the input holds the secrets and the database password."""

    def __init__(self, error: ValidationError) -> None:
        problems = [
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}"
            for e in error.errors(include_input=False, include_url=False)
        ]
        super().__init__("Invalid settings:\n  " + "\n  ".join(problems))


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(error) from None
