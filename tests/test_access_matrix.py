"""Access control as a matrix (SECURITY-TESTS items 1-6, OWASP API1/API3/API5).

One organization (`org-a`) holds the victim: a client record whose own login is `robin`, cared for
by clinician `alice`, with a goal alice wrote and a goal robin proposed; the proposal has a step
alice planned and a progress event robin recorded, and the org's EHR integration (an API key the
admin issued) posted a session outcome about robin. Everyone else is an outsider who must learn
nothing about it: not even that it exists. Outsiders include an integration of another org whose
key holds every scope.

- BOLA: every route that takes an id (found by introspecting the app, so new routes are covered
  automatically) x every outsider: the same answer as for a random id, and no row changes. Ids
  sent in a body (a session outcome's client and goals) get the same treatment.
- Lists and filters: nothing of the victim's comes back from a list or a filter.
- BFLA: every mutating route x every user role, acting on the caller's own record: 403 or 2xx as
  the role table says; and every route x an integration key, with and without the one scope
  `app.auth.scopes.SCOPE_BY_OPERATION` asks for: 2xx or 403.
- Mass assignment: server-owned fields in a body are 422, and nothing is written.
- Excessive exposure: a client sees exactly the documented fields; so do an admin reading API
  keys (never the key or its hash) and an integration reading session outcomes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import Response
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.api_keys.schemas import ApiKeyCreated, ApiKeyRead
from app.auth.caller import USER_ROLES, Role
from app.auth.scopes import SCOPE_BY_OPERATION, SCOPES
from app.clients.schemas import CareTeam, CareTeamMemberRead, ClientRead
from app.goals.schemas import FieldChange, GoalRead, Measure, RevisionRead
from app.goals.smart import CriterionReport, SmartCriteria, SmartReport
from app.progress.schemas import ClientGoalProgress, ClientSummary, EventRead, GoalProgress
from app.progress.summary import HabitStrength, ProgressSummary, StepsSummary, Trend
from app.session_outcomes.schemas import OutcomeForGoal, SessionOutcomeRead
from app.steps.schemas import Recurrence, StepRead
from tests.api import Actor, Api, smart_goal

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # FastAPI < 0.137 still copied every included route into `app.routes`.

    def iter_route_contexts(routes: Iterable[Any]) -> Iterator[Any]:  # type: ignore[misc]
        return iter(routes)


RouteKey = tuple[str, str]  # (method, path template as documented, e.g. /v1/goals/{goal_id})

# ---------------------------------------------------------------------------------------------
# Route introspection
# ---------------------------------------------------------------------------------------------

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def route_operations(app: FastAPI) -> dict[RouteKey, str]:
    """Every (method, path) the app serves under /v1, with its operation name (`route.name`,
    what `SCOPE_BY_OPERATION` is keyed by and what the scope check looks up per request).

    Since FastAPI 0.137 `include_router` leaves one opaque `_IncludedRouter` (no `.path`) in
    `app.routes` instead of copying the routes, so filtering `app.routes` for `APIRoute` finds
    only /docs and /redoc, and every "is each route covered?" check would pass on an empty set.
    `iter_route_contexts` is what FastAPI's own OpenAPI generator walks: it flattens the
    included routers and gives the effective (prefixed) paths.
    """
    operations: dict[RouteKey, str] = {}
    for context in iter_route_contexts(app.routes):
        route = getattr(context, "original_route", context)
        if not isinstance(route, APIRoute):
            continue
        path: str = context.path_format or ""  # `{client_id}`, without the `:uuid` convertor
        if path.startswith("/v1/"):
            operations |= {(method, path): route.name for method in context.methods or ()}
    assert operations, "found no /v1 routes: the introspection is broken, checks would be vacuous"
    return operations


def served_routes(app: FastAPI) -> set[RouteKey]:
    """Every (method, path) the app serves under /v1."""
    return set(route_operations(app))


def routes_with_ids(app: FastAPI) -> set[RouteKey]:
    return {(method, path) for method, path in served_routes(app) if "{" in path}


def mutating_routes(app: FastAPI) -> set[RouteKey]:
    return {(method, path) for method, path in served_routes(app) if method in MUTATING}


# ---------------------------------------------------------------------------------------------
# The request builder: how to call each route. Add a line here when you add a route.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """A request that succeeds for someone allowed to make it on the victim's record."""

    body: Callable[[], dict[str, Any]] | None = None
    path_params: dict[str, str] = field(default_factory=dict)  # non-id path parameters
    body_for: Callable[[dict[str, str]], dict[str, Any]] | None = None  # a body naming ids

    def url(self, path: str, ids: dict[str, str]) -> str:
        return path.format_map({**ids, **self.path_params})

    def json(self, ids: dict[str, str]) -> dict[str, Any] | None:
        if self.body_for is not None:
            return self.body_for(ids)
        return None if self.body is None else self.body()

    async def send(self, actor: Actor, method: str, path: str, ids: dict[str, str]) -> Response:
        body = self.json(ids)
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        return await actor.request(method, self.url(path, ids), **kwargs)


CARE_TEAM_MEMBER = "/v1/clients/{client_id}/care-team/{clinician_subject}"
SESSION_OUTCOMES: RouteKey = ("POST", "/v1/session-outcomes")


def progress_note() -> dict[str, Any]:
    return {"kind": "note", "note": "Kept the evening entries this week."}


def session_outcome(ids: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """What an EHR posts after a session: about `ids["client_id"]`, on `ids["goal_id"]`."""
    body: dict[str, Any] = {
        "external_id": f"ENC-{uuid.uuid4()}",
        "client_id": ids["client_id"],
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "clinician": "alice",
        "note": "Talked through the week.",
        "goals": [{"goal_id": ids["goal_id"], "note": "Called his sister twice."}],
    }
    body.update(overrides)
    return body


def new_api_key() -> dict[str, Any]:
    return {"name": "Another EHR", "scopes": ["goals:read"]}


PROBES: dict[RouteKey, Probe] = {
    ("POST", "/v1/clients"): Probe(body=lambda: {"display_name": "Someone new"}),
    ("GET", "/v1/clients"): Probe(),
    ("GET", "/v1/clients/{client_id}"): Probe(),
    ("PATCH", "/v1/clients/{client_id}"): Probe(body=lambda: {"display_name": "Renamed"}),
    ("GET", "/v1/clients/{client_id}/care-team"): Probe(),
    ("PUT", CARE_TEAM_MEMBER): Probe(path_params={"clinician_subject": "mallory"}),
    ("DELETE", CARE_TEAM_MEMBER): Probe(path_params={"clinician_subject": "alice"}),
    ("POST", "/v1/clients/{client_id}/goals"): Probe(body=smart_goal),
    ("GET", "/v1/clients/{client_id}/goals"): Probe(),
    ("GET", "/v1/goals"): Probe(),
    ("POST", "/v1/goals/validate"): Probe(body=smart_goal),
    ("GET", "/v1/goals/{goal_id}"): Probe(),
    # The goal is robin's own proposal, so even robin may PATCH it (but nobody else outside).
    ("PATCH", "/v1/goals/{goal_id}"): Probe(body=lambda: {"title": "Walk for ten minutes daily"}),
    ("POST", "/v1/goals/{goal_id}/transition"): Probe(
        body=lambda: {"to": "cancelled", "reason": "No longer relevant"}
    ),
    ("GET", "/v1/goals/{goal_id}/revisions"): Probe(),
    ("POST", "/v1/goals/{goal_id}/steps"): Probe(body=lambda: {"title": "Set a phone reminder"}),
    ("GET", "/v1/goals/{goal_id}/steps"): Probe(),
    ("GET", "/v1/steps/{step_id}"): Probe(),
    # Only `status`, so that even robin may tick off a step of his own goal.
    ("PATCH", "/v1/steps/{step_id}"): Probe(body=lambda: {"status": "in_progress"}),
    ("DELETE", "/v1/steps/{step_id}"): Probe(),
    ("POST", "/v1/goals/{goal_id}/progress-events"): Probe(body=progress_note),
    ("GET", "/v1/goals/{goal_id}/progress-events"): Probe(),
    ("GET", "/v1/progress-events/{event_id}"): Probe(),
    # The event is robin's own, so even robin may retract it.
    ("POST", "/v1/progress-events/{event_id}/retract"): Probe(
        body=lambda: {"reason": "Entered on the wrong goal"}
    ),
    ("GET", "/v1/goals/{goal_id}/progress"): Probe(),
    ("GET", "/v1/clients/{client_id}/summary"): Probe(),
    ("GET", "/v1/goal-templates"): Probe(),
    # About robin, on his proposal: staff and the org's integration may post it.
    SESSION_OUTCOMES: Probe(body_for=session_outcome),
    ("GET", "/v1/session-outcomes/{outcome_id}"): Probe(),
    ("POST", "/v1/api-keys"): Probe(body=new_api_key),
    ("GET", "/v1/api-keys"): Probe(),
    ("GET", "/v1/api-keys/{key_id}"): Probe(),  # the org's integration key
    ("DELETE", "/v1/api-keys/{key_id}"): Probe(),
    ("GET", "/v1/audit-events"): Probe(),
}

ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset({Role.ADMIN, Role.CLINICIAN})
EVERYONE = frozenset(USER_ROLES)  # every user role; integrations go by their key's scopes

# Who may call each mutating route at all (on a record they can see). Per API.md and the
# services: clients may not create clients, change care teams, PATCH clients or transition
# goals; they may propose goals for themselves, PATCH their own proposals, and validate drafts.
# The action plan is the clinician's: clients may not add or remove steps, and may PATCH only a
# step's `status` (the probe sends just that; see the test that a client may not send more).
# Anyone may record progress on a goal they see, and retract what they recorded themselves
# (staff: anything; the probe's event is robin's own).
MAY_CALL: dict[RouteKey, frozenset[Role]] = {
    ("POST", "/v1/clients"): STAFF,
    ("PATCH", "/v1/clients/{client_id}"): STAFF,
    ("PUT", CARE_TEAM_MEMBER): STAFF,
    ("DELETE", CARE_TEAM_MEMBER): STAFF,
    ("POST", "/v1/clients/{client_id}/goals"): EVERYONE,
    ("POST", "/v1/goals/validate"): EVERYONE,
    ("PATCH", "/v1/goals/{goal_id}"): EVERYONE,
    ("POST", "/v1/goals/{goal_id}/transition"): STAFF,
    ("POST", "/v1/goals/{goal_id}/steps"): STAFF,
    ("PATCH", "/v1/steps/{step_id}"): EVERYONE,
    ("DELETE", "/v1/steps/{step_id}"): STAFF,
    ("POST", "/v1/goals/{goal_id}/progress-events"): EVERYONE,
    ("POST", "/v1/progress-events/{event_id}/retract"): EVERYONE,
    # API.md: integrations "post session outcomes"; so may staff (a clinician typing one in),
    # never a client about themselves.
    SESSION_OUTCOMES: STAFF,
    # API.md: "an API key created by an admin"; listing and revoking are the admin's too.
    ("POST", "/v1/api-keys"): ADMIN,
    ("DELETE", "/v1/api-keys/{key_id}"): ADMIN,
}
ADMIN_ONLY_READS: frozenset[RouteKey] = frozenset(
    {("GET", "/v1/api-keys"), ("GET", "/v1/api-keys/{key_id}"), ("GET", "/v1/audit-events")}
)

# What API.md opens to integrations: reading the org's clients, goals and progress (with the
# SMART dry run and the templates, which save nothing), and posting (and reading back) session
# outcomes. No user-facing write, and never the API keys themselves. `SCOPE_BY_OPERATION` must
# name exactly these routes' operations; everything else is 403 whatever the key's scopes.
INTEGRATION_ROUTES: frozenset[RouteKey] = frozenset(
    {route for route in PROBES if route[0] == "GET" and route not in ADMIN_ONLY_READS}
    | {("POST", "/v1/goals/validate"), SESSION_OUTCOMES}
)


def expected_denial(actor: Actor, route: RouteKey, operation: str) -> int:
    """Whatever the id, a caller that may never call a route is told 403; otherwise 404.
    (Integration outsiders hold every scope, so only the operation decides.)"""
    if actor.role is Role.INTEGRATION:
        return 404 if operation in SCOPE_BY_OPERATION else 403
    allowed = ADMIN if route in ADMIN_ONLY_READS else MAY_CALL.get(route, EVERYONE)
    return 403 if actor.role not in allowed else 404


# ---------------------------------------------------------------------------------------------
# Database snapshot
# ---------------------------------------------------------------------------------------------

SNAPSHOT_QUERIES = {
    "clients": "SELECT * FROM clients ORDER BY id",
    "care_team_members": "SELECT * FROM care_team_members ORDER BY client_id, clinician_subject",
    "goals": "SELECT * FROM goals ORDER BY id",
    "goal_revisions": "SELECT * FROM goal_revisions ORDER BY id",
    "action_steps": "SELECT * FROM action_steps ORDER BY id",
    "progress_events": "SELECT * FROM progress_events ORDER BY id",
    "session_outcomes": "SELECT * FROM session_outcomes ORDER BY id",
    # Every column but `last_used_at`, which any use of a key legitimately moves (at most once a
    # minute), so an outsider's refused request with their own key would look like a write.
    "api_keys": "SELECT to_jsonb(k) - 'last_used_at' FROM api_keys AS k ORDER BY id",
}


async def snapshot(connection: AsyncConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a request could change, in a stable order."""
    return {
        table: [tuple(row) for row in await connection.execute(text(query))]
        for table, query in SNAPSHOT_QUERIES.items()
    }


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def comparable(response: Response) -> dict[str, Any]:
    """A problem body without what differs per request (`instance` is the URL, so the id)."""
    body = dict(response.json())
    body.pop("instance", None)
    body.pop("request_id", None)
    return body


async def all_items(actor: Actor, url: str, **params: Any) -> list[dict[str, Any]]:
    """Walk every page of a list."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": 100, **({"cursor": cursor} if cursor else {})}
        response = await actor.get(url, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


ID_NAMES = ("client_id", "goal_id", "step_id", "event_id", "outcome_id", "key_id")


def random_ids() -> dict[str, str]:
    return {name: str(uuid.uuid4()) for name in ID_NAMES}


def page_of(response: Response, where: str) -> list[dict[str, Any]]:
    assert response.status_code == 200, f"{where}: {response.text}"
    assert set(response.json()) == {"items", "next_cursor"}, where
    return list(response.json()["items"])


async def issue_key(admin: Actor, *scopes: str) -> tuple[Actor, dict[str, Any]]:
    """An integration of the admin's org holding these scopes, and the key as created."""
    response = await admin.post("/v1/api-keys", json={"name": "EHR", "scopes": list(scopes)})
    assert response.status_code == 201, response.text
    created = dict(response.json())
    key = Actor(admin.http, created["key"], admin.org, f"api-key:{created['id']}", Role.INTEGRATION)
    return key, created


def assert_exact_fields(data: dict[str, Any], model: type[BaseModel], where: str) -> None:
    assert set(data) == set(model.model_fields), (
        f"{where}: extra {sorted(set(data) - set(model.model_fields))}, "
        f"missing {sorted(set(model.model_fields) - set(data))}"
    )


def assert_goal_shape(goal: dict[str, Any], where: str) -> None:
    assert_exact_fields(goal, GoalRead, where)
    assert_exact_fields(goal["smart"], SmartReport, f"{where}.smart")
    assert_exact_fields(goal["smart"]["criteria"], SmartCriteria, f"{where}.smart.criteria")
    for name, criterion in goal["smart"]["criteria"].items():
        assert_exact_fields(criterion, CriterionReport, f"{where}.smart.criteria.{name}")
    if goal["measure"] is not None:
        assert_exact_fields(goal["measure"], Measure, f"{where}.measure")


def assert_step_shape(step: dict[str, Any], where: str) -> None:
    assert_exact_fields(step, StepRead, where)
    if step["recurrence"] is not None:
        assert_exact_fields(step["recurrence"], Recurrence, f"{where}.recurrence")


def assert_outcome_shape(outcome: dict[str, Any], where: str) -> None:
    assert_exact_fields(outcome, SessionOutcomeRead, where)
    assert outcome["goals"], f"{where}: no goal, so the items' shape went unchecked"
    for item in outcome["goals"]:
        assert_exact_fields(item, OutcomeForGoal, f"{where}.goals item")


def assert_progress_shape(
    progress: dict[str, Any], model: type[ProgressSummary], where: str
) -> None:
    assert_exact_fields(progress, model, where)
    assert_exact_fields(progress["steps"], StepsSummary, f"{where}.steps")
    if progress["trend"] is not None:
        assert_exact_fields(progress["trend"], Trend, f"{where}.trend")
    for habit in progress["habits"]:
        assert_exact_fields(habit, HabitStrength, f"{where}.habits item")


# ---------------------------------------------------------------------------------------------
# The world
# ---------------------------------------------------------------------------------------------

VICTIM_EXTERNAL_ID = "MRN-VICTIM-0001"


@dataclass(frozen=True)
class World:
    admin: Actor  # admin of org-a
    clinician: Actor  # alice, on the victim's care team
    client_user: Actor  # robin, the victim's own login
    victim: dict[str, Any]
    clinician_goal: dict[str, Any]  # written by alice
    proposal: dict[str, Any]  # proposed by robin
    step: dict[str, Any]  # on the proposal, planned by alice (a daily habit)
    event: dict[str, Any]  # on the proposal, recorded by robin
    integration: Actor  # the org's EHR: a key holding every scope
    api_key: dict[str, Any]  # that key, as created
    outcome: dict[str, Any]  # a session outcome about robin, posted by the integration
    outsiders: dict[str, Actor]
    own_client: dict[str, str]  # outsider name -> a client id they may see
    own_goal: dict[str, str]  # outsider name -> a goal id they may see

    @property
    def victim_ids(self) -> dict[str, str]:
        return {
            "client_id": self.victim["id"],
            "goal_id": self.proposal["id"],
            "step_id": self.step["id"],
            "event_id": self.event["id"],
            "outcome_id": self.outcome["id"],
            "key_id": self.api_key["id"],
        }

    @property
    def victim_goal_ids(self) -> set[str]:
        return {self.clinician_goal["id"], self.proposal["id"]}

    def as_role(self, role: Role) -> Actor:
        """Someone of this role who may see the victim's record."""
        return {
            Role.ADMIN: self.admin,
            Role.CLINICIAN: self.clinician,
            Role.CLIENT: self.client_user,
            Role.INTEGRATION: self.integration,
        }[role]


OUTSIDERS = (
    "admin of another org",
    "clinician off the care team",
    "another client",
    "same-sub clinician of another org",
    "same-sub client of another org",
    "integration of another org",  # its key holds every scope
)


@pytest.fixture
async def world(api: Api) -> World:
    admin = api.actor("admin", org="org-a", sub="ada")
    alice = api.actor("clinician", org="org-a", sub="alice")
    robin = api.actor("client", org="org-a", sub="robin")
    victim = await api.client(
        alice, display_name="Victim", external_id=VICTIM_EXTERNAL_ID, user_subject="robin"
    )
    clinician_goal = await api.goal(alice, victim["id"])
    proposal = await api.goal(robin, victim["id"], title="Call my sister once a week")
    step_body = {"title": "Put the phone by the bed", "recurrence": {"frequency": "daily"}}
    step = await alice.post(f"/v1/goals/{proposal['id']}/steps", json=step_body)
    assert step.status_code == 201, step.text
    event = await robin.post(f"/v1/goals/{proposal['id']}/progress-events", json=progress_note())
    assert event.status_code == 201, event.text
    integration, api_key = await issue_key(admin, *SCOPES)
    ids = {"client_id": victim["id"], "goal_id": clinician_goal["id"]}
    outcome = await integration.post("/v1/session-outcomes", json=session_outcome(ids))
    assert outcome.status_code == 201, outcome.text

    # Same org: clinician bob cares for client sam, who has a goal.
    bob = api.actor("clinician", org="org-a", sub="bob")
    sam = api.actor("client", org="org-a", sub="sam")
    sam_record = await api.client(bob, display_name="Sam", user_subject="sam")
    sam_goal = await api.goal(bob, sam_record["id"])

    # Another org, whose users reuse the victim's subjects ("alice", "robin").
    zed = api.actor("admin", org="org-b", sub="zed")
    alice_b = api.actor("clinician", org="org-b", sub="alice")
    robin_b = api.actor("client", org="org-b", sub="robin")
    b_record = await api.client(zed, display_name="B", external_id="MRN-B", user_subject="robin")
    joined = await zed.put(f"/v1/clients/{b_record['id']}/care-team/alice")
    assert joined.status_code == 201, joined.text
    b_goal = await api.goal(zed, b_record["id"])
    ehr_b, _ = await issue_key(zed, *SCOPES)

    outsiders = dict(zip(OUTSIDERS, (zed, bob, sam, alice_b, robin_b, ehr_b), strict=True))
    own_records = (b_record, sam_record, sam_record, b_record, b_record, b_record)
    own_goals = (b_goal, sam_goal, sam_goal, b_goal, b_goal, b_goal)
    return World(
        admin=admin,
        clinician=alice,
        client_user=robin,
        victim=victim,
        clinician_goal=clinician_goal,
        proposal=proposal,
        step=step.json(),
        event=event.json(),
        integration=integration,
        api_key=api_key,
        outcome=outcome.json(),
        outsiders=outsiders,
        own_client={name: r["id"] for name, r in zip(OUTSIDERS, own_records, strict=True)},
        own_goal={name: g["id"] for name, g in zip(OUTSIDERS, own_goals, strict=True)},
    )


# ---------------------------------------------------------------------------------------------
# 1. BOLA (OWASP API1): every route with an id x every outsider
# ---------------------------------------------------------------------------------------------


async def test_outsiders_get_the_same_answer_as_for_a_missing_id_and_change_nothing(
    app: FastAPI, world: World, connection: AsyncConnection
) -> None:
    operations = route_operations(app)
    routes = sorted(routes_with_ids(app))
    uncovered = set(routes) - set(PROBES)
    assert not uncovered, f"add these routes to PROBES so the BOLA matrix covers them: {uncovered}"

    before = await snapshot(connection)
    combos = 0
    for method, path in routes:
        probe = PROBES[(method, path)]
        for name, outsider in world.outsiders.items():
            where = f"{name} {method} {path}"
            expected = expected_denial(outsider, (method, path), operations[(method, path)])
            foreign = await probe.send(outsider, method, path, world.victim_ids)
            missing = await probe.send(outsider, method, path, random_ids())
            assert foreign.status_code == expected, f"{where}: {foreign.text}"
            assert missing.status_code == expected, f"{where} (random id): {missing.text}"
            assert comparable(foreign) == comparable(missing), where
            assert foreign.headers["content-type"] == missing.headers["content-type"], where
            combos += 1
    assert await snapshot(connection) == before, "an outsider's request changed the database"
    # The org's key survived the other org's admin trying to revoke it, and still works.
    still_works = await world.integration.get(f"/v1/goals/{world.proposal['id']}")
    assert still_works.status_code == 200, still_works.text

    # The control: the same requests work for someone who may see the record, so the 404s
    # above are about visibility, not about a broken request. Reads first, then changes, deletes
    # and last the goal's cancellation, so that no request finds its record already gone (the
    # step) or closed (the goal, whose plan closes with it).
    def last_the_closing(route: tuple[str, str]) -> tuple[bool, bool, bool, tuple[str, str]]:
        return (route[0] in MUTATING, route[1].endswith("/transition"), route[0] == "DELETE", route)

    # Each success also carries the headers the OpenAPI document says it does (a replay's
    # Idempotent-Replayed aside).
    spec = app.openapi()["paths"]
    for method, path in sorted(routes, key=last_the_closing):
        response = await PROBES[(method, path)].send(world.admin, method, path, world.victim_ids)
        assert response.is_success, f"admin {method} {path}: {response.text}"
        documented = spec[path][method.lower()]["responses"][str(response.status_code)]
        promised = {name.lower() for name in documented.get("headers", {})}
        assert promised - {"idempotent-replayed"} <= set(response.headers), (method, path)
    # ...and the admin's own DELETE did revoke the key: the outsiders' 404s were not a no-op.
    revoked = await world.integration.get(f"/v1/goals/{world.proposal['id']}")
    assert revoked.status_code == 401, revoked.text

    assert combos == len(routes) * len(OUTSIDERS)
    assert combos >= 24 * 6


@pytest.mark.parametrize("name", OUTSIDERS)
async def test_outsiders_cannot_post_session_outcomes_about_the_victim(
    world: World, connection: AsyncConnection, name: str
) -> None:
    """The ids in a session outcome's body are BOLA targets too: the victim's client (by id or
    by EHR id), and the victim's goal under the outsider's own client. Each gets the same answer
    as a random one, and nothing is stored."""
    outsider = world.outsiders[name]
    expected = expected_denial(outsider, SESSION_OUTCOMES, "create_session_outcome")
    own = {"client_id": world.own_client[name]}
    unknown = random_ids()

    def by_ehr_id(ids: dict[str, str], external_id: str) -> dict[str, Any]:
        body = session_outcome(ids, client_external_id=external_id)
        del body["client_id"]
        return body

    cases = {
        "client_id": (session_outcome(world.victim_ids), session_outcome(unknown), expected),
        "client_external_id": (
            by_ehr_id(world.victim_ids, VICTIM_EXTERNAL_ID),
            by_ehr_id(unknown, "MRN-NOBODY-0000"),
            expected,
        ),
        "goal_id under own client": (
            session_outcome({**own, "goal_id": world.clinician_goal["id"]}),
            session_outcome({**own, "goal_id": unknown["goal_id"]}),
            403 if expected == 403 else 422,
        ),
    }
    before = await snapshot(connection)
    for case, (foreign_body, missing_body, status) in cases.items():
        where = f"{name}, {case}"
        foreign = await outsider.post("/v1/session-outcomes", json=foreign_body)
        missing = await outsider.post("/v1/session-outcomes", json=missing_body)
        assert foreign.status_code == status, f"{where}: {foreign.text}"
        assert missing.status_code == status, f"{where} (random id): {missing.text}"
        assert comparable(foreign) == comparable(missing), where
    assert await snapshot(connection) == before, "an outsider's session outcome was stored"


# ---------------------------------------------------------------------------------------------
# 2. Lists and filters (item 3)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OUTSIDERS)
async def test_lists_and_filters_return_nothing_of_the_victims(world: World, name: str) -> None:
    outsider = world.outsiders[name]
    victim_id = world.victim["id"]

    filtered = await outsider.get("/v1/goals", params={"client_id": victim_id})
    missing = await outsider.get("/v1/goals", params={"client_id": str(uuid.uuid4())})
    assert filtered.status_code == 404, filtered.text
    assert comparable(filtered) == comparable(missing)

    goals = await all_items(outsider, "/v1/goals")
    assert world.own_goal[name] in {g["id"] for g in goals}  # the list is not just empty
    assert not {g["id"] for g in goals} & world.victim_goal_ids
    assert not [g for g in goals if g["client_id"] == victim_id]

    narrowed = await all_items(
        outsider,
        "/v1/goals",
        lifecycle_status=["proposed", "active"],
        category=["emotional_awareness"],
        updated_since="2000-01-01T00:00:00Z",
    )
    assert not {g["id"] for g in narrowed} & world.victim_goal_ids

    clients = await all_items(outsider, "/v1/clients")
    assert world.own_client[name] in {c["id"] for c in clients}
    assert victim_id not in {c["id"] for c in clients}

    by_external_id = await outsider.get("/v1/clients", params={"external_id": VICTIM_EXTERNAL_ID})
    assert by_external_id.status_code == 200, by_external_id.text
    assert by_external_id.json() == {"items": [], "next_cursor": None}


async def test_the_victims_own_people_do_see_it_in_lists(world: World) -> None:
    """The control for the test above: the same lists and filters find the victim's data."""
    for actor in (world.admin, world.clinician, world.client_user, world.integration):
        goals = {g["id"] for g in await all_items(actor, "/v1/goals")}
        assert world.victim_goal_ids <= goals
        found = await actor.get("/v1/clients", params={"external_id": VICTIM_EXTERNAL_ID})
        assert [c["id"] for c in found.json()["items"]] == [world.victim["id"]]


async def test_api_key_lists_stay_in_their_org(world: World) -> None:
    own = {k["id"] for k in await all_items(world.admin, "/v1/api-keys")}
    assert world.api_key["id"] in own
    other = await all_items(world.outsiders["admin of another org"], "/v1/api-keys")
    assert other, "the other org's list is empty, so it proves nothing"
    assert world.api_key["id"] not in {k["id"] for k in other}
    assert not own & {k["id"] for k in other}


# ---------------------------------------------------------------------------------------------
# 3. Function-level authorization (OWASP API5): every mutating route x every user role, and
#    every route x an integration's scopes
# ---------------------------------------------------------------------------------------------

ROLE_CELLS = [(route, role) for route in MAY_CALL for role in USER_ROLES]


async def test_role_table_covers_every_mutating_route(app: FastAPI) -> None:
    assert mutating_routes(app) == set(MAY_CALL), "update MAY_CALL (and PROBES) for new routes"
    assert set(MAY_CALL) <= set(PROBES)
    assert len(ROLE_CELLS) == 16 * 3


@pytest.mark.parametrize(
    ("route", "role"), ROLE_CELLS, ids=[f"{m} {p} as {r}" for (m, p), r in ROLE_CELLS]
)
async def test_role_matrix_on_own_record(
    world: World, connection: AsyncConnection, route: RouteKey, role: Role
) -> None:
    """Each role acts on a record it may see, so the answer is about the role alone."""
    method, path = route
    actor = world.as_role(role)
    before = await snapshot(connection)
    response = await PROBES[route].send(actor, method, path, world.victim_ids)
    if role in MAY_CALL[route]:
        assert response.is_success, response.text
        # Also shows the snapshot sees the app's writes, so "unchanged" below means something.
        saves_nothing = route == ("POST", "/v1/goals/validate")
        assert (await snapshot(connection) == before) is saves_nothing
    else:
        assert response.status_code == 403, response.text
        assert response.json()["type"].endswith(":forbidden")
        assert await snapshot(connection) == before


@pytest.mark.parametrize("role", USER_ROLES, ids=str)
async def test_only_admins_may_read_api_keys_and_the_audit_trail(world: World, role: Role) -> None:
    for method, path in sorted(ADMIN_ONLY_READS):
        probe = PROBES[(method, path)]
        response = await probe.send(world.as_role(role), method, path, world.victim_ids)
        if role is Role.ADMIN and "{" in path:
            assert response.status_code == 200, f"{path}: {response.text}"
        elif role is Role.ADMIN:
            assert page_of(response, path), f"{path}: an empty list proves nothing"
        else:
            assert response.status_code == 403, f"{role} {path}: {response.text}"
            assert response.json()["type"].endswith(":forbidden")


async def test_scope_table_covers_exactly_the_routes_open_to_integrations(app: FastAPI) -> None:
    operations = route_operations(app)
    assert set(PROBES) == set(operations), "add a probe for every route (scope matrix below)"
    assert len(set(operations.values())) == len(operations), "operation names must be unique"
    assert set(operations) >= INTEGRATION_ROUTES
    open_to_integrations = {operations[route] for route in INTEGRATION_ROUTES}
    assert set(SCOPE_BY_OPERATION) == open_to_integrations, (
        f"closed but granted: {sorted(set(SCOPE_BY_OPERATION) - open_to_integrations)}, "
        f"open but missing: {sorted(open_to_integrations - set(SCOPE_BY_OPERATION))}"
    )
    assert set(SCOPE_BY_OPERATION.values()) == set(SCOPES), "a scope that grants nothing"
    cells = sum(2 if op in SCOPE_BY_OPERATION else 1 for op in operations.values())
    assert (len(operations), len(SCOPE_BY_OPERATION), cells) == (34, 17, 17 * 2 + 17)


@pytest.mark.parametrize("route", sorted(PROBES), ids=[f"{m} {p}" for m, p in sorted(PROBES)])
async def test_integration_scope_matrix(
    app: FastAPI, world: World, connection: AsyncConnection, route: RouteKey
) -> None:
    """An org-a key acting on the org's own record, so the answer is about scopes alone: with
    exactly the scope the table names, allowed; with every other scope, 403 naming it. An
    operation the table does not name is 403 even for a key holding every scope."""
    method, path = route
    probe = PROBES[route]
    needed = SCOPE_BY_OPERATION.get(route_operations(app)[route])
    granted = (await issue_key(world.admin, needed))[0] if needed else None
    withheld, _ = await issue_key(world.admin, *(scope for scope in SCOPES if scope != needed))
    before = await snapshot(connection)

    refused = await probe.send(withheld, method, path, world.victim_ids)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith(":forbidden")
    assert refused.json().get("required_scope") == needed
    assert await snapshot(connection) == before

    if granted is not None:
        response = await probe.send(granted, method, path, world.victim_ids)
        assert response.is_success, response.text
        writes = route == SESSION_OUTCOMES
        assert (await snapshot(connection) == before) is not writes


@pytest.mark.parametrize(
    ("goal", "change"),
    [
        ("clinician_goal", {"title": "Walk for ten minutes daily"}),
        ("proposal", {"achievement_status": "achieved"}),
        ("proposal", {"expressed_by": "clinician"}),
        ("planned_proposal", {"title": "Walk for ten minutes daily"}),
    ],
    ids=["goal-written-by-clinician", "achievement-status", "expressed-by", "no-longer-proposed"],
)
async def test_client_may_patch_only_own_proposals_and_not_clinician_fields(
    world: World, connection: AsyncConnection, goal: str, change: dict[str, Any]
) -> None:
    goal_id = world.clinician_goal["id"] if goal == "clinician_goal" else world.proposal["id"]
    if goal == "planned_proposal":
        url = f"/v1/goals/{goal_id}/transition"
        moved = await world.clinician.post(url, json={"to": "planned"})
        assert moved.status_code == 200, moved.text
    before = await snapshot(connection)
    response = await world.client_user.patch(f"/v1/goals/{goal_id}", json=change)
    assert response.status_code == 403, response.text
    assert await snapshot(connection) == before


READ_ROUTES = sorted(
    route
    for route in PROBES
    if route[0] == "GET" and "{" in route[1] and route not in ADMIN_ONLY_READS
)


@pytest.mark.parametrize("role", USER_ROLES, ids=str)
async def test_every_role_may_read_what_it_sees(app: FastAPI, world: World, role: Role) -> None:
    """The control for the 403s above: reads are for every user role, on a record it may see,
    but for the admins' own (the API keys). (Integrations read by scope: the scope matrix.)"""
    reads = {r for r in routes_with_ids(app) if r[0] == "GET"}
    assert set(READ_ROUTES) == reads - ADMIN_ONLY_READS
    for method, path in READ_ROUTES:
        actor = world.as_role(role)
        response = await PROBES[(method, path)].send(actor, method, path, world.victim_ids)
        assert response.status_code == 200, f"{role} {method} {path}: {response.text}"


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Put the phone in the kitchen"},
        {"status": "done", "title": "Put the phone in the kitchen"},
        {"position": 0},
        {"description": "Any description"},
    ],
    ids=["title", "status-and-title", "position", "description"],
)
async def test_client_may_change_only_a_steps_status(
    world: World, connection: AsyncConnection, change: dict[str, Any]
) -> None:
    before = await snapshot(connection)
    response = await world.client_user.patch(f"/v1/steps/{world.step['id']}", json=change)
    assert response.status_code == 403, response.text
    assert response.json()["type"].endswith(":forbidden")
    assert await snapshot(connection) == before


async def test_client_may_not_retract_what_a_clinician_recorded(
    world: World, connection: AsyncConnection
) -> None:
    recorded = await world.clinician.post(
        f"/v1/goals/{world.proposal['id']}/progress-events", json=progress_note()
    )
    assert recorded.status_code == 201, recorded.text
    before = await snapshot(connection)
    response = await world.client_user.post(
        f"/v1/progress-events/{recorded.json()['id']}/retract", json={"reason": "Not true"}
    )
    assert response.status_code == 403, response.text
    assert response.json()["type"].endswith(":forbidden")
    assert await snapshot(connection) == before


# ---------------------------------------------------------------------------------------------
# 4. Mass assignment (item 5)
# ---------------------------------------------------------------------------------------------

SERVER_OWNED = {
    "id": "0190c4de-7f3a-7a4b-9e1c-0a1b2c3d4e5f",
    "org_id": "org-b",
    "client_id": "0190c4de-7f3a-7a4b-9e1c-0a1b2c3d4e60",
    "created_by": "mallory",
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2020-01-01T00:00:00Z",
    "deleted_at": "2020-01-01T00:00:00Z",
    "version": 99,
    "lifecycle_status": "active",
    "status": "active",
    "status_changed_at": "2020-01-01T00:00:00Z",
    "smart": {"score": 5, "passed": True},
    "goal_id": "0190c4de-7f3a-7a4b-9e1c-0a1b2c3d4e61",
    "completed_at": "2020-01-01T00:00:00Z",
    "source": "integration",
    "recorded_by": "mallory",
    "recorded_at": "2020-01-01T00:00:00Z",
    "session_outcome_id": "0190c4de-7f3a-7a4b-9e1c-0a1b2c3d4e62",
    "retracted_at": "2020-01-01T00:00:00Z",
    "retracted_by": "mallory",
    "retraction_reason": "Mallory says so",
    # API keys: the key and its hash are the server's to make; usage and revocation its to track.
    "key": "tgk_" + "A" * 38,
    "secret_hash": "0" * 64,
    "key_prefix": "tgk_AAAAAA",
    "last_used_at": "2020-01-01T00:00:00Z",
    "revoked_at": "2020-01-01T00:00:00Z",
    "revoked_by": "mallory",
    # Session outcomes: who sent it, what it created, and the replay fingerprint are the server's.
    "progress_event_ids": ["0190c4de-7f3a-7a4b-9e1c-0a1b2c3d4e63"],
    "submitted_by": "api-key:0190c4de-7f3a-7a4b-9e1c-0a1b2c3d4e64",
    "request_hash": "0" * 64,
}
WRITE_ROUTES: list[RouteKey] = [
    ("POST", "/v1/clients"),
    ("PATCH", "/v1/clients/{client_id}"),
    ("POST", "/v1/clients/{client_id}/goals"),
    ("PATCH", "/v1/goals/{goal_id}"),
    ("POST", "/v1/goals/{goal_id}/transition"),
    ("POST", "/v1/goals/{goal_id}/steps"),
    ("PATCH", "/v1/steps/{step_id}"),
    ("POST", "/v1/goals/{goal_id}/progress-events"),
    ("POST", "/v1/progress-events/{event_id}/retract"),
    SESSION_OUTCOMES,
    ("POST", "/v1/api-keys"),
]
# Names in SERVER_OWNED that a route's body legitimately carries.
LEGITIMATE: dict[RouteKey, frozenset[str]] = {
    ("PATCH", "/v1/steps/{step_id}"): frozenset({"status"}),  # ticking a step off
    SESSION_OUTCOMES: frozenset({"client_id"}),  # whom the session was with
}
MASS_ASSIGNMENT_CELLS = [
    (route, name)
    for route in WRITE_ROUTES
    for name in SERVER_OWNED
    if name not in LEGITIMATE.get(route, frozenset())
]


def test_mass_assignment_covers_every_write_route() -> None:
    with_body = {r for r in MAY_CALL if PROBES[r].json(random_ids()) is not None}
    assert set(WRITE_ROUTES) == with_body - {("POST", "/v1/goals/validate")}  # saves nothing
    assert {route for route, _ in MASS_ASSIGNMENT_CELLS} == set(WRITE_ROUTES)
    assert len(MASS_ASSIGNMENT_CELLS) == 11 * 30 - 2


@pytest.mark.parametrize(
    ("route", "name"),
    MASS_ASSIGNMENT_CELLS,
    ids=[f"{m} {p} {name}" for (m, p), name in MASS_ASSIGNMENT_CELLS],
)
async def test_server_owned_fields_in_a_body_are_rejected_and_not_stored(
    world: World, connection: AsyncConnection, route: RouteKey, name: str
) -> None:
    method, path = route
    probe = PROBES[route]
    original = probe.json(world.victim_ids)
    assert original is not None
    body = {**original, name: SERVER_OWNED[name]}
    before = await snapshot(connection)
    response = await world.admin.request(method, probe.url(path, world.victim_ids), json=body)
    assert response.status_code == 422, response.text
    assert {"loc": ["body", name], "type": "extra_forbidden"} in [
        {"loc": e["loc"], "type": e["type"]} for e in response.json()["errors"]
    ]
    assert await snapshot(connection) == before


OUTCOME_ITEM_CELLS = sorted(set(SERVER_OWNED) - {"goal_id"})  # an item names its goal


@pytest.mark.parametrize("name", OUTCOME_ITEM_CELLS)
async def test_server_owned_fields_in_a_session_outcome_goal_are_rejected_and_not_stored(
    world: World, connection: AsyncConnection, name: str
) -> None:
    """The integration's own writes: each goal item is a progress event in the making, so its
    `source`, `recorded_by`, `session_outcome_id`... are the server's too."""
    assert len(OUTCOME_ITEM_CELLS) == 29
    body = session_outcome(world.victim_ids)
    body["goals"][0][name] = SERVER_OWNED[name]
    before = await snapshot(connection)
    response = await world.integration.post("/v1/session-outcomes", json=body)
    assert response.status_code == 422, response.text
    assert {"loc": ["body", "goals", 0, name], "type": "extra_forbidden"} in [
        {"loc": e["loc"], "type": e["type"]} for e in response.json()["errors"]
    ]
    assert await snapshot(connection) == before


# ---------------------------------------------------------------------------------------------
# 5. Excessive exposure (item 6)
# ---------------------------------------------------------------------------------------------


async def test_a_client_sees_exactly_the_documented_fields(world: World) -> None:
    robin = world.client_user
    client_id, proposal_id = world.victim["id"], world.proposal["id"]
    checked = 0

    response = await robin.get(f"/v1/clients/{client_id}")
    assert response.status_code == 200, response.text
    assert_exact_fields(response.json(), ClientRead, "GET client")
    checked += 1
    for item in page_of(await robin.get("/v1/clients"), "GET clients"):
        assert_exact_fields(item, ClientRead, "GET clients item")
        checked += 1

    for goal_id in (proposal_id, world.clinician_goal["id"]):
        response = await robin.get(f"/v1/goals/{goal_id}")
        assert response.status_code == 200, response.text
        assert_goal_shape(response.json(), "GET goal")
        checked += 1
    for url in ("/v1/goals", f"/v1/clients/{client_id}/goals"):
        for item in page_of(await robin.get(url), f"GET {url}"):
            assert_goal_shape(item, f"GET {url} item")
            checked += 1
    created = await robin.post(f"/v1/clients/{client_id}/goals", json=smart_goal())
    assert created.status_code == 201, created.text
    assert_goal_shape(created.json(), "POST goal")
    patched = await robin.patch(f"/v1/goals/{proposal_id}", json={"priority": "low"})
    assert patched.status_code == 200, patched.text
    assert_goal_shape(patched.json(), "PATCH goal")
    checked += 2

    team = await robin.get(f"/v1/clients/{client_id}/care-team")
    assert team.status_code == 200, team.text
    assert_exact_fields(team.json(), CareTeam, "GET care-team")
    for member in team.json()["members"]:
        assert_exact_fields(member, CareTeamMemberRead, "care-team member")
    checked += 1
    for revision in page_of(await robin.get(f"/v1/goals/{proposal_id}/revisions"), "revisions"):
        assert_exact_fields(revision, RevisionRead, "revision")
        for change in revision["changes"]:
            assert_exact_fields(change, FieldChange, "revision change")
        checked += 1

    # The action plan: robin reads it and ticks a step off.
    step_id = world.step["id"]
    response = await robin.get(f"/v1/steps/{step_id}")
    assert response.status_code == 200, response.text
    assert_step_shape(response.json(), "GET step")
    checked += 1
    for item in page_of(await robin.get(f"/v1/goals/{proposal_id}/steps"), "GET steps"):
        assert_step_shape(item, "GET steps item")
        checked += 1
    patched = await robin.patch(f"/v1/steps/{step_id}", json={"status": "done"})
    assert patched.status_code == 200, patched.text
    assert_step_shape(patched.json(), "PATCH step")
    checked += 1

    # Progress: robin records two measurements (so there is a trend), reads and retracts.
    events_url = f"/v1/goals/{proposal_id}/progress-events"
    for days_ago, value in ((3, 2), (1, 3)):
        occurred_at = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
        body = {"kind": "measurement", "value": value, "occurred_at": occurred_at}
        recorded = await robin.post(events_url, json=body)
        assert recorded.status_code == 201, recorded.text
        assert_exact_fields(recorded.json(), EventRead, "POST progress event")
        checked += 1
    response = await robin.get(f"/v1/progress-events/{world.event['id']}")
    assert response.status_code == 200, response.text
    assert_exact_fields(response.json(), EventRead, "GET progress event")
    checked += 1
    retracted = await robin.post(
        f"/v1/progress-events/{world.event['id']}/retract", json={"reason": "Wrong goal"}
    )
    assert retracted.status_code == 200, retracted.text
    assert_exact_fields(retracted.json(), EventRead, "POST retract")
    checked += 1
    events = page_of(await robin.get(events_url), "GET progress events")
    assert len(events) >= 4  # the note, the step completion, two measurements
    for item in events:
        assert_exact_fields(item, EventRead, "GET progress events item")
        checked += 1

    response = await robin.get(f"/v1/goals/{proposal_id}/progress")
    assert response.status_code == 200, response.text
    progress = response.json()
    assert_progress_shape(progress, GoalProgress, "GET progress")
    assert progress["trend"] is not None, "the trend's shape went unchecked"
    assert progress["habits"], "the habits' shape went unchecked"
    checked += 1
    response = await robin.get(f"/v1/clients/{client_id}/summary")
    assert response.status_code == 200, response.text
    summary = response.json()
    assert_exact_fields(summary, ClientSummary, "GET client summary")
    assert summary["goals"], "the summary lists no goal, so its items went unchecked"
    for item in summary["goals"]:
        assert_exact_fields(item, ClientGoalProgress, "client summary goal")
        assert_progress_shape(item["progress"], ProgressSummary, "client summary goal.progress")
        checked += 1

    assert checked >= 12 + 16


async def test_api_keys_show_exactly_the_documented_fields_and_never_the_secret(
    world: World, connection: AsyncConnection
) -> None:
    created = await world.admin.post("/v1/api-keys", json=new_api_key())
    assert created.status_code == 201, created.text
    assert_exact_fields(created.json(), ApiKeyCreated, "POST api key")
    key = created.json()["key"]
    assert key.startswith("tgk_")

    listing = await world.admin.get("/v1/api-keys")
    items = page_of(listing, "GET api-keys")
    assert {created.json()["id"], world.api_key["id"]} <= {k["id"] for k in items}
    for item in items:
        assert_exact_fields(item, ApiKeyRead, "GET api-keys item")
        assert not {"key", "secret_hash"} & set(item)
    stored_hash = await connection.scalar(
        text("SELECT secret_hash FROM api_keys WHERE id = :id"), {"id": created.json()["id"]}
    )
    assert stored_hash, "no hash stored, so the check below proves nothing"
    for secret in (key, key[4:], world.api_key["key"], world.api_key["key"][4:], stored_hash):
        assert secret not in listing.text
    assert_exact_fields(world.api_key, ApiKeyCreated, "POST api key (the world's)")


async def test_session_outcomes_show_exactly_the_documented_fields(world: World) -> None:
    body = session_outcome(world.victim_ids)
    posted = await world.integration.post("/v1/session-outcomes", json=body)
    assert posted.status_code == 201, posted.text
    assert_outcome_shape(posted.json(), "POST session outcome")
    replayed = await world.integration.post("/v1/session-outcomes", json=body)
    assert replayed.status_code == 200, replayed.text
    assert_outcome_shape(replayed.json(), "POST session outcome (replayed)")
    assert_outcome_shape(world.outcome, "POST session outcome (the world's)")

    checked = 3
    for actor in (world.integration, world.admin, world.clinician, world.client_user):
        for outcome_id in (posted.json()["id"], world.outcome["id"]):
            response = await actor.get(f"/v1/session-outcomes/{outcome_id}")
            assert response.status_code == 200, f"{actor.role}: {response.text}"
            assert_outcome_shape(response.json(), f"GET session outcome as {actor.role}")
            checked += 1
    assert checked == 3 + 4 * 2
