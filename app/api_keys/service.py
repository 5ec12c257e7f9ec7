"""The rules about API keys: admins issue and revoke them; integrations authenticate with them."""

from __future__ import annotations

import hmac
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.models import ApiKey
from app.api_keys.repository import ApiKeyRepository
from app.api_keys.schemas import ApiKeyCreate
from app.api_keys.secrets import display_prefix, generate_key, hash_key, is_well_formed
from app.auth.caller import Caller, Role
from app.db import new_id, utcnow
from app.pagination import encode_cursor, split_page
from app.permissions import require_role
from app.problems import NotFound, Unauthorized
from app.resources import visible_with

REFUSED_KEY = "The API key is not valid or has been revoked."


class RevokedKey(Unauthorized):
    """A revoked key was sent: 401 like any bad key, but whose it was is known, so that the
    attempt is on its organization's audit trail (a leaked key still in use)."""

    def __init__(self, caller: Caller) -> None:
        super().__init__(REFUSED_KEY)
        self.caller = caller


async def authenticate_key(session: AsyncSession, key: str, secret_hash: str) -> Caller:
    """The integration a key belongs to, `secret_hash` being its `hash_key`. A malformed,
    unknown or revoked key is 401 at once (a revoked one as `RevokedKey`)."""
    if not is_well_formed(key):
        raise Unauthorized("The API key is not valid.")
    repository = ApiKeyRepository(session)
    record = await repository.by_hash(secret_hash)
    if record is None or not hmac.compare_digest(record.secret_hash, secret_hash):
        raise Unauthorized(REFUSED_KEY)
    caller = Caller(
        org_id=record.org_id,
        subject=f"api-key:{record.id}",
        role=Role.INTEGRATION,
        scopes=frozenset(record.scopes),
        credential_id=record.id,
    )
    if record.revoked_at is not None:
        raise RevokedKey(caller)
    await repository.touch(record, utcnow())
    return caller


@visible_with("api_key")
async def _key_visible(session: AsyncSession, caller: Caller, key_id: uuid.UUID) -> bool:
    """Only admins see their organization's keys, and a revoked key is gone (as its own
    address says: a replay of the request that made it is 404 too)."""
    if caller.role is not Role.ADMIN:
        return False
    record = await ApiKeyRepository(session).get(caller.org_id, key_id)
    return record is not None and record.revoked_at is None


class ApiKeyService:
    def __init__(self, session: AsyncSession, caller: Caller, pepper: str) -> None:
        self.caller = caller
        self.pepper = pepper
        self.keys = ApiKeyRepository(session)

    async def create(self, data: ApiKeyCreate) -> tuple[ApiKey, str]:
        require_role(self.caller, Role.ADMIN, action="issue API keys")
        key = generate_key()
        record = ApiKey(
            id=new_id(),
            org_id=self.caller.org_id,
            name=data.name,
            scopes=sorted(set(data.scopes)),
            key_prefix=display_prefix(key),
            secret_hash=hash_key(key, self.pepper),
            created_by=self.caller.subject,
            created_at=utcnow(),
        )
        await self.keys.add(record)
        return record, key

    async def search(
        self, *, after: uuid.UUID | None, limit: int
    ) -> tuple[list[ApiKey], str | None]:
        require_role(self.caller, Role.ADMIN, action="list API keys")
        rows = await self.keys.in_org(self.caller.org_id, after=after, limit=limit + 1)
        return split_page(rows, limit, lambda key: encode_cursor(key.id))

    async def get(self, key_id: uuid.UUID) -> ApiKey:
        """A key in use. A revoked one is gone, as after any DELETE (the list still shows it,
        with `revoked_at`: the organization's history of keys)."""
        require_role(self.caller, Role.ADMIN, action="see API keys")
        record = await self._in_org(key_id)
        if record.revoked_at is not None:
            raise NotFound("This API key was revoked; the list of keys still shows it.")
        return record

    async def revoke(self, key_id: uuid.UUID) -> None:
        require_role(self.caller, Role.ADMIN, action="revoke API keys")
        record = await self._in_org(key_id)
        if record.revoked_at is None:  # revoking twice is not an error: DELETE is idempotent
            await self.keys.revoke(record, self.caller.subject)

    async def _in_org(self, key_id: uuid.UUID) -> ApiKey:
        record = await self.keys.get(self.caller.org_id, key_id)
        if record is None:
            raise NotFound("No API key with this id in your organization.")
        return record
