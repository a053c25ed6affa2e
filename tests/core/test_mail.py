"""Mail through a real SMTP server on loopback: MIME, encodings, bounces, retries, DKIM."""

from __future__ import annotations

import email.utils
from datetime import timedelta

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core import db
from core.jobs.worker import Worker
from core.mail.tables import MailSuppression
from core.tables import utcnow
from core.templating import RenderedMail

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url, "mail_from": "Die Linke Kreisverband <kv@example.org>"}


def runtime_of(app):
    return app.state.orga


async def drain(app) -> int:
    return await Worker(runtime_of(app).job_handlers(), concurrency=4).drain()


async def test_mail_arrives_with_both_parts_headers_and_umlauts(app, smtp_sink):
    mailer = runtime_of(app).mailer
    rendered = RenderedMail(
        subject="Grüße aus Göteborg: Åsa Öberg lädt ein",
        text="Hallo Jürgen,\nwir sehen uns am Samstag.\n",
        html="<p>Hallo <b>Jürgen</b>,</p>",
    )
    async with db.transaction():
        await mailer.enqueue(
            to_email="juergen@example.org", to_name="Jürgen Müller-Åström", rendered=rendered
        )
    assert await drain(app) == 1
    [message] = smtp_sink.messages
    assert message["Subject"] == "Grüße aus Göteborg: Åsa Öberg lädt ein"
    assert "=?utf-8?" in smtp_sink.raw[0].decode().split("\r\n\r\n")[0]  # RFC 2047 encoded
    assert message["To"].addresses[0].display_name == "Jürgen Müller-Åström"
    assert message["From"].addresses[0].addr_spec == "kv@example.org"
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@example.org>")
    assert email.utils.parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text.get_content_charset() == "utf-8"
    assert text.get_content().replace("\r\n", "\n") == "Hallo Jürgen,\nwir sehen uns am Samstag.\n"
    assert "<b>Jürgen</b>" in html.get_content()
    assert smtp_sink.envelopes[0] == ("kv@example.org", ["juergen@example.org"])


async def test_rolled_back_transaction_sends_nothing(app, smtp_sink):
    mailer = runtime_of(app).mailer
    rendered = RenderedMail(subject="x", text="y\n", html=None)
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await mailer.enqueue(to_email="a@example.org", rendered=rendered)
            raise RuntimeError("domain write failed")
    assert await drain(app) == 0
    assert smtp_sink.raw == []


async def test_permanent_refusal_marks_address_bouncing(app, smtp_sink):
    mailer = runtime_of(app).mailer
    rendered = RenderedMail(subject="Hi", text="Hi\n", html=None)
    await mailer.enqueue(to_email="bounce@example.org", rendered=rendered)
    await drain(app)
    assert await MailSuppression.exists().where(MailSuppression.email == "bounce@example.org").run()
    job = await db.fetch_one("SELECT status, attempts, last_error FROM job")
    assert job["status"] == "failed" and job["attempts"] == 1
    assert "550" in job["last_error"]
    # bulk mail to a bouncing address is skipped without contacting the server
    await mailer.enqueue(to_email="bounce@example.org", rendered=rendered, bulk=True)
    await drain(app)
    assert smtp_sink.raw == []
    statuses = [r["status"] for r in await db.fetch("SELECT status FROM job ORDER BY id")]
    assert statuses == ["failed", "done"]


async def test_temporary_refusal_retries_with_backoff(app, smtp_sink):
    mailer = runtime_of(app).mailer
    await mailer.enqueue(
        to_email="tempfail@example.org", rendered=RenderedMail(subject="Hi", text="Hi\n", html=None)
    )
    await drain(app)
    job = await db.fetch_one("SELECT status, attempts, run_at FROM job")
    assert job["status"] == "queued" and job["attempts"] == 1
    assert job["run_at"] > utcnow() + timedelta(seconds=5)
    assert await drain(app) == 0  # not due yet


async def test_dkim_signature_verifies(app, smtp_sink, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(pem)
    from core.mail.dkim import DkimSigner

    mailer = runtime_of(app).mailer
    mailer.signer = DkimSigner("orga2026", "example.org", str(key_file))
    await mailer.enqueue(
        to_email="x@example.org",
        rendered=RenderedMail(subject="Signiert", text="Grüße\n", html="<p>Ä</p>"),
    )
    await drain(app)
    raw = smtp_sink.raw[0]
    assert raw.startswith(b"DKIM-Signature:")
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name, timeout=5):
        assert name == b"orga2026._domainkey.example.org."
        return record

    assert dkim.verify(raw, dnsfunc=dns)
    assert not dkim.verify(raw.replace(b"Gr", b"gr"), dnsfunc=dns)


async def test_template_from_deployment_folder_overrides_core(
    tmp_path, orga_database_url, smtp_sink
):
    from asgi_lifespan import LifespanManager

    from core.app import create_app
    from core.testing import _settings

    override = tmp_path / "branding" / "mail"
    override.mkdir(parents=True)
    (override / "password_reset.txt.jinja").write_text(
        "{% block subject %}Neues Passwort für die Partei{% endblock %}"
        "{% block text %}Hier entlang: {{ link }}{% endblock %}"
    )
    settings = _settings(
        str(tmp_path / "var"),
        orga_database_url,
        smtp_url=smtp_sink.url,
        templates_dir=str(tmp_path / "branding"),
    )
    app = create_app(settings)
    async with LifespanManager(app):
        rendered = app.state.orga.templates.render_mail(
            "mail/password_reset",
            {"user_name": "Anna", "link": "https://x/p/auth/reset/t", "locale": "de"},
            "de",
        )
    assert rendered.subject == "Neues Passwort für die Partei"
    assert rendered.text.strip() == "Hier entlang: https://x/p/auth/reset/t"
    # the HTML part was not overridden, so core's stays
    assert rendered.html is not None and "Passwort" in rendered.html


async def test_maildir_is_the_default_transport(tmp_path, orga_database_url):
    import mailbox

    from asgi_lifespan import LifespanManager

    from core.app import create_app
    from core.testing import _settings

    settings = _settings(str(tmp_path / "var"), orga_database_url)
    app = create_app(settings)
    async with LifespanManager(app):
        await app.state.orga.mailer.enqueue(
            to_email="anna@example.org",
            rendered=RenderedMail(subject="Lokal", text="bleibt hier\n", html=None),
        )
        assert await drain(app) == 1
    box = mailbox.Maildir(tmp_path / "var" / "mail", create=False)
    [message] = list(box)
    assert message["Subject"] == "Lokal"
