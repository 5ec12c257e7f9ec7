"""Which lifecycle moves a goal may make (FHIR Goal.lifecycleStatus), as data."""

from __future__ import annotations

from enum import StrEnum


class LifecycleStatus(StrEnum):
    PROPOSED = "proposed"
    PLANNED = "planned"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered_in_error"
    REJECTED = "rejected"


S = LifecycleStatus

_FORWARD: dict[LifecycleStatus, frozenset[LifecycleStatus]] = {
    S.PROPOSED: frozenset({S.PLANNED, S.ACCEPTED, S.ACTIVE, S.REJECTED, S.CANCELLED}),
    S.PLANNED: frozenset({S.ACCEPTED, S.ACTIVE, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.ACTIVE, S.ON_HOLD, S.CANCELLED}),
    S.ACTIVE: frozenset({S.ON_HOLD, S.COMPLETED, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.ACTIVE, S.CANCELLED}),
    S.COMPLETED: frozenset({S.ACTIVE}),  # reopened
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.ENTERED_IN_ERROR: frozenset(),
}

# Any goal recorded by mistake can be marked so; nothing is ever deleted.
TRANSITIONS: dict[LifecycleStatus, frozenset[LifecycleStatus]] = {
    status: targets | ({S.ENTERED_IN_ERROR} if status is not S.ENTERED_IN_ERROR else set())
    for status, targets in _FORWARD.items()
}

# Goals a client is still working towards: these may be the focus and show in summaries.
OPEN_STATUSES = frozenset({S.PROPOSED, S.PLANNED, S.ACCEPTED, S.ACTIVE, S.ON_HOLD})
# Goals with no way out: kept as they are, with no more edits, steps or progress.
CLOSED_STATUSES = frozenset({S.CANCELLED, S.REJECTED, S.ENTERED_IN_ERROR})


def allowed_targets(current: LifecycleStatus) -> list[LifecycleStatus]:
    """The statuses `current` may move to, in the order the enum declares them."""
    return [status for status in LifecycleStatus if status in TRANSITIONS[current]]


def can_transition(current: LifecycleStatus, target: LifecycleStatus) -> bool:
    return target in TRANSITIONS[current]
