"""Bearer tokens: every way a token can be wrong answers 401 with WWW-Authenticate."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.main import create_app
from tests.conftest import TEST_JWT_SECRET

ISSUER = "https://idp.example.test/"
AUDIENCE = "therapy-goals"


def claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "sub": "alice",
        "org": "org-a",
        "role": "clinician",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], key: str = TEST_JWT_SECRET, **kwargs: Any) -> str:
    return jwt.encode(payload, key, algorithm="HS256", **kwargs)


def unsigned(payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data, default=lambda d: int(d.timestamp())).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


@pytest.fixture(scope="module")
async def strict_http(settings: Settings) -> AsyncIterator[AsyncClient]:
    """An app that also checks `iss` and `aud`."""
    strict = settings.model_copy(update={"jwt_issuer": ISSUER, "jwt_audience": AUDIENCE})
    application = create_app(strict)
    async with (
        LifespanManager(application),
        AsyncClient(transport=ASGITransport(app=application), base_url="http://test") as client,
    ):
        yield client


async def call(http: AsyncClient, token: str | None, scheme: str = "Bearer") -> Any:
    headers = {} if token is None else {"Authorization": f"{scheme} {token}"}
    return await http.get("/v1/clients", headers=headers)


async def test_valid_token_is_accepted(strict_http: AsyncClient) -> None:
    response = await call(strict_http, sign(claims()))
    assert response.status_code == 200


async def test_missing_credentials(strict_http: AsyncClient) -> None:
    response = await call(strict_http, None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"


BAD_TOKENS = {
    "alg_none": lambda: unsigned(claims()),
    "wrong_key": lambda: sign(claims(), key="another-secret-" + "y" * 40),
    "expired": lambda: sign(claims(exp=datetime.now(UTC) - timedelta(minutes=5))),
    "missing_exp": lambda: sign(claims(exp=None)),
    "future_nbf": lambda: sign(claims(nbf=datetime.now(UTC) + timedelta(hours=1))),
    "wrong_issuer": lambda: sign(claims(iss="https://evil.example/")),
    "missing_issuer": lambda: sign(claims(iss=None)),
    "wrong_audience": lambda: sign(claims(aud="someone-else")),
    "missing_audience": lambda: sign(claims(aud=None)),
    "missing_sub": lambda: sign(claims(sub=None)),
    "missing_org": lambda: sign(claims(org=None)),
    "bad_role": lambda: sign(claims(role="superuser")),
    "org_too_long": lambda: sign(claims(org="o" * 65)),
    "org_empty": lambda: sign(claims(org="")),
    "org_with_a_line_break": lambda: sign(claims(org="org-a\nforged log line")),
    "sub_lone_surrogate": lambda: sign(claims(sub="\ud800")),
    "sub_padded": lambda: sign(claims(sub="alice ")),  # could never be put on a care team
    "org_not_a_string": lambda: sign(claims(org=["org-a"])),
    "garbage": lambda: "not.a.jwt",
    "hs512": lambda: jwt.encode(claims(), TEST_JWT_SECRET * 2, algorithm="HS512"),
    # Signed alike, but not access tokens: a refresh token, an ID token typed as such.
    "typ_refresh": lambda: sign(claims(), headers={"typ": "refresh+jwt"}),
    "typ_id_token": lambda: sign(claims(), headers={"typ": "id_token+jwt"}),
    "typ_not_a_string": lambda: sign(claims(), headers={"typ": 1}),
}


@pytest.mark.parametrize("variant", sorted(BAD_TOKENS))
async def test_bad_tokens_are_401(strict_http: AsyncClient, variant: str) -> None:
    response = await call(strict_http, BAD_TOKENS[variant]())
    assert response.status_code == 401, variant
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error=" in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("typ", ["JWT", "at+jwt", "application/at+jwt", None])
async def test_access_tokens_are_accepted_typed_or_not(strict_http: AsyncClient, typ: str) -> None:
    response = await call(strict_http, sign(claims(), headers={"typ": typ}))
    assert response.status_code == 200, response.text


async def test_rs256_token_is_refused_when_only_hs256_is_configured(
    strict_http: AsyncClient,
) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), private_key, algorithm="RS256")
    assert (await call(strict_http, token)).status_code == 401


async def test_basic_auth_scheme_is_401(strict_http: AsyncClient) -> None:
    response = await call(strict_http, "YWxpY2U6cGFzcw==", scheme="Basic")
    assert response.status_code == 401


def test_verified_tokens_expire_and_stay_bounded() -> None:
    import time

    from app.auth.caller import Caller, Role
    from app.auth.tokens import VerifiedTokens

    cache = VerifiedTokens(capacity=2)
    alice = Caller(org_id="o", subject="alice", role=Role.CLINICIAN)
    cache.put("fresh", alice, time.time() + 60)
    cache.put("stale", alice, time.time() - 1)
    assert cache.get("fresh") is alice
    assert cache.get("stale") is None  # expired tokens are never served from the cache
    cache.put("a", alice, time.time() + 60)
    cache.put("b", alice, time.time() + 60)
    assert cache.get("fresh") is None  # the least recently used entry made room


async def test_an_org_may_be_any_printable_name(strict_http: AsyncClient) -> None:
    """API.md: `org` is any string up to 64 characters the identity provider vouches for,
    spaces, slashes and any script included; what it names is kept apart from its neighbours."""
    run = uuid.uuid4().hex[:6]  # the app commits: names of this run's own
    names = [f"Clinic Ω / Nord {run}", f"Clinic Ω {run}", f"клиника:восток {run}", run + "o" * 58]
    for org in names:
        token = sign(claims(org=org, sub="dr. müller"))
        created = await strict_http.post(
            "/v1/clients",
            json={"display_name": f"Client of {org}"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201, created.text
    for org in names:
        token = sign(claims(org=org, sub="dr. müller"))
        listed = await call(strict_http, token)
        assert [c["display_name"] for c in listed.json()["items"]] == [f"Client of {org}"]
