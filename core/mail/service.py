"""The one way to send mail: :class:`Mailer` renders and enqueues; its job handler delivers.

Rendering happens at enqueue time, inside the caller's transaction, so what is committed is
exactly what will be sent. Each message gets its Message-ID at enqueue time: a retry after a
crash between delivery and bookkeeping sends the same Message-ID again, which receiving
systems use to drop the duplicate (SMTP itself cannot promise exactly-once).
"""

from __future__ import annotations

import logging
from typing import Any

from core import db
from core.jobs.services import PermanentJobError, enqueue
from core.mail.dkim import DkimSigner
from core.mail.message import build_message, format_address, new_message_id, wire_address
from core.mail.tables import MailSuppression
from core.mail.transport import PermanentMailError, TemporaryMailError, Transport
from core.metrics import MAIL_DEFERRED, MAIL_FAILED, MAIL_SENT
from core.settings import Settings
from core.tables import utcnow
from core.templating import RenderedMail, Templates

__all__ = ["MAIL_JOB", "Mailer", "UndeliverableMail"]

MAIL_JOB = "mail.send"
log = logging.getLogger("orga.mail")


class UndeliverableMail(PermanentJobError):
    """The mail cannot be delivered, ever: ``bounced`` when the server refused the address
    (it is now on the suppression list), else the server cannot carry it (no SMTPUTF8)."""

    def __init__(self, reason: str, *, bounced: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.bounced = bounced


class Mailer:
    """Renders mail templates, enqueues ``mail.send`` jobs and delivers them."""

    def __init__(self, settings: Settings, templates: Templates, transport: Transport) -> None:
        self.settings = settings
        self.templates = templates
        self.transport = transport
        self.signer = (
            DkimSigner(settings.dkim_selector, settings.dkim_domain, settings.dkim_key_file)
            if settings.dkim_key_file and settings.dkim_selector and settings.dkim_domain
            else None
        )
        self.sent = 0
        self.failed = 0

    async def send(
        self,
        *,
        to_email: str,
        template: str,
        context: dict[str, Any],
        locale: str | None = None,
        to_name: str = "",
        **options: Any,
    ) -> int | None:
        """Render ``template`` for one recipient and enqueue it (see :meth:`enqueue`)."""
        rendered = self.templates.render_mail(template, context, locale or self.settings.locale)
        return await self.enqueue(to_email=to_email, to_name=to_name, rendered=rendered, **options)

    async def enqueue(
        self,
        *,
        to_email: str,
        rendered: RenderedMail,
        to_name: str = "",
        sender: str | None = None,
        reply_to: str | None = None,
        headers: dict[str, str] | None = None,
        dedupe_key: str | None = None,
        bulk: bool = False,
        person_id: int | None = None,
    ) -> int | None:
        """Enqueue a rendered mail; ``None`` when ``dedupe_key`` was already enqueued.

        ``person_id``: the person the mail is to or about (rendered with their data); erasing
        them deletes the queued job and the copy a maildir kept.
        """
        return await enqueue(
            MAIL_JOB,
            self.payload(
                to_email=to_email,
                rendered=rendered,
                to_name=to_name,
                sender=sender,
                reply_to=reply_to,
                headers=headers,
                bulk=bulk,
                person_id=person_id,
            ),
            dedupe_key=dedupe_key,
            person_id=person_id,
        )

    def payload(
        self,
        *,
        to_email: str,
        rendered: RenderedMail,
        to_name: str = "",
        sender: str | None = None,
        reply_to: str | None = None,
        headers: dict[str, str] | None = None,
        bulk: bool = False,
        person_id: int | None = None,
    ) -> dict[str, Any]:
        """The job payload of one mail (used by bulk senders with ``enqueue_many``)."""
        sender = sender or self.settings.mail_from
        return {
            "person_id": person_id,
            "from": sender,
            "to": format_address(to_name, to_email) if to_name else to_email,
            "to_email": to_email,
            "subject": rendered.subject,
            "text": rendered.text,
            "html": rendered.html,
            "reply_to": reply_to,
            "headers": headers or {},
            "message_id": new_message_id(sender),
            "bulk": bulk,
        }

    def message_bytes(self, payload: dict[str, Any]) -> bytes:
        """The RFC 5322 bytes of a payload, DKIM-signed when configured."""
        raw = build_message(
            sender=payload["from"],
            to=payload["to"],
            subject=payload["subject"],
            text=payload["text"],
            html=payload.get("html"),
            reply_to=payload.get("reply_to"),
            message_id=payload["message_id"],
            headers=payload.get("headers"),
        )
        return self.signer.sign(raw) if self.signer else raw

    async def deliver(self, payload: dict[str, Any]) -> bool:
        """Job handler of ``mail.send``: a 5xx marks the address as bouncing, 4xx retries.

        Returns ``False`` when a bulk mail was skipped because the address bounces, ``True``
        when the server accepted it (bulk senders record the outcome per recipient).

        Raises:
            UndeliverableMail: refused for good (the job fails at once, with the reason).
            TemporaryMailError: deferred (4xx) or the server is unreachable: try again later.
        """
        address = payload["to_email"].lower()
        if (
            payload.get("bulk")
            and await MailSuppression.exists().where(MailSuppression.email == address).run()
        ):
            log.info("skipped bulk mail to a bouncing address")
            return False
        envelope_from = payload["from"].rpartition("<")[2].rstrip(">") or payload["from"]
        try:
            await self.transport.send(
                wire_address(envelope_from),
                wire_address(payload["to_email"]),
                self.message_bytes(payload),
                person_id=payload.get("person_id"),
            )
        except PermanentMailError as exc:
            self.failed += 1
            MAIL_FAILED.inc()
            if not exc.bounce:
                raise UndeliverableMail(exc.reason, bounced=False) from exc
            await db.execute(
                "INSERT INTO mail_suppression (email, reason, created_at, updated_at) "
                "VALUES ({}, {}, {}, {}) ON CONFLICT (email) DO NOTHING",
                address,
                exc.reason[:500],
                utcnow(),
                utcnow(),
            )
            raise UndeliverableMail(f"refused permanently: {exc.reason}", bounced=True) from exc
        except TemporaryMailError:
            self.failed += 1
            MAIL_DEFERRED.inc()
            raise
        self.sent += 1
        MAIL_SENT.inc()
        return True
