"""One bad recipient never blocks or repeats the others: what goes wrong is recorded on its
row, the chunk goes on, and a job that keeps failing shows in ``GET /api/jobs``.

Each mailing here is one send job of 25 recipients with the odd one in the middle.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from core import db
from core.mail.transport import Transport
from core.tables import utcnow
from plugins.mailings.sending import CHUNK, RECIPIENT_ATTEMPTS
from tests.plugins.mailings.conftest import add_people, draft, drain, grant

JOERG = "jörg.müller@example.org"


@pytest.fixture
def sink(request):
    """``smtp_sink`` unless the test's parameter names ``smtp_sink_ascii``."""
    return request.getfixturevalue(getattr(request, "param", "smtp_sink"))


@pytest.fixture
def orga_overrides(sink):
    return {"smtp_url": sink.url, "smtp_pool_size": 8}


async def send_with(client, unit, factory, odd_address: str) -> int:
    """A mailing to 12 people, one with ``odd_address``, and 12 more; sent. Its id."""
    await add_people(unit["org"]["id"], 12)
    odd = await factory.person(unit["org"]["id"], first_name="Odd", email=odd_address)
    await grant([odd["id"]])
    await add_people(unit["org"]["id"], 12, start=12)
    created = await client.post(
        unit["base"] + "/", json=draft(unit["org"]["id"]), headers=unit["admin"].headers
    )
    mailing_id = created.json()["id"]
    sent = await client.post(
        f"{unit['base']}/{mailing_id}/send",
        json={"confirm": True},
        headers=unit["admin"].headers,
    )
    assert sent.status_code == 202 and sent.json()["stats"]["queued"] == CHUNK
    return mailing_id


async def stats(client, unit, mailing_id: int) -> dict:
    mailing = await client.get(f"{unit['base']}/{mailing_id}", headers=unit["admin"].headers)
    return mailing.json()["state"], mailing.json()["stats"]


async def undelivered(client, unit, mailing_id: int) -> list[dict]:
    response = await client.get(
        f"{unit['base']}/{mailing_id}/undelivered", headers=unit["admin"].headers
    )
    assert response.status_code == 200
    return response.json()["items"]


def per_recipient(sink) -> Counter:
    return Counter(rcpts[0] for _, rcpts in sink.envelopes)


async def test_an_internationalized_recipient_gets_the_mailing(client, unit, app, factory, sink):
    mailing_id = await send_with(client, unit, factory, JOERG)
    await drain(app)
    received = per_recipient(sink)
    assert len(received) == CHUNK and set(received.values()) == {1}
    assert received[JOERG] == 1
    state, numbers = await stats(client, unit, mailing_id)
    assert state == "sent" and numbers["delivered"] == CHUNK


@pytest.mark.parametrize("sink", ["smtp_sink_ascii"], indirect=True)
async def test_without_smtputf8_the_one_recipient_fails_and_the_rest_is_sent(
    client, unit, app, factory, sink
):
    mailing_id = await send_with(client, unit, factory, JOERG)
    await drain(app)
    received = per_recipient(sink)
    assert len(received) == CHUNK - 1 and set(received.values()) == {1}
    state, numbers = await stats(client, unit, mailing_id)
    assert state == "sent"
    assert (numbers["delivered"], numbers["failed"], numbers["bounced"]) == (CHUNK - 1, 1, 0)
    [failed] = await undelivered(client, unit, mailing_id)
    assert (failed["email"], failed["state"]) == (JOERG, "failed")
    assert "SMTPUTF8" in failed["error"]
    assert await db.fetch("SELECT status FROM job") == [{"status": "done"}]  # nothing retried


async def test_a_deferred_recipient_is_tried_alone_until_it_fails(client, unit, app, factory, sink):
    mailing_id = await send_with(client, unit, factory, "tempfail@example.org")
    root_admin = await factory.user("admin", unit["org"]["id"])
    await drain(app)
    assert len(per_recipient(sink)) == CHUNK - 1
    state, numbers = await stats(client, unit, mailing_id)
    assert state == "sending" and (numbers["delivered"], numbers["deferred"]) == (CHUNK - 1, 1)
    [deferred] = await undelivered(client, unit, mailing_id)
    assert (deferred["state"], deferred["attempts"]) == ("queued", 1)
    assert deferred["error"].startswith("451")
    overview = (await client.get("/api/jobs", headers=root_admin.headers)).json()
    [retrying] = overview["retrying"]
    assert (
        retrying["kind"] == "mailings.send" and "1 recipient(s) deferred" in retrying["last_error"]
    )
    for _ in range(RECIPIENT_ATTEMPTS - 1):
        await db.execute("UPDATE job SET run_at = {}", utcnow() - timedelta(seconds=1))
        await drain(app)
    received = per_recipient(sink)
    assert len(received) == CHUNK - 1 and set(received.values()) == {1}  # nobody got it twice
    state, numbers = await stats(client, unit, mailing_id)
    assert state == "sent" and (numbers["failed"], numbers["deferred"]) == (1, 0)
    [failed] = await undelivered(client, unit, mailing_id)
    assert (failed["state"], failed["attempts"]) == ("failed", RECIPIENT_ATTEMPTS)
    assert await db.fetch("SELECT status FROM job") == [{"status": "done"}]


class FailsFor(Transport):
    """The real transport, but sending to ``address`` raises an unexpected error."""

    def __init__(self, real: Transport, address: str) -> None:
        self.real = real
        self.address = address

    async def send(
        self, sender: str, recipient: str, message: bytes, *, person_id: int | None = None
    ) -> None:
        """Raise for the one address, deliver the others."""
        if recipient == self.address:
            raise RuntimeError("something nobody foresaw")
        await self.real.send(sender, recipient, message, person_id=person_id)


async def test_an_unforeseen_error_for_one_recipient_does_not_stop_the_others(
    client, unit, app, factory, sink
):
    mailing_id = await send_with(client, unit, factory, "odd@example.org")
    mailer = app.state.orga.mailer
    mailer.transport = FailsFor(mailer.transport, "odd@example.org")
    await drain(app)
    received = per_recipient(sink)
    assert len(received) == CHUNK - 1 and set(received.values()) == {1}
    [deferred] = await undelivered(client, unit, mailing_id)
    assert deferred["error"] == "RuntimeError: something nobody foresaw"
    assert deferred["attempts"] == 1
