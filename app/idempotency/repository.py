"""All SQL about stored idempotent responses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.idempotency.models import IdempotencyRecord

Owner = tuple[str, str]  # the caller's organization and principal


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def try_lock(self, owner: Owner, key: str) -> bool:
        """Held until this transaction ends: a second request with the same key meanwhile
        learns at once that the first is still running. (Organizations and principals are
        printable, keys visible ASCII: the unit separator cannot occur in any of them.)"""
        statement = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:name, 0))")
        name = "\x1f".join((*owner, key))
        return bool(await self.session.scalar(statement, {"name": name}))

    async def find(self, owner: Owner, key: str, now: datetime) -> IdempotencyRecord | None:
        org_id, principal = owner
        statement = select(IdempotencyRecord).where(
            IdempotencyRecord.org_id == org_id,
            IdempotencyRecord.principal == principal,
            IdempotencyRecord.key == key,
            IdempotencyRecord.expires_at > now,
        )
        return (await self.session.scalars(statement)).one_or_none()

    async def save(self, values: dict[str, object]) -> None:
        """Insert, or take over an expired record of the same key."""
        statement = insert(IdempotencyRecord).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["org_id", "principal", "key"],
            set_={name: statement.excluded[name] for name in values if name != "id"},
            where=IdempotencyRecord.expires_at <= func.now(),
        )
        await self.session.execute(statement)

    async def purge(self, now: datetime, batch: int = 1000) -> int:
        doomed = (
            select(IdempotencyRecord.id).where(IdempotencyRecord.expires_at <= now).limit(batch)
        )
        result = await self.session.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.id.in_(doomed))
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
