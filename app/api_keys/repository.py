"""All SQL about API keys, scoped to the caller's organization (lookup by hash is not: the
hash is how we learn the organization)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.models import ApiKey
from app.db import STANDALONE_WRITE, utcnow

# last_used_at is written at most this often per key, not on every request.
LAST_USED_GRANULARITY = timedelta(minutes=1)


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_hash(self, secret_hash: str) -> ApiKey | None:
        statement = select(ApiKey).where(ApiKey.secret_hash == secret_hash)
        return (await self.session.scalars(statement)).one_or_none()

    async def touch(self, key: ApiKey, now: datetime) -> None:
        """Record the key's use, unless a recent use is already recorded (no round trip)."""
        if key.last_used_at is not None and key.last_used_at >= now - LAST_USED_GRANULARITY:
            return
        await self.session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key.id,
                or_(
                    ApiKey.last_used_at.is_(None),
                    ApiKey.last_used_at < now - LAST_USED_GRANULARITY,
                ),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False, **STANDALONE_WRITE)
        )

    async def in_org(self, org_id: str, *, after: uuid.UUID | None, limit: int) -> Sequence[ApiKey]:
        statement = select(ApiKey).where(ApiKey.org_id == org_id).order_by(ApiKey.id).limit(limit)
        if after is not None:
            statement = statement.where(ApiKey.id > after)
        return (await self.session.scalars(statement)).all()

    async def get(self, org_id: str, key_id: uuid.UUID) -> ApiKey | None:
        statement = select(ApiKey).where(ApiKey.org_id == org_id, ApiKey.id == key_id)
        return (await self.session.scalars(statement)).one_or_none()

    async def add(self, key: ApiKey) -> None:
        self.session.add(key)
        await self.session.flush()

    async def revoke(self, key: ApiKey, by: str) -> None:
        key.revoked_at = utcnow()
        key.revoked_by = by
        await self.session.flush()
