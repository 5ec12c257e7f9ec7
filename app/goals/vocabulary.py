"""The closed vocabularies of a goal, defined once: the wire schemas use the Literal types,
the tables' CHECK constraints and the pure rules use the tuples derived from them."""

from __future__ import annotations

from typing import Literal, get_args

Category = Literal[
    "emotional_awareness",
    "coping_skills",
    "healthy_behaviors",
    "communication",
    "trauma_recovery",
    "self_compassion",
    "relationships",
    "sleep",
    "other",
]
Priority = Literal["high", "medium", "low"]
AchievementStatus = Literal[
    "in_progress",
    "improving",
    "worsening",
    "no_change",
    "achieved",
    "sustaining",
    "not_achieved",
    "no_progress",
    "not_attainable",
]
ExpressedBy = Literal["client", "clinician"]

CATEGORIES: tuple[str, ...] = get_args(Category)
PRIORITIES: tuple[str, ...] = get_args(Priority)
ACHIEVEMENT_STATUSES: tuple[str, ...] = get_args(AchievementStatus)
EXPRESSED_BY: tuple[str, ...] = get_args(ExpressedBy)
