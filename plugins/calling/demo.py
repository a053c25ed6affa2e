"""Demo content of the calling module: an open assignment with a survey, callers on its roster."""

from __future__ import annotations

from datetime import timedelta

from core.api import Demo, db
from plugins.calling.assignments import create_assignment
from plugins.calling.roster import set_caller
from plugins.calling.schemas import AssignmentIn, CallerIn, Question

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


async def demo_content(demo: Demo) -> list[str]:
    """An assignment of the federal unit calling every member with a number (open for four
    weeks), and a caller in three districts on its roster."""
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
    for number, district in enumerate(_CALLERS, start=1):
        user_id = await demo.add_user(
            f"anrufer{number}@demo.orga.invalid",
            demo.fake.name(),
            demo.district(district)["id"],
            "caller",
            f"calls for '{title}' (GET /api/me/calling)",
        )
        await set_caller(row["id"], CallerIn(user_id=user_id))
    queued = await db.fetch_one(
        "SELECT COUNT(*) AS n FROM calling_target WHERE assignment_id = {} AND state = 'open'",
        row["id"],
    )
    return [f"calling: '{title}' is open with {queued['n']} members to call and 3 callers"]
