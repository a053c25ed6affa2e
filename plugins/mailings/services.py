"""Mailing services: drafts, statistics, preview and test sends."""

from __future__ import annotations

from typing import Any

import cmarkgfm
import msgspec

from core.api import (
    BadToken,
    ConsentIn,
    Page,
    TemplateProblem,
    ancestors_sql,
    compile_user_template,
    conflict,
    current_runtime,
    db,
    get_person_row,
    invalid,
    keyset_page,
    module_config,
    not_found,
    open_person_token,
    record,
    record_consent,
    render_off_loop,
    to_row,
    utcnow,
)
from plugins.mailings.audience import audience_breakdown, audience_segment, unit_purpose
from plugins.mailings.render import PERSON_FIELDS, UNSUBSCRIBE_PURPOSE, Renderer
from plugins.mailings.schemas import (
    MailingIn,
    MailingOut,
    MailingPatch,
    MailingsConfig,
    MailingStats,
    PreviewOut,
    SenderIn,
    SenderOut,
    Undelivered,
)
from plugins.mailings.tables import Mailing, Recipient

__all__ = [
    "audience_of",
    "audit",
    "check_templates",
    "config",
    "create_mailing",
    "delete_mailing",
    "load_org",
    "mailing_out",
    "mailings_out",
    "module_context",
    "patch_mailing",
    "person_in_unit",
    "preview",
    "preview_parts",
    "put_sender",
    "renderer_for",
    "send_test",
    "sender_for",
    "stats_of",
    "template_problem",
    "touch_recipient",
    "undelivered",
    "unsubscribe_recipient",
    "unsubscribed",
]

SAMPLE_PERSON = {
    "id": 0,
    "first_name": "Erika",
    "last_name": "Mustermann",
    "email": "erika@example.org",
    "postal_code": "10115",
    "city": "Berlin",
    "country": "DE",
    "language": None,
    "member_status": "member",
    "custom_fields": {"gender": "female"},
}


def config() -> MailingsConfig:
    """The deployment's mailings settings."""
    return module_config(current_runtime().settings, "mailings", MailingsConfig)


def template_problem(exc: TemplateProblem, field: str = "body") -> Exception:
    """A 422 naming the field and the template line."""
    field = getattr(exc, "field", field)
    where = f"line {exc.line}: " if exc.line else ""
    return invalid(field, f"{where}{exc.message}")


async def check_templates(subject: str, body: str) -> None:
    """Compile subject and body in core's sandbox, off the event loop, before storing them
    (a syntax error or too deep nesting is a 422 with the field and line)."""
    for field, source in (("subject", subject), ("body", body)):
        try:
            await render_off_loop(compile_user_template, source)
        except TemplateProblem as exc:
            raise template_problem(exc, field) from exc


async def stats_of(mailing_ids: list[int]) -> dict[int, MailingStats]:
    """Statistics of several mailings in one query."""
    if not mailing_ids:
        return {}
    marks = ", ".join(["{}"] * len(mailing_ids))
    rows = await db.fetch(
        "SELECT mailing_id, state, COUNT(*) AS n, COUNT(opened_at) AS opened, "
        "COUNT(clicked_at) AS clicked, COUNT(unsubscribed_at) AS unsubscribed, "
        "COUNT(CASE WHEN attempts > 0 THEN 1 END) AS tried "
        f"FROM mailings_recipient WHERE mailing_id IN ({marks}) GROUP BY mailing_id, state",
        *mailing_ids,
    )
    tracking = config().tracking
    result = {
        mid: MailingStats(opened=0 if tracking else None, clicked=0 if tracking else None)
        for mid in mailing_ids
    }
    for row in rows:
        stats = result[row["mailing_id"]]
        n = int(row["n"])
        stats.recipients += n
        stats.unsubscribed += int(row["unsubscribed"])
        if tracking:
            stats.opened = (stats.opened or 0) + int(row["opened"])
            stats.clicked = (stats.clicked or 0) + int(row["clicked"])
        state = row["state"]
        if state == "queued":
            stats.deferred += int(row["tried"])
        if state == "sent":
            stats.delivered += n
        elif hasattr(stats, state):
            setattr(stats, state, getattr(stats, state) + n)
    for stats in result.values():
        stats.sent = stats.delivered + stats.bounced
    return result


def _out(row: dict[str, Any], stats: MailingStats) -> MailingOut:
    skip = ("org_id", "audience", "stats")
    values = {k: row[k] for k in MailingOut.__struct_fields__ if k not in skip}
    return MailingOut(
        org_id=row["org_id"], audience=db.json_value(row["audience"]), stats=stats, **values
    )


async def undelivered(mailing_id: int, limit: int, cursor: str | None) -> Page[Undelivered]:
    """The mailing's recipients that failed, bounced or are deferred, with the reasons."""
    deferred = (Recipient.state == "queued") & (Recipient.attempts > 0)
    query = Recipient.select(
        Recipient.id,
        Recipient.person.as_alias("person_id"),
        Recipient.email,
        Recipient.state,
        Recipient.attempts,
        Recipient.error,
        Recipient.updated_at,
    ).where(
        (Recipient.mailing == mailing_id)
        & (Recipient.state.is_in(["failed", "bounced"]) | deferred)
    )
    page = await keyset_page(query, Recipient.id, limit, cursor)
    return Page([msgspec.convert(r, Undelivered) for r in page.items], page.next_cursor)


async def mailing_out(row: dict[str, Any]) -> MailingOut:
    """One mailing in the API shape, with its statistics."""
    return _out(row, (await stats_of([row["id"]]))[row["id"]])


async def mailings_out(rows: list[dict[str, Any]]) -> list[MailingOut]:
    """A page of mailings with their statistics (one query for all)."""
    stats = await stats_of([r["id"] for r in rows])
    return [_out(r, stats[r["id"]]) for r in rows]


async def _get(mailing_id: int) -> dict[str, Any]:
    row = await Mailing.select().where(Mailing.id == mailing_id).first().run()
    if row is None:
        raise not_found("mailing")
    return row


def _check_audience(audience: dict[str, Any]) -> None:
    if audience:
        try:
            msgspec.convert(audience, current_runtime().segment)
        except msgspec.ValidationError as exc:
            raise invalid("audience", str(exc)) from exc


async def sender_for(org_path: str) -> SenderOut | None:
    """The sender identity of the unit at ``org_path``, else of its nearest ancestor."""
    above, args = ancestors_sql("o.path", org_path)
    row = await db.fetch_one(
        "SELECT s.org_id, s.name, s.address, s.reply_to FROM mailings_sender s "
        f"JOIN org_unit o ON o.id = s.org_id WHERE {above} ORDER BY length(o.path) DESC LIMIT 1",
        *args,
    )
    return SenderOut(**row) if row else None


async def put_sender(org_id: int, data: SenderIn) -> None:
    """Set the unit's own sender identity (audited)."""
    now = utcnow()
    await db.execute(
        "INSERT INTO mailings_sender (org_id, name, address, reply_to, created_at, updated_at) "
        "VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT (org_id) DO UPDATE SET "
        "name = excluded.name, address = excluded.address, reply_to = excluded.reply_to, "
        "updated_at = excluded.updated_at",
        org_id,
        data.name,
        data.address,
        data.reply_to,
        now,
        now,
    )
    await record("mailings.sender_set", org_id=org_id)


async def audit(action: str, mailing: dict[str, Any]) -> None:
    """Audit ``action`` (``mailings.created``, ``mailings.sent``…) on ``mailing`` by the
    acting user."""
    await record(action, org_id=mailing["org_id"], object_type="mailing", object_id=mailing["id"])


async def create_mailing(org_id: int, org_path: str, data: MailingIn) -> dict[str, Any]:
    """Insert a mailing draft for unit ``org_id`` (sender from the unit's identity if left out);
    audited (``mailings.created``).

    Raises:
        Problem: 422 on ``sender_address`` when neither the body nor the unit names a sender.
    """
    await check_templates(data.subject, data.body)
    _check_audience(data.audience)
    values = to_row(data)
    if data.sender_address is None or data.sender_name is None:
        sender = await sender_for(org_path)
        if sender is None:
            raise invalid("sender_address", "no sender given and the unit has no sender identity")
        values["sender_address"] = data.sender_address or sender.address
        values["sender_name"] = data.sender_name or sender.name
        if data.reply_to is None:
            values["reply_to"] = sender.reply_to
    rows = await Mailing.insert(Mailing(org=org_id, **values)).run()
    row = await _get(rows[0]["id"])
    await audit("mailings.created", row)
    return row


async def patch_mailing(row: dict[str, Any], data: MailingPatch) -> dict[str, Any]:
    """Change a draft (or a scheduled mailing not started yet); audited (``mailings.changed``)."""
    if row["state"] not in ("draft", "scheduled"):
        raise conflict(f"A mailing that is {row['state']} cannot be changed.", field="state")
    values = to_row(data)
    if row["state"] == "scheduled" and ({"audience", "scheduled_at"} & values.keys()):
        raise conflict(
            "The audience and time of a scheduled mailing were confirmed; cancel it and "
            "write a new one to change them.",
            field="audience" if "audience" in values else "scheduled_at",
        )
    await check_templates(values.get("subject", row["subject"]), values.get("body", row["body"]))
    if "audience" in values:
        _check_audience(values["audience"])
    if values:
        values["updated_at"] = utcnow()
        await (
            Mailing.update({getattr(Mailing, k): v for k, v in values.items()})
            .where(Mailing.id == row["id"])
            .run()
        )
    await audit("mailings.changed", row)
    return await _get(row["id"])


async def delete_mailing(row: dict[str, Any]) -> None:
    """Delete a draft (sent mailings stay for their statistics); audited
    (``mailings.deleted``)."""
    if row["state"] != "draft":
        raise conflict(f"A mailing that is {row['state']} cannot be deleted.", field="state")
    await Mailing.delete().where(Mailing.id == row["id"]).run()
    await audit("mailings.deleted", row)


async def load_org(org_id: int) -> dict[str, Any]:
    """The unit's id, name and kind."""
    org = await db.fetch_one("SELECT id, name, kind FROM org_unit WHERE id = {}", org_id)
    assert org is not None
    return org


async def renderer_for(mailing: dict[str, Any]) -> Renderer:
    """A renderer for the mailing with the deployment's settings."""
    runtime = current_runtime()
    cfg = config()
    return Renderer(
        templates=runtime.templates,
        public_url=runtime.settings.public_url,
        mailing=mailing,
        org=await load_org(mailing["org_id"]),
        tracking=cfg.tracking,
        unsubscribe_mailto=cfg.unsubscribe_mailto,
        default_locale=runtime.settings.locale,
    )


async def module_context(person_id: int, org_id: int) -> dict[str, Any]:
    """What modules add to mail templates (``template_context``), merged."""
    extra: dict[str, Any] = {}
    if not person_id:
        return extra
    results = await current_runtime().registry.gather_each(
        "template_context", person_id=person_id, org_id=org_id
    )
    for _module, values in results:
        if values:
            extra.update(values)
    return extra


async def person_in_unit(person_id: int, org_path: str, field: str = "person_id") -> dict:
    """The person's row if they belong to the unit's subtree.

    Raises:
        Problem: 422 on ``field`` for anyone else.
    """
    person = await get_person_row(person_id, org_path)
    if person is None:
        raise invalid(field, "no such person in this unit")
    return person


async def audience_of(mailing: dict[str, Any], org_path: str) -> dict[str, int]:
    """Who in the mailing's audience gets it now and why the others do not (counts).

    Raises:
        Problem: 422 on ``audience`` while the mailing has none.
    """
    segment = audience_segment(db.json_value(mailing["audience"]))
    return await audience_breakdown(segment, mailing["org_id"], org_path)


def _render_both(renderer: Renderer, person: dict[str, Any], extra: dict[str, Any]) -> tuple:
    """The whole mail and the body's HTML alone (what the console shows beside the form)."""
    rendered = renderer.render(person, 0, extra)
    _subject, markdown = renderer.body(renderer.context(person, extra))
    return rendered, cmarkgfm.markdown_to_html(markdown)


async def _rendered(mailing: dict[str, Any], person: dict[str, Any]) -> tuple:
    renderer = await renderer_for(mailing)
    extra = await module_context(person["id"], mailing["org_id"])
    try:
        return await render_off_loop(_render_both, renderer, person, extra)
    except TemplateProblem as exc:
        raise template_problem(exc) from exc


async def _previewed(mailing: dict[str, Any], person: dict[str, Any]) -> None:
    await record(
        "mailings.previewed",
        org_id=mailing["org_id"],
        object_type="person",
        object_id=person["id"],
    )


async def preview(mailing: dict[str, Any], person: dict[str, Any]) -> PreviewOut:
    """The mailing rendered for ``person`` (template errors are a 422 with the line); audited
    as ``mailings.previewed`` of the person."""
    rendered, _body = await _rendered(mailing, person)
    await _previewed(mailing, person)
    return PreviewOut(
        subject=rendered.mail.subject, text=rendered.mail.text, html=rendered.mail.html or ""
    )


async def preview_parts(mailing: dict[str, Any], person: dict[str, Any] | None) -> dict:
    """What the console shows of the mailing (``mailing`` may carry text not saved yet) for
    ``person``, else for a sample person (no personal data, not audited): ``subject``,
    ``body_html`` (the body alone) and ``text`` (the whole text part). Audited like
    :func:`preview` for a real person.

    Raises:
        Problem: 422 on ``subject`` or ``body`` with the line of a template error.
    """
    rendered, body_html = await _rendered(mailing, person or dict(SAMPLE_PERSON))
    if person is not None:
        await _previewed(mailing, person)
    return {"subject": rendered.mail.subject, "body_html": body_html, "text": rendered.mail.text}


async def send_test(mailing: dict[str, Any], email: str, person: dict[str, Any] | None) -> None:
    """Render (for ``person``, else a sample person) and enqueue a test mail to ``email``; a
    test mail rendered for a real person is theirs to erase. Audited (``mailings.tested``)."""
    person_id = person["id"] if person else None
    keep = (*PERSON_FIELDS, "custom_fields")
    person = {k: person.get(k) for k in keep} if person else dict(SAMPLE_PERSON)
    renderer = await renderer_for(mailing)
    extra = await module_context(person["id"], mailing["org_id"])
    try:
        rendered = await render_off_loop(renderer.render, person, 0, extra)
    except TemplateProblem as exc:
        raise template_problem(exc) from exc
    mail = rendered.mail
    mail = type(mail)(subject=f"[Test] {mail.subject}", text=mail.text, html=mail.html)
    runtime = current_runtime()
    from core.api import format_address

    await runtime.mailer.enqueue(
        to_email=email,
        rendered=mail,
        sender=format_address(mailing["sender_name"], mailing["sender_address"]),
        reply_to=mailing["reply_to"],
        headers=rendered.headers,
        person_id=person_id,
    )
    await audit("mailings.tested", mailing)
    if runtime.worker is not None:
        db.after_commit(runtime.worker.wake)


async def unsubscribe_recipient(token: str) -> dict[str, Any] | None:
    """The recipient an unsubscribe link stands for (with its mailing's unit id and name),
    while its person keeps the link key; ``None`` for a bad or spent link."""
    try:
        person_id, recipient_id = await open_person_token(UNSUBSCRIBE_PURPOSE, token)
    except BadToken:
        return None
    if not isinstance(recipient_id, int):
        return None
    return await db.fetch_one(
        "SELECT r.id, r.mailing_id, r.person_id, r.unsubscribed_at, r.unsubscribe_scope, "
        "m.org_id, o.name AS org_name FROM mailings_recipient r "
        "JOIN mailings_mailing m ON m.id = r.mailing_id JOIN org_unit o ON o.id = m.org_id "
        "WHERE r.id = {} AND r.person_id = {}",
        recipient_id,
        person_id,
    )


async def unsubscribed(recipient: dict[str, Any], scope: str, one_click: bool) -> None:
    """Record the withdrawal in core consent (``scope`` ``unit``: this unit's mailings, ``all``:
    every mailing) and mark the recipient row, in one transaction; repeating it changes
    nothing more."""
    purpose = "general" if scope == "all" else unit_purpose(recipient["org_id"])
    async with db.transaction():
        await record_consent(
            recipient["person_id"],
            ConsentIn(
                channel="email",
                status="withdrawn",
                source="mailings-one-click" if one_click else "mailings-unsubscribe",
                purpose=purpose,
                reference=f"mailing:{recipient['mailing_id']}",
            ),
        )
        await db.execute(
            "UPDATE mailings_recipient SET unsubscribed_at = COALESCE(unsubscribed_at, {}), "
            "unsubscribe_scope = {}, updated_at = {} WHERE id = {}",
            utcnow(),
            scope,
            utcnow(),
            recipient["id"],
        )


async def touch_recipient(recipient_id: int, *, clicked: bool) -> None:
    """Record a recipient's first open, or first click (``opened_at`` too, since a click
    implies an open)."""
    now = utcnow()
    column = "clicked_at" if clicked else "opened_at"
    sets = "opened_at = COALESCE(opened_at, {})"
    args: list[Any] = [now]
    if clicked:
        sets += ", clicked_at = COALESCE(clicked_at, {})"
        args.append(now)
    await db.execute(
        f"UPDATE mailings_recipient SET {sets} WHERE id = {{}} AND {column} IS NULL",
        *args,
        recipient_id,
    )
