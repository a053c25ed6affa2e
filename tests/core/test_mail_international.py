"""Internationalized addresses (RFC 6531/6532) through a real SMTP server and the maildir.

``jörg.müller@example.org`` has a local part without an ASCII form: it goes with SMTPUTF8
when the server offers it, and is failed alone, with the reason, when it does not.
``info@münchen.de`` only has an internationalized domain: it goes as its A-label anywhere.
"""

from __future__ import annotations

import mailbox

import pytest

from core import db
from core.jobs.worker import Worker
from core.mail.tables import MailSuppression
from core.templating import RenderedMail
from core.testing import parse_message

RENDERED = RenderedMail(subject="Grüße", text="Hallo!\n", html="<p>Hallo!</p>")
RECIPIENTS = [
    ("Jörg Müller", "jörg.müller@example.org"),
    ("Stadtteilbüro", "info@münchen.de"),
    ("Rosa", "rosa@example.org"),
]


@pytest.fixture
def sink(request):
    """``smtp_sink`` or ``smtp_sink_ascii``, as the test's parameter says."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def orga_overrides(sink):
    return {"smtp_url": sink.url, "mail_from": "Die Linke Kreisverband <kv@example.org>"}


async def send_all(app) -> None:
    """Enqueue one mail to each of RECIPIENTS, then run the jobs."""
    for name, address in RECIPIENTS:
        await app.state.orga.mailer.enqueue(to_email=address, to_name=name, rendered=RENDERED)
    await Worker(app.state.orga.job_handlers(), concurrency=4).drain()


@pytest.mark.parametrize("sink", ["smtp_sink"], indirect=True)
async def test_internationalized_addresses_go_with_smtputf8(client, app, sink):
    await send_all(app)
    received = {rcpts[0]: n for n, (_, rcpts) in enumerate(sink.envelopes)}
    assert set(received) == {
        "jörg.müller@example.org",
        "info@xn--mnchen-3ya.de",
        "rosa@example.org",
    }
    messages = sink.messages
    joerg = received["jörg.müller@example.org"]
    assert "SMTPUTF8" in sink.mail_options[joerg]
    [to] = messages[joerg]["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Jörg Müller", "jörg.müller@example.org")
    assert messages[joerg]["Subject"] == "Grüße"
    # an ASCII local part needs no SMTPUTF8: the domain goes as its A-label, the mail is ASCII
    muenchen = received["info@xn--mnchen-3ya.de"]
    assert "SMTPUTF8" not in sink.mail_options[muenchen]
    assert sink.raw[muenchen].isascii()
    assert messages[muenchen]["To"].addresses[0].addr_spec == "info@xn--mnchen-3ya.de"
    statuses = await db.fetch("SELECT status FROM job")
    assert [r["status"] for r in statuses] == ["done"] * 3


@pytest.mark.parametrize("sink", ["smtp_sink_ascii"], indirect=True)
async def test_without_smtputf8_only_that_recipient_fails_with_the_reason(client, app, sink):
    await send_all(app)
    assert sorted(rcpts[0] for _, rcpts in sink.envelopes) == [
        "info@xn--mnchen-3ya.de",
        "rosa@example.org",
    ]
    jobs = await db.fetch("SELECT status, attempts, last_error, payload FROM job ORDER BY id")
    joerg = jobs[0]
    assert (joerg["status"], joerg["attempts"]) == ("failed", 1)  # not retried: it cannot work
    assert "SMTPUTF8" in joerg["last_error"]
    assert [j["status"] for j in jobs[1:]] == ["done", "done"]
    # the address is fine, the server cannot carry it: it is not marked as bouncing
    assert not await MailSuppression.exists().run()


async def test_maildir_keeps_internationalized_mail(tmp_path, orga_database_url):
    from asgi_lifespan import LifespanManager

    from core.app import create_app
    from core.testing import _settings

    app = create_app(_settings(str(tmp_path / "var"), orga_database_url))
    async with LifespanManager(app):
        await send_all(app)
    box = mailbox.Maildir(tmp_path / "var" / "mail", create=False)
    parsed = [parse_message(box.get_bytes(key)) for key in box.keys()]
    received = sorted(message["To"].addresses[0].addr_spec for message in parsed)
    assert received == ["info@xn--mnchen-3ya.de", "jörg.müller@example.org", "rosa@example.org"]
