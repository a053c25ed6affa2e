"""Who a mailing reaches: the audience segment, and why people in it are left out.

"Will receive" is: not do-not-contact, an e-mail address, not bouncing, general e-mail
consent granted (core's :func:`contactable_sql`), and not unsubscribed from this unit's
mailings (consent purpose ``mailings:<org_id>``). Each left-out person is counted once, under
the first reason in the order do-not-contact, no e-mail, bouncing, unsubscribed, no consent.
"""

from __future__ import annotations

from typing import Any

from core.api import compile_segment, contactable_sql, db, invalid, parse_segment

__all__ = [
    "audience_breakdown",
    "audience_segment",
    "deliverable_sql",
    "unit_purpose",
    "unsubscribed_sql",
]


def unit_purpose(org_id: int) -> str:
    """The consent purpose of one unit's mailings."""
    return f"mailings:{int(org_id)}"


def _latest(purpose: str, alias: str = "p") -> str:
    return (
        f"(SELECT ce.status FROM consent_event ce WHERE ce.person_id = {alias}.id "
        f"AND ce.channel = 'email' AND ce.purpose = '{purpose}' AND ce.status <> 'pending' "
        "ORDER BY ce.id DESC LIMIT 1)"
    )


def unsubscribed_sql(org_id: int, alias: str = "p") -> str:
    """The person withdrew e-mail consent in general or for this unit's mailings."""
    return (
        f"({_latest('general', alias)} = 'withdrawn' "
        f"OR {_latest(unit_purpose(org_id), alias)} = 'withdrawn')"
    )


def _suppressed(alias: str = "p") -> str:
    return f"EXISTS (SELECT 1 FROM mail_suppression s WHERE s.email = {alias}.email)"


def deliverable_sql(org_id: int, alias: str = "p") -> str:
    """SQL condition (no parameters): the person gets this unit's mailings right now."""
    return (
        f"({contactable_sql('email', alias)} AND {alias}.email IS NOT NULL "
        f"AND {alias}.email <> '' AND NOT {_suppressed(alias)} "
        f"AND NOT (COALESCE({_latest(unit_purpose(org_id), alias)}, '') = 'withdrawn'))"
    )


def audience_segment(audience: dict[str, Any]) -> Any:
    """The audience as the running deployment's ``Segment``.

    Raises:
        Problem: 422 on ``audience`` (or the field below it) when it is empty or not a valid
        segment.
    """
    if not audience:
        raise invalid("audience", "the mailing has no audience segment yet")
    return parse_segment(audience, "audience")


async def audience_breakdown(segment: Any, org_id: int, org_path: str) -> dict[str, int]:
    """Counts per reason (one query) for the segment within the unit's subtree."""
    where, args = await compile_segment(segment, org_path, "audience")
    bucket = (
        "CASE WHEN p.do_not_contact THEN 'do_not_contact' "
        "WHEN p.email IS NULL OR p.email = '' THEN 'no_email' "
        f"WHEN {_suppressed()} THEN 'bouncing' "
        f"WHEN {unsubscribed_sql(org_id)} THEN 'unsubscribed' "
        f"WHEN {contactable_sql('email')} THEN 'will_receive' "
        "ELSE 'no_consent' END"
    )
    rows = await db.fetch(
        f"SELECT b, COUNT(*) AS n FROM (SELECT {bucket} AS b FROM person p WHERE {where}) x "
        "GROUP BY b",
        *args,
    )
    counts = dict.fromkeys(
        ("will_receive", "do_not_contact", "no_email", "bouncing", "unsubscribed", "no_consent"),
        0,
    )
    for row in rows:
        counts[row["b"]] = int(row["n"])
    counts["total"] = sum(counts.values())
    return counts
