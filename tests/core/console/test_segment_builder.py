"""The segment builder on the console's people list (issue #24, page item 3): all / any / not
groups as a GET form without JavaScript, module filters, errors beside the field, the live
count, save as segment, and saved segments of other units kept out."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

from core import db
from core.audit.services import flush_list_reads
from core.tables import utcnow
from tests.core.console.helpers import console_login, csrf_of
from tests.plugins.events.conftest import event_body


async def _district(factory, client, role="organizer"):
    root = await factory.org("Bund")
    leipzig = await factory.org("KV Leipzig", parent=root["id"])
    dresden = await factory.org("KV Dresden", parent=root["id"])
    user = await factory.user(role, leipzig["id"])
    await console_login(client, user.email)
    client.cookies.set("orga_lang", "en")  # the texts below are the English ones
    return leipzig, dresden, user


async def _tag(person_id: int, name: str) -> None:
    row = await db.fetch_one("SELECT id FROM tag WHERE name = {}", name)
    if row is None:
        await db.execute("INSERT INTO tag (name) VALUES ({})", name)
        row = await db.fetch_one("SELECT id FROM tag WHERE name = {}", name)
    await db.execute(
        "INSERT INTO person_tag (person_id, tag_id) VALUES ({}, {})", person_id, row["id"]
    )


def _names(html: str) -> set[str]:
    """The people listed in the page's table."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return {n.split()[0] for n in re.findall(r'<a href="people/\d+">([^<]+)</a>', body)}


async def _people(factory, org_id: int) -> dict[str, dict]:
    made = {
        "Rosa": await factory.person(
            org_id, first_name="Rosa", member_status="member", email="rosa@example.org"
        ),
        "Karl": await factory.person(org_id, first_name="Karl", member_status="member"),
        "Clara": await factory.person(
            org_id, first_name="Clara", member_status="sympathizer", postal_code="04109"
        ),
        "August": await factory.person(
            org_id, first_name="August", member_status="member", postal_code="04229"
        ),
    }
    await _tag(made["Karl"]["id"], "Infostand")
    await _tag(made["Clara"]["id"], "Infostand")
    return made


async def test_all_any_not_groups_through_the_get_form(app, client, factory):
    leipzig, dresden, _user = await _district(factory, client)
    await _people(factory, leipzig["id"])
    await factory.person(dresden["id"], first_name="Fremd", member_status="member")
    base = f"/app/orgs/{leipzig['id']}/people"
    # members or tagged "Infostand", who either have an e-mail address or do not live in 04…
    query = [
        ("w", "all"),
        ("w.0", "any"),
        ("w.0.0", "member_status"),
        ("w.0.0.statuses", "member"),
        ("w.0.1", "tags"),
        ("w.0.1.tags", "Infostand"),
        ("w.0.1.match", "any"),
        ("w.1", "any"),
        ("w.1.0", "has_email"),
        ("w.1.1", "not"),
        ("w.1.1.0", "postal_code"),
        ("w.1.1.0.prefixes", "04"),
    ]
    page = await client.get(base, params=query)
    assert page.status_code == 200, page.text
    assert _names(page.text) == {"Rosa", "Karl"}
    assert "2 people match the conditions." in page.text
    assert "Fremd" not in page.text
    # the search works together with the segment
    searched = await client.get(base, params=[("q", "karl"), *query])
    assert _names(searched.text) == {"Karl"}
    # "none of these" with two conditions: neither a member nor tagged
    none = await client.get(
        base,
        params=[
            ("w", "not"),
            ("w.0", "member_status"),
            ("w.0.statuses", "member"),
            ("w.1", "tags"),
            ("w.1.tags", "Infostand"),
        ],
    )
    assert none.status_code == 200 and _names(none.text) == set()
    assert "Nobody matches." in none.text
    # the read is audited as before, the segment with the filter
    await flush_list_reads(app)
    rows = await db.fetch("SELECT detail FROM audit_log WHERE action = 'people.listed'")
    assert '"segment"' in str(rows[-1]["detail"]).replace("'", '"')


async def test_add_and_remove_buttons_rebuild_the_tree_without_javascript(client, factory):
    leipzig, _dresden, _user = await _district(factory, client)
    base = f"/app/orgs/{leipzig['id']}/people"
    start = await client.get(base)
    assert start.status_code == 200
    assert 'name="new.w"' in start.text and '<option value="tags">Tags</option>' in start.text
    added = await client.get(base, params={"q": "ro", "w": "any", "new.w": "tags", "add": "w"})
    assert added.status_code == 303
    target = added.headers["location"]
    assert target.endswith("#n-w-0")
    assert parse_qsl(urlsplit(target).query) == [
        ("q", "ro"),
        ("w", "any"),
        ("w.0", "tags"),
        ("w.0.match", "any"),
    ]
    shown = await client.get(target.split("#")[0])
    assert shown.status_code == 200  # a fresh condition is not an error yet
    assert 'id="f-w-0-tags"' in shown.text and "Not applied yet" in shown.text
    assert 'value="ro"' in shown.text
    group = await client.get(
        base, params=[*parse_qsl(urlsplit(target).query), ("new.w", "not"), ("add", "w")]
    )
    assert group.headers["location"].endswith("#n-w-1")
    removed = await client.get(
        base,
        params=[("w", "all"), ("w.0", "has_email"), ("w.1", "has_phone"), ("remove", "w.0")],
    )
    assert parse_qsl(urlsplit(removed.headers["location"]).query) == [
        ("w", "all"),
        ("w.0", "has_phone"),
    ]


async def test_a_module_filter_is_offered_and_works(client, factory):
    leipzig, _dresden, user = await _district(factory, client)
    base = f"/app/orgs/{leipzig['id']}/people"
    before = await client.get(base)
    assert '<option value="event_participation">' not in before.text  # events off here
    await factory.enable(leipzig["id"], "events")
    made = await _people(factory, leipzig["id"])
    event = await client.post(
        f"/api/orgs/{leipzig['id']}/events/", json=event_body(), headers=user.headers
    )
    assert event.status_code == 201, event.text
    signed = await client.post(
        f"/api/orgs/{leipzig['id']}/events/{event.json()['id']}/participants",
        json={"person_id": made["Clara"]["id"], "status": "booked"},
        headers=user.headers,
    )
    assert signed.status_code == 201, signed.text
    offered = await client.get(base)
    assert '<option value="event_participation">Event participation</option>' in offered.text
    added = await client.get(base, params={"w": "all", "new.w": "event_participation", "add": "w"})
    form = await client.get(added.headers["location"].split("#")[0])
    assert 'id="f-w-0-status"' in form.text and 'id="f-w-0-start_from"' in form.text
    page = await client.get(
        base,
        params={"w": "all", "w.0": "event_participation", "w.0.status": "booked"},
    )
    assert page.status_code == 200, page.text
    assert _names(page.text) == {"Clara"}


async def test_bad_conditions_show_the_error_beside_the_field(client, factory):
    leipzig, _dresden, _user = await _district(factory, client)
    await _people(factory, leipzig["id"])
    base = f"/app/orgs/{leipzig['id']}/people"
    bad = await client.get(
        base,
        params=[
            ("q", "rosa"),
            ("w", "all"),
            ("w.0", "has_email"),
            ("w.1", "created"),
            ("w.1.after", "2026-13-45"),
        ],
    )
    assert bad.status_code == 422
    assert 'id="f-w-1-after-error"' in bad.text
    assert re.search(r'id="f-w-1-after"[^>]*value="2026-13-45"[^>]*aria-invalid="true"', bad.text)
    assert 'value="rosa"' in bad.text and 'value="has_email"' in bad.text  # nothing lost
    assert _names(bad.text) == set()
    missing = await client.get(
        base, params={"w": "all", "w.0": "custom_field", "w.0.key": "schicht"}
    )
    assert missing.status_code == 422 and 'id="f-w-0-value-error"' in missing.text
    count = await client.get(
        f"{base}/count", params={"w": "all", "w.0": "created", "w.0.after": "x"}
    )
    assert count.status_code == 422 and "w.0.after" in count.json()["errors"]


async def test_the_live_count_is_the_preview_count(client, factory):
    leipzig, _dresden, _user = await _district(factory, client)
    await _people(factory, leipzig["id"])
    count = await client.get(
        f"/app/orgs/{leipzig['id']}/people/count",
        params={"w": "any", "w.0": "tags", "w.0.tags": "Infostand"},
    )
    assert count.status_code == 200
    assert count.json() == {"text": "2 people match the conditions.", "count": 2}
    empty = await client.get(f"/app/orgs/{leipzig['id']}/people/count")
    assert empty.json()["count"] is None


async def test_save_as_segment_is_audited_and_needs_segments_manage(client, factory):
    leipzig, _dresden, user = await _district(factory, client)
    await _people(factory, leipzig["id"])
    base = f"/app/orgs/{leipzig['id']}/people"
    builder = {"w": "all", "w.0": "member_status", "w.0.statuses": "member"}
    page = await client.get(base, params=builder)
    assert f'<form method="post" action="{base}"' in page.text
    nameless = await client.post(base, data={**builder, "name": " ", "_csrf": csrf_of(page.text)})
    assert nameless.status_code == 422 and 'id="f-name-error"' in nameless.text
    assert 'value="member"' in nameless.text
    saved = await client.post(
        base, data={**builder, "name": "Mitglieder", "_csrf": csrf_of(page.text)}
    )
    assert saved.status_code == 303, saved.text
    row = await db.fetch_one("SELECT id, org_id, name FROM segment")
    assert row["org_id"] == leipzig["id"] and row["name"] == "Mitglieder"
    audit = await db.fetch(
        "SELECT user_id, object_id FROM audit_log WHERE action = 'segment.created'"
    )
    assert audit == [{"user_id": user.id, "object_id": row["id"]}]
    # chosen on the people page as "segment: <name>"
    chooser = await client.get(base)
    assert f'<option value="segment:{row["id"]}">Segment: Mitglieder</option>' in chooser.text
    used = await client.get(
        base, params={"w": "all", "w.0": "in_segment", "w.0.segment_id": str(row["id"])}
    )
    assert _names(used.text) == {"Rosa", "Karl", "August"}
    # a viewer may see people but not keep segments
    viewer = await factory.user("viewer", leipzig["id"])
    await client.post("/app/logout", data={"_csrf": csrf_of(used.text)})
    await console_login(client, viewer.email)
    page = await client.get(base, params=builder)
    assert page.status_code == 200 and "Save as segment" not in page.text
    refused = await client.post(base, data={**builder, "name": "Nope", "_csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    assert await db.fetch("SELECT name FROM segment WHERE name = 'Nope'") == []


async def test_another_units_saved_segment_is_an_error_not_a_leak(client, factory):
    leipzig, dresden, _user = await _district(factory, client)
    await _people(factory, leipzig["id"])
    await factory.person(dresden["id"], first_name="Fremd", member_status="member")
    rows = await db.fetch(
        "INSERT INTO segment (org_id, name, definition, created_at, updated_at) "
        "VALUES ({}, {}, {}, {}, {}) RETURNING id",
        dresden["id"],
        "Dresdner Geheimliste",
        '{"where": {"type": "member_status", "statuses": ["member"]}}',
        utcnow(),
        utcnow(),
    )
    other = rows[0]["id"]
    base = f"/app/orgs/{leipzig['id']}/people"
    page = await client.get(base)
    assert "Dresdner Geheimliste" not in page.text
    used = await client.get(
        base, params={"w": "all", "w.0": "in_segment", "w.0.segment_id": str(other)}
    )
    assert used.status_code == 422
    assert 'id="f-w-0-segment_id-error"' in used.text
    assert "Dresdner Geheimliste" not in used.text and "Fremd" not in used.text
    assert _names(used.text) == set()
    assert unescape(used.text).count(f'value="{other}" selected') == 1  # the input is kept


def test_a_builder_under_another_root_and_back_from_a_stored_segment():
    """Two builders in one form (a call assignment's target and goal) each read their own
    fields, and a stored definition comes back as the fields that make it (editing)."""
    from zoneinfo import ZoneInfo

    from core.segments.builder import builder_from_segment, filter_specs, parse_builder
    from core.segments.builder import segment_data as data_of
    from core.segments.filters import CORE_FILTERS

    specs = filter_specs(CORE_FILTERS, [])
    zone = ZoneInfo("Europe/Berlin")
    pairs = [
        ("w", "all"),
        ("w.0", "has_phone"),
        ("target", "any"),
        ("target.0", "tags"),
        ("target.0.tags", "Infostand, Zeitung"),
        ("target.0.match", "any"),
        ("target.1", "not"),
        ("target.1.0", "created"),
        ("target.1.0.after", "2026-03-01"),
        ("target.1.1", "has_email"),
        ("goal", "all"),
    ]
    target = parse_builder(pairs, "target")
    data, _places = data_of(target, specs, zone)
    assert data == {
        "where": {
            "type": "any",
            "of": [
                {"type": "tags", "tags": ["Infostand", "Zeitung"], "match": "any"},
                {
                    "type": "not",
                    "of": {
                        "type": "any",
                        "of": [
                            {"type": "created", "after": "2026-03-01T00:00:00+01:00"},
                            {"type": "has_email"},
                        ],
                    },
                },
            ],
        }
    }
    assert parse_builder(pairs, "goal").empty
    assert [c.kind for c in parse_builder(pairs).root.children] == ["has_phone"]
    back = builder_from_segment(data, specs, zone, "target")
    assert back is not None
    assert back.params() == target.params()
    assert data_of(back, specs, zone)[0] == data
    single = builder_from_segment({"where": {"type": "has_phone"}}, specs, zone, "goal")
    assert single is not None and single.params() == [("goal", "all"), ("goal.0", "has_phone")]
    sample = {"where": {"type": "sample", "size": 10, "seed": 0}}
    assert builder_from_segment(sample, specs, zone, "goal") is None
