"""The crash window of a send, and the Message-IDs and List-Id of a mailing.

SMTP cannot promise exactly-once: a process that dies after the server's 250 and before the
bookkeeping sends that mail again. Each recipient is recorded right after its own 250, so the
window is the one mail in flight per running job, and the repeat carries the same
Message-ID (receivers drop it). Message-IDs carry the mailing's random ``send_key``, so a
copy restored from a backup, or a staging deployment on the same domain, never reuses one.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest

from core import db
from core.jobs import services as jobs
from core.mail.transport import Transport
from core.tables import utcnow
from plugins.mailings.sending import CHUNK
from tests.plugins.mailings.conftest import add_people, draft, drain


class Crash(BaseException):
    """The process dies: nothing in the job catches this."""


class CrashAfter(Transport):
    """The real transport; the mail after the first ``accepted`` ones is accepted by the
    server, and then the process dies before anything is recorded."""

    def __init__(self, real: Transport, accepted: int) -> None:
        self.real = real
        self.accepted = accepted
        self.sent = 0

    async def send(
        self, sender: str, recipient: str, message: bytes, *, person_id: int | None = None
    ) -> None:
        """Deliver, then die once ``accepted`` mails went through before this one."""
        await self.real.send(sender, recipient, message, person_id=person_id)
        self.sent += 1
        if self.sent > self.accepted:
            raise Crash


async def send(client, unit) -> int:
    """Create and send a mailing to the unit; its id."""
    created = await client.post(
        unit["base"] + "/", json=draft(unit["org"]["id"]), headers=unit["admin"].headers
    )
    sent = await client.post(
        f"{unit['base']}/{created.json()['id']}/send",
        json={"confirm": True},
        headers=unit["admin"].headers,
    )
    assert sent.status_code == 202
    return created.json()["id"]


def message_ids(smtp_sink) -> dict[str, list[str]]:
    """The Message-IDs each recipient received."""
    received: dict[str, list[str]] = defaultdict(list)
    for (_, rcpts), message in zip(smtp_sink.envelopes, smtp_sink.messages, strict=True):
        received[rcpts[0]].append(message["Message-ID"])
    return received


async def test_a_crash_after_n_accepted_mails_sends_none_of_them_again(
    client, unit, app, smtp_sink
):
    await add_people(unit["org"]["id"], CHUNK)
    await send(client, unit)
    runtime = app.state.orga
    real = runtime.mailer.transport
    runtime.mailer.transport = CrashAfter(real, accepted=10)
    [job] = await jobs.claim("doomed-worker", 1, ["mailings.send"])
    with pytest.raises(Crash):
        await runtime.job_handlers()["mailings.send"](job["payload"])
    runtime.mailer.transport = real
    assert len(smtp_sink.raw) == 11  # ten recorded, the eleventh accepted and not recorded
    first = [rcpts[0] for _, rcpts in smtp_sink.envelopes]
    await db.execute("UPDATE job SET lease_expires_at = {}", utcnow() - timedelta(seconds=1))
    await drain(app)  # another worker takes the dead one's job over
    received = message_ids(smtp_sink)
    assert len(received) == CHUNK
    assert all(len(received[address]) == 1 for address in first[:10])
    assert len(received[first[10]]) == 2  # the one in flight: the window SMTP leaves
    assert len(set(received[first[10]])) == 1  # with the same Message-ID
    assert sum(len(ids) for ids in received.values()) == CHUNK + 1
    states = await db.fetch("SELECT state, COUNT(*) AS n FROM mailings_recipient GROUP BY state")
    assert states == [{"state": "sent", "n": CHUNK}]


async def test_message_ids_are_new_in_a_restored_copy_and_mailings_carry_list_id(
    client, unit, app, smtp_sink
):
    await add_people(unit["org"]["id"], 3)
    mailing_id = await send(client, unit)
    await drain(app)
    before = {address: ids[0] for address, ids in message_ids(smtp_sink).items()}
    recipients = await db.fetch("SELECT id FROM mailings_recipient ORDER BY id")
    list_ids = {message["List-Id"] for message in smtp_sink.messages}
    assert list_ids == {f"KV Leipzig <org{unit['org']['id']}.mailings.example.org>"}
    # a copy restored from a backup taken before the send (or a staging deployment with the
    # same data): the same mailing and recipient ids come up again
    await db.execute("DELETE FROM mailings_recipient")
    await db.execute("DELETE FROM job")
    if db.is_postgres():
        await db.execute(
            "SELECT setval(pg_get_serial_sequence('mailings_recipient', 'id'), 1, false)"
        )
    await db.execute(
        "UPDATE mailings_mailing SET state = 'draft', started_at = NULL, finished_at = NULL "
        "WHERE id = {}",
        mailing_id,
    )
    smtp_sink.raw.clear()
    smtp_sink.envelopes.clear()
    sent = await client.post(
        f"{unit['base']}/{mailing_id}/send", json={"confirm": True}, headers=unit["admin"].headers
    )
    assert sent.status_code == 202
    await drain(app)
    assert await db.fetch("SELECT id FROM mailings_recipient ORDER BY id") == recipients
    after = {address: ids[0] for address, ids in message_ids(smtp_sink).items()}
    assert after.keys() == before.keys()
    assert set(after.values()).isdisjoint(before.values())
