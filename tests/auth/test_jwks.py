"""JWKS key source: RS256/ES256 keys from the IdP, cached, rate-limited and never from the token."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from app.auth.jwks import InvalidKey, JwksKeySource, JwksUnavailable, verify_with_jwks

IDP_HOST = "idp.example.test"
JWKS_URL = f"https://{IDP_HOST}/.well-known/jwks.json"
EVIL_HOST = "evil.example.test"
ISSUER = f"https://{IDP_HOST}/"
AUDIENCE = "therapy-goals"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_ROTATED_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

RSA_KID, ROTATED_KID, EC_KID = "rsa-2024", "rsa-2025", "ec-2024"


def public_jwk(
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str, alg: str | None
) -> dict[str, Any]:
    if isinstance(private_key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    jwk.update(kid=kid, use="sig")
    if alg is not None:
        jwk["alg"] = alg
    return jwk


def jwks(*keys: dict[str, Any]) -> dict[str, Any]:
    return {"keys": list(keys)}


DEFAULT_JWKS = jwks(public_jwk(RSA_KEY, RSA_KID, "RS256"), public_jwk(EC_KEY, EC_KID, "ES256"))


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


def sign(
    key: Any = RSA_KEY,
    *,
    alg: str = "RS256",
    kid: str | None = RSA_KID,
    headers: dict[str, Any] | None = None,
    **claim_overrides: Any,
) -> str:
    header = dict(headers or {})
    if kid is not None:
        header["kid"] = kid
    return jwt.encode(claims(**claim_overrides), key, algorithm=alg, headers=header)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], secret: bytes | None) -> str:
    """A token built by hand (PyJWT refuses to HMAC-sign with a PEM): HS256, or unsigned."""
    body = json.dumps(claims(), default=lambda d: int(d.timestamp())).encode()
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(body)}"
    if secret is None:
        return f"{signing_input}."
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


class FakeIdp:
    """Serves a JWKS (and, to an attacker's URL, the attacker's JWKS); records every request."""

    def __init__(self) -> None:
        self.jwks: dict[str, Any] = DEFAULT_JWKS
        self.requests: list[httpx.Request] = []
        self.down = False
        self.response: Callable[[], httpx.Response] | None = None
        self.delay = 0.0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.url.host == EVIL_HOST:
            return httpx.Response(200, json=jwks(public_jwk(ATTACKER_KEY, "attacker", "RS256")))
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if self.response is not None:
            return self.response()
        return httpx.Response(200, json=self.jwks)

    @property
    def fetches(self) -> int:
        return sum(1 for r in self.requests if r.url.host == IDP_HOST)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def idp() -> FakeIdp:
    return FakeIdp()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def source(idp: FakeIdp, clock: FakeClock) -> AsyncIterator[JwksKeySource]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(idp.handle)) as client:
        yield JwksKeySource(JWKS_URL, client, clock=clock)


Verify = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def verify(source: JwksKeySource) -> Verify:
    async def run(token: str, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("issuer", ISSUER)
        kwargs.setdefault("audience", AUDIENCE)
        return await verify_with_jwks(token, source, **kwargs)

    return run


# --- Accepted tokens ---------------------------------------------------------------------------


async def test_rs256_token_verifies(verify: Verify, idp: FakeIdp) -> None:
    assert (await verify(sign()))["sub"] == "alice"
    assert idp.fetches == 1


async def test_es256_token_verifies(verify: Verify) -> None:
    token = sign(EC_KEY, alg="ES256", kid=EC_KID)
    assert (await verify(token))["org"] == "org-a"


async def test_keys_without_alg_are_matched_by_key_type(verify: Verify, idp: FakeIdp) -> None:
    idp.jwks = jwks(public_jwk(RSA_KEY, RSA_KID, None), public_jwk(EC_KEY, EC_KID, None))
    assert (await verify(sign()))["sub"] == "alice"
    assert (await verify(sign(EC_KEY, alg="ES256", kid=EC_KID)))["sub"] == "alice"


async def test_fetch_uses_the_configured_url_with_a_timeout(
    source: JwksKeySource, idp: FakeIdp
) -> None:
    await source.signing_key(sign())
    [request] = idp.requests
    assert str(request.url) == JWKS_URL
    assert request.method == "GET"
    assert request.extensions["timeout"]["connect"] == 5.0
    assert request.extensions["timeout"]["read"] == 5.0


async def test_cached_keys_are_reused(
    source: JwksKeySource, idp: FakeIdp, clock: FakeClock
) -> None:
    for _ in range(5):
        await source.signing_key(sign())
        clock.now += 100
    assert idp.fetches == 1


# --- Rotation, rate limit, TTL -----------------------------------------------------------------


async def test_unknown_kid_refreshes_once_and_finds_the_rotated_key(
    verify: Verify, idp: FakeIdp, clock: FakeClock
) -> None:
    await verify(sign())
    assert idp.fetches == 1
    clock.now += 31
    idp.jwks = jwks(
        public_jwk(RSA_KEY, RSA_KID, "RS256"), public_jwk(RSA_ROTATED_KEY, ROTATED_KID, "RS256")
    )

    assert (await verify(sign(RSA_ROTATED_KEY, kid=ROTATED_KID)))["sub"] == "alice"
    assert idp.fetches == 2
    await verify(sign(RSA_ROTATED_KEY, kid=ROTATED_KID))
    assert idp.fetches == 2


async def test_unknown_kids_within_the_refresh_interval_do_not_fetch_again(
    source: JwksKeySource, idp: FakeIdp, clock: FakeClock
) -> None:
    await source.signing_key(sign())
    clock.now += 31
    with pytest.raises(InvalidKey):
        await source.signing_key(sign(kid="random-1"))
    assert idp.fetches == 2
    clock.now += 29
    for i in range(10):
        with pytest.raises(InvalidKey):
            await source.signing_key(sign(kid=f"random-{i + 2}"))
    assert idp.fetches == 2
    clock.now += 2
    with pytest.raises(InvalidKey):
        await source.signing_key(sign(kid="random-99"))
    assert idp.fetches == 3


async def test_an_unknown_kid_right_after_the_first_fetch_does_not_fetch_twice(
    source: JwksKeySource, idp: FakeIdp
) -> None:
    with pytest.raises(InvalidKey):
        await source.signing_key(sign(kid="random"))
    assert idp.fetches == 1


async def test_cache_ttl_expiry_refetches(
    source: JwksKeySource, idp: FakeIdp, clock: FakeClock
) -> None:
    await source.signing_key(sign())
    clock.now += 599
    await source.signing_key(sign())
    assert idp.fetches == 1
    clock.now += 2
    await source.signing_key(sign())
    assert idp.fetches == 2


async def test_a_key_removed_by_the_idp_is_dropped_after_the_ttl(
    source: JwksKeySource, idp: FakeIdp, clock: FakeClock
) -> None:
    await source.signing_key(sign())
    idp.jwks = jwks(public_jwk(EC_KEY, EC_KID, "ES256"))
    clock.now += 601
    with pytest.raises(InvalidKey):
        await source.signing_key(sign())


async def test_concurrent_callers_with_a_cold_cache_share_one_fetch(
    source: JwksKeySource, idp: FakeIdp
) -> None:
    idp.delay = 0.05
    keys = await asyncio.gather(*(source.signing_key(sign()) for _ in range(20)))
    assert idp.fetches == 1
    assert all(key is keys[0] for key in keys)


async def test_concurrent_unknown_kids_share_one_refresh(
    source: JwksKeySource, idp: FakeIdp, clock: FakeClock
) -> None:
    await source.signing_key(sign())
    clock.now += 31
    idp.delay = 0.05
    idp.jwks = jwks(public_jwk(RSA_ROTATED_KEY, ROTATED_KID, "RS256"))
    token = sign(RSA_ROTATED_KEY, kid=ROTATED_KID)
    await asyncio.gather(*(source.signing_key(token) for _ in range(20)))
    assert idp.fetches == 2


# --- Rejected tokens ---------------------------------------------------------------------------


RSA_PUBLIC_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(forge({"alg": "none", "kid": RSA_KID}, None), id="alg-none"),
        pytest.param(forge({"alg": "None", "kid": RSA_KID}, None), id="alg-None"),
        pytest.param(
            forge({"alg": "HS256", "typ": "JWT", "kid": RSA_KID}, RSA_PUBLIC_PEM),
            id="hs256-with-public-key-pem",
        ),
        pytest.param(forge({"alg": "HS256", "kid": RSA_KID}, b"x" * 64), id="hs256-any-secret"),
        pytest.param(
            jwt.encode(claims(), "y" * 64, algorithm="HS512", headers={"kid": RSA_KID}),
            id="hs512",
        ),
        pytest.param(sign(alg="RS512"), id="rs512"),
        pytest.param(sign(alg="PS256"), id="ps256"),
    ],
)
async def test_algorithms_other_than_rs256_and_es256_are_refused_without_a_fetch(
    token: str, verify: Verify, idp: FakeIdp
) -> None:
    with pytest.raises(InvalidKey):
        await verify(token)
    assert idp.requests == []


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(sign(kid=None), id="missing-kid"),
        pytest.param(sign(kid=""), id="empty-kid"),
        pytest.param(forge({"alg": "RS256", "kid": 42}, None) + "AAAA", id="numeric-kid"),
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param("", id="empty"),
    ],
)
async def test_tokens_without_a_usable_kid_are_refused_without_a_fetch(
    token: str, verify: Verify, idp: FakeIdp
) -> None:
    with pytest.raises(InvalidKey):
        await verify(token)
    assert idp.requests == []


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(sign(RSA_KEY, alg="RS256", kid=EC_KID), id="rs256-naming-ec-key"),
        pytest.param(sign(EC_KEY, alg="ES256", kid=RSA_KID), id="es256-naming-rsa-key"),
    ],
)
async def test_a_kid_naming_a_key_of_another_type_is_refused(
    token: str, verify: Verify, idp: FakeIdp
) -> None:
    with pytest.raises(InvalidKey):
        await verify(token)
    assert idp.fetches == 1  # the kid is known: no refresh


@pytest.mark.parametrize("declared", ["RS512", "PS256", "ES256", "HS256"])
async def test_a_key_whose_alg_differs_from_the_tokens_is_refused(
    declared: str, verify: Verify, idp: FakeIdp
) -> None:
    idp.jwks = jwks(public_jwk(RSA_KEY, RSA_KID, declared), public_jwk(EC_KEY, EC_KID, "ES256"))
    with pytest.raises(InvalidKey):
        await verify(sign())
    assert idp.fetches == 1


async def test_an_ec_key_on_another_curve_is_refused(verify: Verify, idp: FakeIdp) -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    idp.jwks = jwks(public_jwk(RSA_KEY, RSA_KID, "RS256"), public_jwk(p384, "p384", None))
    with pytest.raises(InvalidKey):
        await verify(sign(p384, alg="ES384", kid="p384"))
    forged = forge({"alg": "ES256", "kid": "p384"}, None) + "AAAA"
    with pytest.raises(InvalidKey):
        await verify(forged)


async def test_encryption_keys_are_skipped(verify: Verify, idp: FakeIdp) -> None:
    encryption_key = public_jwk(RSA_ROTATED_KEY, ROTATED_KID, "RS256") | {"use": "enc"}
    idp.jwks = jwks(public_jwk(RSA_KEY, RSA_KID, "RS256"), encryption_key)
    with pytest.raises(InvalidKey):
        await verify(sign(RSA_ROTATED_KEY, kid=ROTATED_KID))


async def test_symmetric_keys_in_the_jwks_are_never_used(verify: Verify, idp: FakeIdp) -> None:
    secret = b"z" * 64
    oct_key = {"kty": "oct", "kid": "shared", "k": b64(secret), "use": "sig"}
    idp.jwks = jwks(public_jwk(RSA_KEY, RSA_KID, "RS256"), oct_key)
    with pytest.raises(InvalidKey):
        await verify(forge({"alg": "HS256", "kid": "shared"}, secret))
    # An RS256 header naming the oct key finds no RSA key under that kid either.
    with pytest.raises(InvalidKey):
        await verify(sign(kid="shared"))


async def test_a_private_key_published_by_mistake_is_not_used(verify: Verify, idp: FakeIdp) -> None:
    private_jwk = RSAAlgorithm.to_jwk(RSA_KEY, as_dict=True) | {"kid": RSA_KID, "use": "sig"}
    idp.jwks = jwks(private_jwk, public_jwk(EC_KEY, EC_KID, "ES256"))
    with pytest.raises(InvalidKey):
        await verify(sign())


@pytest.mark.parametrize("header", ["jku", "x5u"])
async def test_key_urls_in_the_header_are_never_fetched(
    header: str, verify: Verify, idp: FakeIdp
) -> None:
    evil_url = f"https://{EVIL_HOST}/jwks.json"
    token = sign(ATTACKER_KEY, kid="attacker", headers={header: evil_url})
    with pytest.raises(InvalidKey):
        await verify(token)
    assert idp.requests, "the configured JWKS URL is fetched"
    assert all(r.url.host == IDP_HOST for r in idp.requests)


async def test_keys_embedded_in_the_header_are_never_used(verify: Verify, idp: FakeIdp) -> None:
    attacker_jwk = public_jwk(ATTACKER_KEY, RSA_KID, "RS256")
    attacker_cert_chain = [b64(b"not really a certificate")]
    token = sign(
        ATTACKER_KEY,
        kid=RSA_KID,  # our key's kid: our key is looked up, so the signature cannot match
        headers={
            "jwk": attacker_jwk,
            "x5c": attacker_cert_chain,
            "jku": f"https://{EVIL_HOST}/jwks.json",
        },
    )
    with pytest.raises(jwt.InvalidSignatureError):
        await verify(token)
    assert all(r.url.host == IDP_HOST for r in idp.requests)


# --- Claims ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        pytest.param(
            {"exp": datetime.now(UTC) - timedelta(minutes=5)},
            jwt.ExpiredSignatureError,
            id="expired",
        ),
        pytest.param({"iss": "https://other-idp.example.test/"}, jwt.InvalidIssuerError, id="iss"),
        pytest.param({"aud": "another-api"}, jwt.InvalidAudienceError, id="aud"),
        pytest.param({"iss": None}, jwt.MissingRequiredClaimError, id="no-iss"),
        pytest.param({"aud": None}, jwt.MissingRequiredClaimError, id="no-aud"),
        pytest.param({"sub": None}, jwt.MissingRequiredClaimError, id="no-sub"),
        pytest.param({"exp": None}, jwt.MissingRequiredClaimError, id="no-exp"),
    ],
)
async def test_bad_claims_raise_pyjwt_errors(
    overrides: dict[str, Any], error: type[jwt.PyJWTError], verify: Verify
) -> None:
    with pytest.raises(error):
        await verify(sign(**overrides))


async def test_expiry_leeway_applies(verify: Verify) -> None:
    token = sign(exp=datetime.now(UTC) - timedelta(seconds=10))
    assert (await verify(token))["sub"] == "alice"
    with pytest.raises(jwt.ExpiredSignatureError):
        await verify(token, leeway=0)


async def test_issuer_and_audience_are_optional(verify: Verify) -> None:
    token = sign(iss=None, aud=None)
    assert (await verify(token, issuer=None, audience=None))["sub"] == "alice"


async def test_a_tampered_payload_fails_the_signature(verify: Verify) -> None:
    header, _, signature = sign().split(".")
    payload = b64(json.dumps(claims(role="admin"), default=lambda d: int(d.timestamp())).encode())
    with pytest.raises(jwt.InvalidSignatureError):
        await verify(f"{header}.{payload}.{signature}")


# --- IdP failures ------------------------------------------------------------------------------


async def test_idp_down_on_first_use_is_unavailable(
    source: JwksKeySource, verify: Verify, idp: FakeIdp, clock: FakeClock
) -> None:
    idp.down = True
    with pytest.raises(JwksUnavailable):
        await source.signing_key(sign())
    with pytest.raises(JwksUnavailable):
        await verify(sign())
    assert idp.fetches == 1  # retries are rate-limited too
    clock.now += 31
    idp.down = False
    assert (await verify(sign()))["sub"] == "alice"
    assert idp.fetches == 2


FAILURES: dict[str, Callable[[FakeIdp], None]] = {
    "connection-refused": lambda idp: setattr(idp, "down", True),
    "http-500": lambda idp: setattr(idp, "response", lambda: httpx.Response(500)),
    "not-json": lambda idp: setattr(
        idp, "response", lambda: httpx.Response(200, text="<html>maintenance</html>")
    ),
    "no-keys-member": lambda idp: setattr(idp, "response", lambda: httpx.Response(200, json={})),
    "keys-not-a-list": lambda idp: setattr(
        idp, "response", lambda: httpx.Response(200, json={"keys": "rsa"})
    ),
    "json-array": lambda idp: setattr(idp, "response", lambda: httpx.Response(200, json=[])),
    "empty-keys": lambda idp: setattr(
        idp, "response", lambda: httpx.Response(200, json={"keys": []})
    ),
    "only-unusable-keys": lambda idp: setattr(
        idp,
        "response",
        lambda: httpx.Response(200, json={"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]}),
    ),
    "redirect": lambda idp: setattr(
        idp,
        "response",
        lambda: httpx.Response(302, headers={"location": f"https://{EVIL_HOST}/jwks.json"}),
    ),
}


@pytest.mark.parametrize("failure", FAILURES)
async def test_a_bad_jwks_response_with_nothing_cached_is_unavailable(
    failure: str, verify: Verify, idp: FakeIdp
) -> None:
    FAILURES[failure](idp)
    with pytest.raises(JwksUnavailable):
        await verify(sign())
    assert [r.url.host for r in idp.requests] == [IDP_HOST]  # redirects are not followed


@pytest.mark.parametrize("failure", FAILURES)
async def test_a_failed_refresh_keeps_using_the_cached_keys(
    failure: str, verify: Verify, idp: FakeIdp, clock: FakeClock
) -> None:
    await verify(sign())
    FAILURES[failure](idp)
    clock.now += 601
    token = sign()
    with structlog.testing.capture_logs() as logs:
        assert (await verify(token))["sub"] == "alice"
    assert idp.fetches == 2
    [entry] = logs
    assert entry["log_level"] == "warning"
    assert entry["using_stale_keys"] is True
    assert token not in repr(logs)
    assert not any(part in repr(logs) for part in token.split("."))

    clock.now += 10  # retries are rate-limited while stale
    await verify(sign())
    assert idp.fetches == 2
    clock.now += 21
    idp.down, idp.response = False, None
    await verify(sign())
    assert idp.fetches == 3


async def test_unknown_kid_while_the_idp_is_down_uses_the_stale_keys(
    source: JwksKeySource, idp: FakeIdp, clock: FakeClock
) -> None:
    await source.signing_key(sign())
    idp.down = True
    clock.now += 31
    with structlog.testing.capture_logs():
        with pytest.raises(InvalidKey):
            await source.signing_key(sign(kid="random"))
        assert await source.signing_key(sign())
    assert idp.fetches == 2
