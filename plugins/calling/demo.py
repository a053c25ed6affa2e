"""Demo content of the calling module: an open assignment with a survey, callers on its roster."""

from __future__ import annotations

from datetime import timedelta

from core.api import Demo, db, utcnow
from plugins.calling.assignments import create_assignment, goal_segment
from plugins.calling.queue import reserve
from plugins.calling.report import report_call
from plugins.calling.roster import assignment_and_caller, my_call, set_caller
from plugins.calling.schemas import AssignmentIn, CallerIn, CallReport, Question
from plugins.calling.views import survey_of

__all__ = ["demo_content"]

_SURVEY = [
    Question(
        key="coming",
        text="Kommst du zur Mitgliederversammlung am Samstag?",
        kind="choice",
        options=["Ja", "Vielleicht", "Nein"],
    ),
    Question(
        key="help",
        text="Wobei möchtest du im Wahlkampf helfen?",
        kind="choice",
        options=["Infostand", "Haustürgespräche", "Telefonieren", "Plakatieren"],
        multiple=True,
    ),
    Question(key="topic", text="Was ist dir gerade politisch am wichtigsten?"),
]
_CALLERS = ("Leipzig", "Neukölln", "Potsdam")
_CALLS = 30  # made by the callers in turn, so the assignment shows progress
_OUTCOMES = ["reached"] * 6 + ["no_answer", "no_answer", "voicemail", "busy"]
_ACTIONS = (
    "Möchte bei der Wahlkampfplanung mitmachen, bitte zurückrufen",
    "Hat Fragen zum Mitgliedsbeitrag",
    "Bietet ihren Laden als Ort für einen Infostand an",
)


async def demo_content(demo: Demo) -> list[str]:
    """An assignment of the federal unit calling every member with a number (open for four
    weeks), a caller in three districts and the demo's admin on its roster."""
    title = "Mitglieder zur Mitgliederversammlung einladen"
    row = await create_assignment(
        demo.federal["id"],
        demo.federal["path"],
        AssignmentIn(
            title=title,
            target={
                "filters": [
                    {"type": "member_status", "statuses": ["member"]},
                    {"type": "has_phone", "op": "and"},
                ]
            },
            description="Wir laden alle Mitglieder persönlich zur Mitgliederversammlung ein.",
            instructions=(
                "Stell dich mit Vornamen vor, sag, dass du ehrenamtlich für den Verband anrufst, "
                "und frag, ob jetzt ein guter Moment ist. Lade zur Versammlung ein und notiere "
                "die Antworten."
            ),
            start_at=demo.now - timedelta(days=1),
            end_at=demo.now + timedelta(days=28),
            survey=_SURVEY,
            show_earlier_notes=True,
        ),
    )
    callers = []
    for number, district in enumerate(_CALLERS, start=1):
        user_id = await demo.add_user(
            f"anrufer{number}@demo.orga.invalid",
            demo.fake.name(),
            demo.district(district)["id"],
            "caller",
            f"calls for '{title}' (GET /api/me/calling)",
        )
        await set_caller(demo.federal["id"], row["id"], CallerIn(user_id=user_id))
        callers.append((user_id, demo.district(district)))
    made = await _calls(demo, row["id"], callers)
    # the demo's admin may call too, so the console's call screen can be tried at once
    await set_caller(demo.federal["id"], row["id"], CallerIn(user_id=demo.admin_id))
    queued = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM calling_target WHERE assignment_id = {} AND state = 'open'",
        row["id"],
    )
    return [
        f"calling: '{title}' is open with {queued['n']} members still to call, 3 callers "
        "(and the admin) and "
        f"{made} calls made"
    ]


async def _calls(demo: Demo, assignment_id: int, callers: list[tuple[int, dict]]) -> int:
    """The callers take turns: reserve the next person and report how it went, as the call
    screen does (survey answers, now and then a follow-up for the organizers)."""
    made, now = 0, utcnow()  # the queue's targets became available just now, after demo.now
    for number in range(_CALLS):
        user_id, unit = callers[number % len(callers)]
        assignment, caller = await assignment_and_caller(assignment_id, unit["path"], user_id)
        reservation = await reserve(
            assignment, unit["path"], caller, now, audit=(user_id, None, unit["id"])
        )
        if reservation is None:
            break
        call, full = await my_call(reservation.call_id, unit["path"], user_id)
        outcome = demo.rng.choice(_OUTCOMES)
        reached = outcome == "reached"
        report = CallReport(
            outcome=outcome,  # type: ignore[arg-type]
            notes="Freundliches Gespräch" if reached else None,
            answers=(
                {
                    "coming": demo.rng.choice(["Ja", "Ja", "Vielleicht", "Nein"]),
                    "help": demo.rng.sample(["Infostand", "Haustürgespräche", "Plakatieren"], 1),
                }
                if reached
                else {}
            ),
            wants_local_contact=reached and number % 4 == 1,
            organizer_action=_ACTIONS[number // 7 % len(_ACTIONS)]
            if reached and number % 7 == 3
            else None,
        )
        await report_call(
            call, full, survey_of(full), goal_segment(full) is None, report, user_id, now
        )
        made += 1
    return made
