"""JWKS mode through HTTP: RS256/ES256 from the identity provider's keys, and nothing else."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from httpx import ASGITransport, AsyncClient

from app.auth.jwks import JwksKeySource
from app.config import Settings
from app.main import create_app
from tests.conftest import TEST_JWT_SECRET

JWKS_URL = "https://idp.example.test/.well-known/jwks.json"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def jwks_document() -> dict[str, Any]:
    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(EC_KEY.public_key()))
    return {
        "keys": [
            {**rsa_jwk, "kid": "rsa-1", "use": "sig", "alg": "RS256"},
            {**ec_jwk, "kid": "ec-1", "use": "sig", "alg": "ES256"},
        ]
    }


def claims() -> dict[str, Any]:
    return {
        "sub": "alice",
        "org": "org-jwks",
        "role": "clinician",
        "exp": datetime.now(UTC) + timedelta(minutes=5),
    }


class IdentityProvider:
    def __init__(self) -> None:
        self.up = True
        self.requests = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if not self.up:
            return httpx.Response(503)
        return httpx.Response(200, json=jwks_document())


@pytest.fixture
def idp() -> IdentityProvider:
    return IdentityProvider()


@pytest.fixture
async def http(settings: Settings, idp: IdentityProvider) -> AsyncIterator[AsyncClient]:
    application = create_app(settings.model_copy(update={"jwt_jwks_url": JWKS_URL}))
    async with LifespanManager(application):
        transport = httpx.MockTransport(idp.handle)
        async with httpx.AsyncClient(transport=transport) as idp_client:
            application.state.jwks = JwksKeySource(JWKS_URL, idp_client)
            async with AsyncClient(
                transport=ASGITransport(app=application), base_url="http://test"
            ) as client:
                yield client


async def status_for(http: AsyncClient, token: str) -> int:
    response = await http.get("/v1/clients", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


async def test_rs256_and_es256_tokens_from_the_idp_are_accepted(http: AsyncClient) -> None:
    rs = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    es = jwt.encode(claims(), EC_KEY, algorithm="ES256", headers={"kid": "ec-1"})
    assert await status_for(http, rs) == 200
    assert await status_for(http, es) == 200


async def test_hs256_is_refused_in_jwks_mode(http: AsyncClient) -> None:
    """HS and RS never mix: with a JWKS configured, a shared-secret token is 401 even when it
    is valid for JWT_SECRET (HS256 MACed with the public key is covered in test_jwks.py)."""
    shared = jwt.encode(claims(), TEST_JWT_SECRET, algorithm="HS256", headers={"kid": "rsa-1"})
    assert await status_for(http, shared) == 401
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": "rsa-1"})
    assert await status_for(http, unsigned) == 401


async def test_attacker_key_and_jku_are_refused(http: AsyncClient, idp: IdentityProvider) -> None:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        claims(),
        attacker,
        algorithm="RS256",
        headers={"kid": "rsa-1", "jku": "https://evil.example/jwks.json"},
    )
    assert await status_for(http, forged) == 401
    unknown_kid = jwt.encode(claims(), attacker, algorithm="RS256", headers={"kid": "evil"})
    assert await status_for(http, unknown_kid) == 401


async def test_idp_down_before_any_key_is_503(http: AsyncClient, idp: IdentityProvider) -> None:
    idp.up = False
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})
    response = await http.get("/v1/clients", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
