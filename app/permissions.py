"""Role checks shared by services: function-level authorization answers 403."""

from __future__ import annotations

from app.auth.caller import Caller, Role
from app.problems import Forbidden, PreconditionFailed


def require_role(caller: Caller, *allowed: Role, action: str) -> None:
    if caller.role not in allowed:
        names = " or ".join(f"{'an' if r.value[0] in 'aeiou' else 'a'} {r.value}" for r in allowed)
        raise Forbidden(f"Only {names} may {action}.")


def check_version(current: int, expected: frozenset[int] | None, *, what: str) -> None:
    """Optimistic concurrency: refuse to write over a change the caller has not seen."""
    if expected is not None and current not in expected:
        if not expected:
            reason = f"`If-Match` names no version of this {what}"
        else:
            sent = ", ".join(map(str, sorted(expected)))
            reason = f"The {what} changed since you read it (you sent {sent})"
        raise PreconditionFailed(
            f"{reason}; it is now version {current}. Read it again, re-apply your change, and "
            "send its ETag.",
            current_version=current,
        )
