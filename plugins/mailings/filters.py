"""Segment filters of the mailings module: received, clicked, unsubscribed through a mailing."""

from __future__ import annotations

from typing import Any

from core.api import FilterContext, SegmentFilter

__all__ = ["FILTERS", "MailingClicked", "MailingReceived", "MailingUnsubscribed"]


class MailingReceived(SegmentFilter, tag="mailing_received"):
    """People the SMTP server accepted mailing ``mailing_id`` for."""

    mailing_id: int

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Recipient row in state ``sent``."""
        return (
            "p.id IN (SELECT person_id FROM mailings_recipient WHERE mailing_id = {} "
            "AND state = 'sent')",
            [self.mailing_id],
        )


class MailingClicked(SegmentFilter, tag="mailing_clicked"):
    """People who clicked a link in mailing ``mailing_id`` (needs tracking on)."""

    mailing_id: int

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Recipient row with a first click."""
        return (
            "p.id IN (SELECT person_id FROM mailings_recipient WHERE mailing_id = {} "
            "AND clicked_at IS NOT NULL)",
            [self.mailing_id],
        )


class MailingUnsubscribed(SegmentFilter, tag="mailing_unsubscribed"):
    """People who unsubscribed through mailing ``mailing_id``."""

    mailing_id: int

    def predicate(self, ctx: FilterContext) -> tuple[str, list[Any]]:
        """Recipient row with an unsubscribe."""
        return (
            "p.id IN (SELECT person_id FROM mailings_recipient WHERE mailing_id = {} "
            "AND unsubscribed_at IS NOT NULL)",
            [self.mailing_id],
        )


FILTERS = (MailingReceived, MailingClicked, MailingUnsubscribed)
