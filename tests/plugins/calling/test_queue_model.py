"""A hypothesis state machine drives the queue services (reserve, release, report, time
passing, consent withdrawn) against a small model and checks the queue's promises after every
step: nobody is called by two callers at once, nobody is handed out before their cooldown or
call-back time, done or opted-out people are never handed out, and "nothing left" is only
answered when every callable person has been set aside for a recorded reason. On PostgreSQL
"save and next" (a report stored by the reservation's own statement) is one of the steps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from core import db
from core.api import ConsentIn, Problem, record_consent
from core.context import set_runtime
from core.runtime import build_runtime
from plugins.calling.queue import release, reserve
from plugins.calling.report import PlainReport, report_call
from plugins.calling.schemas import CallReport

START = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
COOLDOWN = timedelta(hours=1)
HOLD = timedelta(minutes=15)
PEOPLE = 5


class World:
    """The database side: an event loop, a unit, people, two assignments and two callers."""

    def __init__(self, settings_) -> None:
        self.loop = asyncio.new_event_loop()
        self.runtime = build_runtime(settings_)
        set_runtime(self.runtime)
        self.run(db.open_engine(self.runtime.engine, pool_size=2))
        self.run(self._setup())

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    async def _setup(self) -> None:
        from core.orgs.services import create_unit
        from core.testing import OrgaFactory

        factory = OrgaFactory()
        self.org = await create_unit("Kreis", "district", None)
        self.people = [
            (await factory.person(self.org["id"], phones=[f"+4930555000{i}"]))["id"]
            for i in range(PEOPLE)
        ]
        self.callers = [(await factory.user("caller", self.org["id"])).id for _ in range(2)]

    async def reset(self) -> None:
        for table in ("calling_answer", "calling_lock", "calling_call", "calling_target"):
            await db.execute(f"DELETE FROM {table}")
        await db.execute("DELETE FROM calling_caller")
        await db.execute("DELETE FROM calling_assignment")
        await db.execute("DELETE FROM consent_event")
        self.assignments = []
        for title in ("A", "B"):
            rows = await db.fetch(
                "INSERT INTO calling_assignment (org_id, title, description, instructions, "
                "target, cooldown_hours, survey, show_earlier_notes, start_at, created_at, "
                "updated_at) VALUES ({}, {}, '', '', {}, 1, '[]', {}, {}, {}, {}) RETURNING *",
                self.org["id"],
                title,
                msgspec.json.encode(
                    {"filters": [{"type": "org", "org_id": self.org["id"]}]}
                ).decode(),
                False,
                START,
                START,
                START,
            )
            from plugins.calling.assignments import refresh_targets

            await refresh_targets(rows[0], self.org["path"], now=START)
            self.assignments.append(rows[0])
            for user_id in self.callers:
                await db.execute(
                    "INSERT INTO calling_caller (assignment_id, user_id, prioritized_tags, "
                    "excluded_tags, created_at, updated_at) VALUES ({}, {}, '[]', '[]', {}, {})",
                    rows[0]["id"],
                    user_id,
                    START,
                    START,
                )

    def close(self) -> None:
        self.run(db.close_engine(self.runtime.engine))
        self.loop.close()


@pytest.fixture
def world(orga_settings):
    world = World(orga_settings)
    yield world
    world.close()


def machine_for(world: World):
    class QueueMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            world.run(world.reset())
            self.now = START
            keys = [(a, p) for a in range(2) for p in world.people]
            self.available = dict.fromkeys(keys, START)
            self.done: set[tuple[int, int]] = set()
            self.opted_out: set[int] = set()
            self.current: dict[int, tuple[int, int, int, datetime]] = {}  # call → a, p, who, until

        def _live_holders(self, person: int) -> list[int]:
            return [
                c
                for c, (_, p, _, until) in self.current.items()
                if p == person and until > self.now
            ]

        @rule(who=st.integers(0, 1), a=st.integers(0, 1))
        def next_call(self, who: int, a: int) -> None:
            self._reserve(who, a)

        def _reserve(self, who: int, a: int, report: PlainReport | None = None) -> None:
            assignment = world.assignments[a]
            caller = {
                "user_id": world.callers[who],
                "prioritized_ids": [],
                "excluded_ids": [],
            }
            for call, (ca, p, cw, _) in list(self.current.items()):
                if ca == a and cw == who:  # asking for the next releases your call
                    del self.current[call]
                    self.available[(a, p)] = self.now
            audit = (world.callers[who], None, world.org["id"])
            got = world.run(
                reserve(assignment, world.org["path"], caller, self.now, audit=audit, report=report)
            )
            if got is None:
                self._check_nothing_left(a)
                return
            key = (a, got.person_id)
            assert key not in self.done, "a done person was handed out"
            assert got.person_id not in self.opted_out, "an opted-out person was handed out"
            assert self.available[key] <= self.now, "handed out before cooldown or call back"
            assert self._live_holders(got.person_id) == [], "two callers on one person"
            for call, (ca, p, _, _) in list(self.current.items()):
                if (ca, p) == key:
                    del self.current[call]  # an expired reservation was taken over
            self.current[got.call_id] = (a, got.person_id, who, self.now + HOLD)

        def _check_nothing_left(self, a: int) -> None:
            rows = world.run(
                db.fetch(
                    "SELECT person_id, available_at, blocked, state FROM calling_target "
                    "WHERE assignment_id = {}",
                    world.assignments[a]["id"],
                )
            )
            for row in rows:
                key = (a, row["person_id"])
                callable_ = (
                    key not in self.done
                    and row["person_id"] not in self.opted_out
                    and self.available[key] <= self.now
                    and not self._live_holders(row["person_id"])
                )
                if callable_:
                    assert row["blocked"] is not None, f"{key} was callable but not handed out"

        @precondition(lambda self: self.current)
        @rule(
            data=st.data(),
            outcome=st.sampled_from(["reached", "no_answer", "call_back", "do_not_call"]),
        )
        def report(self, data, outcome: str) -> None:
            call_id = data.draw(st.sampled_from(sorted(self.current)))
            call = world.run(db.fetch_one("SELECT * FROM calling_call WHERE id = {}", call_id))
            body = self._report_body(outcome)
            a = self.current[call_id][0]
            world.run(
                report_call(call, world.assignments[a], [], True, body, call["caller_id"], self.now)
            )
            self._reported(call_id, outcome)

        @precondition(lambda self: self.current and db.is_postgres())
        @rule(data=st.data(), outcome=st.sampled_from(["reached", "no_answer", "call_back"]))
        def save_and_next(self, data, outcome: str) -> None:
            """Report a call and reserve the caller's next in one statement (PostgreSQL)."""
            call_id = data.draw(st.sampled_from(sorted(self.current)))
            a, _, who, _ = self.current[call_id]
            body = self._report_body(outcome)
            user_id = world.callers[who]
            plain = PlainReport(call_id, world.org["path"], user_id, None, body, self.now)
            self._reported(call_id, outcome)
            self._reserve(who, a, plain)

        def _report_body(self, outcome: str) -> CallReport:
            back = self.now + timedelta(minutes=30)
            return CallReport(
                outcome=outcome, call_back_after=back if outcome == "call_back" else None
            )

        def _reported(self, call_id: int, outcome: str) -> None:
            a, person, _, _ = self.current.pop(call_id)
            if outcome == "reached":
                self.done.add((a, person))
            elif outcome == "do_not_call":
                self.done.add((a, person))
                self.opted_out.add(person)
            else:
                back = self.now + timedelta(minutes=30)
                self.available[(a, person)] = (
                    back if outcome == "call_back" else self.now + COOLDOWN
                )

        @rule(data=st.data())
        def report_a_lost_call(self, data) -> None:
            rows = world.run(
                db.fetch("SELECT * FROM calling_call WHERE state = 'reserved' ORDER BY id")
            )
            stale = [r for r in rows if r["id"] not in self.current]
            if not stale:
                return
            call = data.draw(st.sampled_from(stale))
            a = 0 if call["assignment_id"] == world.assignments[0]["id"] else 1
            with pytest.raises(Problem) as problem:
                world.run(
                    report_call(
                        call,
                        world.assignments[a],
                        [],
                        True,
                        CallReport(outcome="reached"),
                        call["caller_id"],
                        self.now,
                    )
                )
            assert problem.value.status == 409

        @precondition(lambda self: self.current)
        @rule(data=st.data())
        def skip(self, data) -> None:
            call_id = data.draw(st.sampled_from(sorted(self.current)))
            a, person, _, _ = self.current.pop(call_id)
            world.run(release(call_id, self.now))
            self.available[(a, person)] = self.now

        @rule(minutes=st.sampled_from([1, 10, 16, 31, 61]))
        def time_passes(self, minutes: int) -> None:
            self.now += timedelta(minutes=minutes)

        @rule(index=st.integers(0, PEOPLE - 1))
        def withdraw_phone_consent(self, index: int) -> None:
            person = world.people[index]
            entry = ConsentIn(channel="phone", status="withdrawn", source="test")
            world.run(record_consent(person, entry))
            self.opted_out.add(person)

        @invariant()
        def one_live_lock_per_person(self) -> None:
            rows = world.run(
                db.fetch(
                    "SELECT person_id, COUNT(*) AS n FROM calling_lock WHERE until > {} "
                    "GROUP BY person_id",
                    self.now,
                )
            )
            assert all(r["n"] == 1 for r in rows)
            for person in world.people:
                assert len(self._live_holders(person)) <= 1

    return QueueMachine


def test_queue_state_machine(world):
    machine = machine_for(world)
    machine.TestCase.settings = settings(
        max_examples=40,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    machine.TestCase().runTest()
