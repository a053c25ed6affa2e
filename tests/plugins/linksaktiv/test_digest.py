"""The weekly digest of new calls to action (issue #27, item 2): only the activists a call is
for get it, at most one mail a week, never the same call twice, a one-click unsubscribe
through core consent, and a crash anywhere sends nothing twice. Real SMTP (aiosmtpd)."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from core import db
from core.api import utcnow
from core.context import set_runtime
from plugins.linksaktiv import digest
from plugins.linksaktiv.calls import create_call
from plugins.linksaktiv.schemas import CallToActionIn
from tests.plugins.linksaktiv.conftest import run_jobs
from tests.plugins.linksaktiv.test_activist_pages import make_activist


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url}


@pytest.fixture(autouse=True)
def _runtime(app, client) -> None:
    set_runtime(app.state.orga)


async def _call(org: dict, title: str, topics: list[str], regions: list[int] = ()) -> int:
    data = msgspec.convert(
        {
            "title": title,
            "kind": "offline",
            "starts_at": (utcnow() - timedelta(days=1)).isoformat(),
            "topics": topics,
            "regions": list(regions),
        },
        CallToActionIn,
    )
    return await create_call(org["id"], data)


def _recipients(smtp_sink) -> list[str]:
    return sorted(rcpt for _sender, rcpts in smtp_sink.envelopes for rcpt in rcpts)


async def _run(app, now=None) -> int:
    count = await digest.enqueue_digest(now)
    await run_jobs(app)
    return count


async def test_only_the_matching_activists_get_the_calls_in_one_mail(
    app, client, factory, party, smtp_sink
):
    await make_activist(factory, party.leipzig, "Rosa", topics=("rent", "care"))
    await make_activist(factory, party.leipzig, "Karl", topics=("peace",))
    await make_activist(factory, party.dresden, "August", topics=("rent",))
    await make_activist(factory, party.leipzig, "Clara", status="pending", topics=("rent",))
    await make_activist(factory, party.leipzig, "Nomail", topics=("rent",), email=None)
    await _call(party.state, "Mietendeckel", ["rent"], [party.leipzig["id"]])
    await _call(party.leipzig, "Pflegestreik", ["care"])
    assert await _run(app) == 1
    assert _recipients(smtp_sink) == ["rosa@example.org"]
    mail = smtp_sink.messages[0]
    text = mail.get_body(("plain",)).get_content()
    assert "Mietendeckel" in text and "Pflegestreik" in text
    assert mail["List-Unsubscribe"].startswith("<http") and "/p/linksaktiv/digest/" in text
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    sent = await db.fetch("SELECT call_id, mailed_at FROM linksaktiv_digest_item")
    assert len(sent) == 2 and all(r["mailed_at"] is not None for r in sent)


async def test_at_most_one_mail_a_week_and_never_a_call_twice(
    app, client, factory, party, smtp_sink
):
    await make_activist(factory, party.leipzig, "Rosa", topics=("rent",))
    await _call(party.leipzig, "Erster Aufruf", ["rent"])
    now = utcnow()
    assert await _run(app, now) == 1
    await _call(party.leipzig, "Zweiter Aufruf", ["rent"])
    assert await _run(app, now + timedelta(seconds=1)) == 0  # the same week: nothing more
    assert len(smtp_sink.raw) == 1
    assert await _run(app, now + timedelta(days=7)) == 1  # next week: only the new call
    assert len(smtp_sink.raw) == 2
    text = smtp_sink.messages[1].get_body(("plain",)).get_content()
    assert "Zweiter Aufruf" in text and "Erster Aufruf" not in text
    assert await _run(app, now + timedelta(days=14)) == 0  # nothing new: no mail at all
    assert len(smtp_sink.raw) == 2


async def test_one_click_unsubscribe_withdraws_the_digest_consent(
    app, client, factory, party, smtp_sink
):
    rosa = await make_activist(factory, party.leipzig, "Rosa", topics=("rent",))
    await _call(party.leipzig, "Erster Aufruf", ["rent"])
    now = utcnow()
    await _run(app, now)
    link = smtp_sink.messages[0]["List-Unsubscribe"].strip("<>")
    path = link.split("://", 1)[1].split("/", 1)[1]
    shown = await client.get(f"/{path}")
    assert shown.status_code == 200 and "<form" in shown.text
    assert await db.fetch("SELECT id FROM consent_event WHERE purpose = 'linksaktiv_digest'") == []
    broken = await client.post(f"/{path}x", data={"List-Unsubscribe": "One-Click"})
    assert broken.status_code == 404
    done = await client.post(f"/{path}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    withdrawn = await db.fetch(
        "SELECT status, source FROM consent_event WHERE person_id = {} "
        "AND purpose = 'linksaktiv_digest'",
        rosa["id"],
    )
    assert withdrawn == [{"status": "withdrawn", "source": "linksaktiv-one-click"}]
    await _call(party.leipzig, "Zweiter Aufruf", ["rent"])
    assert await _run(app, now + timedelta(days=7)) == 0
    assert len(smtp_sink.raw) == 1
    status = await db.fetch_one(
        "SELECT status FROM linksaktiv_activist WHERE person_id = {}", rosa["id"]
    )
    assert status["status"] == "confirmed"  # still in the network, only off the digest


async def test_a_crash_anywhere_sends_nothing_twice(app, client, factory, party, smtp_sink):
    people = [
        await make_activist(factory, party.leipzig, name, topics=("rent",))
        for name in ("Anna", "Berta", "Carla")
    ]
    await _call(party.leipzig, "Aufruf", ["rent"])
    now = utcnow()

    class Crash(Exception):
        pass

    with pytest.raises(Crash):  # the pick dies before it commits: nothing is kept
        async with db.transaction():
            await digest.enqueue_digest(now)
            raise Crash
    assert await db.fetch("SELECT id FROM linksaktiv_digest_item") == []
    assert await digest.enqueue_digest(now) == 3
    assert await digest.enqueue_digest(now + timedelta(seconds=5)) == 0  # run again: nothing
    [job] = await db.fetch("SELECT payload FROM job WHERE kind = 'linksaktiv.digest_send'")
    payload = db.json_value(job["payload"])
    mailer = app.state.orga.mailer
    original = mailer.send
    calls = 0

    async def dies_at_the_second(**kwargs):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Crash
        return await original(**kwargs)

    mailer.send = dies_at_the_second
    try:
        with pytest.raises(Crash):
            await digest.send_digests(payload)
    finally:
        mailer.send = original
    await digest.send_digests(payload)  # the job again, after the crash
    await digest.send_digests(payload)  # and once more, as if its lease ran out late
    await run_jobs(app)
    assert _recipients(smtp_sink) == sorted(p["email"] for p in people)


async def test_publishing_schedules_the_weekly_run_which_schedules_the_next(
    app, client, factory, party, smtp_sink
):
    await make_activist(factory, party.leipzig, "Rosa", topics=("rent",))
    await _call(party.leipzig, "Aufruf", ["rent"])
    [job] = await db.fetch("SELECT id, run_at FROM job WHERE kind = 'linksaktiv.digest'")
    run_at = job["run_at"]
    if isinstance(run_at, str):
        from datetime import datetime

        run_at = datetime.fromisoformat(run_at)
    assert utcnow() < run_at <= utcnow() + timedelta(days=7)
    await digest.run_digest({})
    runs = await db.fetch("SELECT id FROM job WHERE kind = 'linksaktiv.digest'")
    assert len(runs) == 1  # the same slot: the next run was queued already
    await run_jobs(app)
    assert _recipients(smtp_sink) == ["rosa@example.org"]
