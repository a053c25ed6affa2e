"""The console's unit administration over HTTP (issue #24 item 5): subunits, users and roles,
modules, postal codes, the unit's settings, API tokens and the audit log; each part only for
the holders of its permission, 404 across units, errors beside the fields in German."""

from __future__ import annotations

import re

import pytest

from core import db
from core.audit.services import flush_list_reads
from core.jobs.worker import Worker
from core.orgs.coverage import change_coverage
from tests.core.console.helpers import console_login, csrf_of


@pytest.fixture
def orga_overrides(smtp_sink):
    return {"smtp_url": smtp_sink.url}


@pytest.fixture
async def tree(factory):
    root = await factory.org("Bund", kind="federal")
    leipzig = await factory.org("KV Leipzig", parent=root["id"])
    dresden = await factory.org("KV Dresden", parent=root["id"])
    return root, leipzig, dresden


async def _login(client, factory, unit, role="admin", email=None):
    user = await factory.user(role, unit["id"], email=email)
    await console_login(client, user.email)
    return user


async def _form(client, path):
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return page, csrf_of(page.text)


def _error_beside(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="f-{field}-error">([^<]*)</p>', html)
    assert match, html[html.find("<main") :][:3000]
    return match.group(1)


async def test_the_menu_shows_administration_and_audit_only_to_their_holders(client, factory, tree):
    _root, leipzig, _dresden = tree
    base = f"/app/orgs/{leipzig['id']}"
    await _login(client, factory, leipzig, "organizer")
    start = await client.get(base)
    assert f'href="{base}/admin"' not in start.text and f'href="{base}/audit"' not in start.text
    for path in ("admin", "admin/unit", "admin/units", "admin/members", "audit"):
        assert (await client.get(f"{base}/{path}")).status_code == 403, path
    await client.post("/app/logout", data={"_csrf": csrf_of(start.text)})
    await _login(client, factory, leipzig, "admin")
    start = await client.get(base)
    assert f'href="{base}/admin"' in start.text and f'href="{base}/audit"' in start.text
    admin = await client.get(f"{base}/admin")
    for part in ("unit", "units", "postcodes", "members", "modules", "tokens"):
        assert f'href="{base}/admin/{part}"' in admin.text, part


async def test_another_districts_admin_pages_answer_404(client, factory, tree):
    _root, leipzig, dresden = tree
    await _login(client, factory, leipzig)
    other = f"/app/orgs/{dresden['id']}"
    for path in (
        "admin",
        "admin/unit",
        "admin/units",
        "admin/members",
        "admin/modules",
        "admin/postcodes",
        "admin/tokens",
        "audit",
    ):
        page = await client.get(f"{other}/{path}")
        assert page.status_code == 404, path
        assert "KV Dresden" not in page.text
    _page, csrf = await _form(client, f"/app/orgs/{leipzig['id']}/admin/units")
    forged = await client.post(
        f"{other}/admin/units", data={"name": "X", "kind": "local", "_csrf": csrf}
    )
    assert forged.status_code == 404
    assert await db.fetch("SELECT id FROM org_unit WHERE name = 'X'") == []


async def test_create_rename_and_move_subunits_with_the_error_beside_the_field(
    client, factory, tree
):
    root, leipzig, dresden = tree
    await _login(client, factory, root)
    base = f"/app/orgs/{leipzig['id']}/admin"
    page, csrf = await _form(client, f"{base}/units")
    empty = await client.post(
        f"{base}/units",
        data={"name": "", "kind": "local", "parent_id": leipzig["id"], "_csrf": csrf},
    )
    assert empty.status_code == 422 and _error_beside(empty.text, "name")
    assert 'value="local"' in empty.text  # nothing typed is lost
    made = await client.post(
        f"{base}/units",
        data={"name": "OV Connewitz", "kind": "local", "parent_id": leipzig["id"], "_csrf": csrf},
    )
    assert made.status_code == 303
    unit = await db.fetch_one("SELECT id, parent_id FROM org_unit WHERE name = 'OV Connewitz'")
    assert unit["parent_id"] == leipzig["id"]
    listed = await client.get(f"{base}/units")
    assert "OV Connewitz" in listed.text and "ist angelegt" in listed.text  # the flash

    sub = f"/app/orgs/{unit['id']}/admin/unit"
    page, csrf = await _form(client, sub)
    renamed = await client.post(
        sub,
        data={"name": "OV Süd", "kind": "local", "office": "Straße 1", "_csrf": csrf},
    )
    assert renamed.status_code == 303
    row = await db.fetch_one("SELECT name, office FROM org_unit WHERE id = {}", unit["id"])
    assert row["name"] == "OV Süd" and db.json_value(row["office"])["address"] == "Straße 1"

    # a move the coverage rules refuse: the error stands beside the field, in German
    await change_coverage(
        {unit["id"]: [("04109", "04109")], dresden["id"]: [("01000", "01999")]}, None
    )
    assert f'value="{dresden["id"]}"' in page.text  # the units the admin manages
    refused = await client.post(f"{sub}/move", data={"parent_id": dresden["id"], "_csrf": csrf})
    assert refused.status_code == 422
    assert "außerhalb" in _error_beside(refused.text, "parent_id")
    moved = await client.post(f"{sub}/move", data={"parent_id": root["id"], "_csrf": csrf})
    assert moved.status_code == 303
    row = await db.fetch_one("SELECT parent_id FROM org_unit WHERE id = {}", unit["id"])
    assert row["parent_id"] == root["id"]
    actions = await db.fetch(
        "SELECT action FROM audit_log WHERE object_type = 'org_unit' AND object_id = {} "
        "ORDER BY id",
        unit["id"],
    )
    assert [a["action"] for a in actions] == ["org.created", "org.changed", "org.moved"]


async def test_invite_by_e_mail_the_same_answer_then_change_remove_and_disable(
    app, client, factory, smtp_sink, tree
):
    _root, leipzig, _dresden = tree
    admin = await _login(client, factory, leipzig)
    known = await factory.user("viewer", leipzig["id"], email="known@example.org")
    base = f"/app/orgs/{leipzig['id']}/admin/members"
    page, csrf = await _form(client, base)
    assert "known@example.org" in page.text and 'value="admin"' in page.text
    answers = []
    for email in ("known@example.org", "neu@example.org"):
        sent = await client.post(base, data={"email": email, "role": "caller", "_csrf": csrf})
        assert sent.status_code == 303
        shown = await client.get(base)
        answers.append(re.search(r'role="status">([^<]*)<', shown.text).group(1).replace(email, ""))
    assert answers[0] == answers[1]  # the page never tells whether the address had an account
    await Worker(app.state.orga.job_handlers()).drain()
    assert {m["To"].addresses[0].addr_spec for m in smtp_sink.messages} == {
        "known@example.org",
        "neu@example.org",
    }
    bad = await client.post(base, data={"email": "kein-at", "role": "caller", "_csrf": csrf})
    assert bad.status_code == 422 and _error_beside(bad.text, "email")
    assert 'value="kein-at"' in bad.text

    changed = await client.post(
        f"{base}/{known.id}/role", data={"old_role": "viewer", "role": "organizer", "_csrf": csrf}
    )
    assert changed.status_code == 303
    roles = await db.fetch(
        "SELECT role FROM role_assignment WHERE user_id = {} ORDER BY role", known.id
    )
    assert [r["role"] for r in roles] == ["caller", "organizer"]
    removed = await client.post(f"{base}/{known.id}/remove", data={"role": "caller", "_csrf": csrf})
    assert removed.status_code == 303
    disabled = await client.post(f"{base}/{known.id}/active", data={"active": "no", "_csrf": csrf})
    assert disabled.status_code == 303
    user = await db.fetch_one("SELECT active FROM orga_user WHERE id = {}", known.id)
    assert not user["active"]
    live = await db.fetch(
        "SELECT id FROM auth_token WHERE user_id = {} AND revoked_at IS NULL", known.id
    )
    assert live == []
    assert "gesperrt" in (await client.get(base)).text
    audited = await db.fetch(
        "SELECT action FROM audit_log WHERE action LIKE 'user.%' AND user_id = {} ORDER BY id",
        admin.id,
    )
    assert [a["action"] for a in audited] == ["user.invited", "user.disabled"]


async def test_modules_switch_off_for_a_subunit_and_show_where_the_setting_comes_from(
    client, factory, tree
):
    root, leipzig, _dresden = tree
    await factory.enable(root["id"], "calling")
    await _login(client, factory, root)
    base = f"/app/orgs/{leipzig['id']}/admin/modules"
    page, csrf = await _form(client, base)
    row = re.search(r"<tr>\s*<th scope=\"row\">Phone banking</th>.*?</tr>", page.text, re.S).group(
        0
    )
    assert "geerbt von Bund" in row and "Ausschalten" in row
    off = await client.post(f"{base}/calling", data={"enabled": "no", "_csrf": csrf})
    assert off.status_code == 303
    page = await client.get(base)
    row = re.search(r"<tr>\s*<th scope=\"row\">Phone banking</th>.*?</tr>", page.text, re.S).group(
        0
    )
    assert "hier" in row and "Einschalten" in row
    row = await db.fetch_one(
        "SELECT action, detail FROM audit_log WHERE action = 'module.disabled'"
    )
    assert db.json_value(row["detail"]) == {"module": "calling"}
    unknown = await client.post(f"{base}/petitions", data={"enabled": "no", "_csrf": csrf})
    assert unknown.status_code == 404


async def test_postal_codes_with_the_rule_broken_beside_the_field(client, factory, tree):
    root, leipzig, _dresden = tree
    await _login(client, factory, root)
    state = f"/app/orgs/{leipzig['id']}/admin/postcodes"
    _page, csrf = await _form(client, state)
    saved = await client.post(
        state, data={"postal_codes": "04103 - 04109\n04229, 04275", "_csrf": csrf}
    )
    assert saved.status_code == 303
    assert "04103-04109" in (await client.get(state)).text
    sub = await factory.org("OV Süd", parent=leipzig["id"])
    path = f"/app/orgs/{sub['id']}/admin/postcodes"
    outside = await client.post(path, data={"postal_codes": "04105\n01067", "_csrf": csrf})
    assert outside.status_code == 422
    message = _error_beside(outside.text, "postal_codes")
    assert message == "„01067“ liegt außerhalb des Gebiets der übergeordneten Gliederung"
    assert "04105\n01067" in outside.text  # what was typed stays
    unreadable = await client.post(path, data={"postal_codes": "4x", "_csrf": csrf})
    assert unreadable.status_code == 422
    assert "4X" in _error_beside(unreadable.text, "postal_codes").upper()
    ok = await client.post(path, data={"postal_codes": "04105", "_csrf": csrf})
    assert ok.status_code == 303
    rows = await db.fetch("SELECT code_from FROM org_postcode WHERE org_id = {}", sub["id"])
    assert rows == [{"code_from": "04105"}]


async def test_an_api_token_is_shown_once_and_listed_in_the_account(client, factory, tree):
    _root, leipzig, dresden = tree
    await _login(client, factory, leipzig)
    base = f"/app/orgs/{leipzig['id']}/admin/tokens"
    page, csrf = await _form(client, base)
    assert 'value="audit.view"' in page.text
    none = await client.post(base, data={"name": "Website", "_csrf": csrf})
    assert none.status_code == 422 and 'id="f-permissions-error"' in none.text
    made = await client.post(
        base,
        data={
            "name": "Website",
            "permissions": ["audit.view"],
            "expires_in_days": "30",
            "_csrf": csrf,
        },
    )
    assert made.status_code == 200
    secret = re.search(r'<code class="secret">([^<]+)</code>', made.text).group(1)
    headers = {"Authorization": f"Bearer {secret}"}
    assert (
        await client.get(f"/api/orgs/{leipzig['id']}/audit", headers=headers)
    ).status_code == 200
    assert (
        await client.get(f"/api/orgs/{dresden['id']}/audit", headers=headers)
    ).status_code == 404
    assert secret not in (await client.get(base)).text
    account = await client.get("/app/account")
    assert "Website" in account.text and secret not in account.text


async def test_the_audit_log_filters_by_action_person_and_date_and_pages(
    app, client, factory, tree
):
    _root, leipzig, dresden = tree
    user = await _login(client, factory, leipzig)
    rosa = await factory.person(leipzig["id"], first_name="Rosa")
    await client.get(f"/app/orgs/{leipzig['id']}/people/{rosa['id']}")  # an audited read
    await client.get(f"/app/orgs/{leipzig['id']}/people")  # a list showing her
    await flush_list_reads(app)
    for n in range(55):
        await db.execute(
            "INSERT INTO audit_log (at, user_id, action, object_type, object_id, org_id) "
            "VALUES ({}, {}, 'test.filler', 'thing', {}, {})",
            rosa["created_at"],
            user.id,
            n,
            leipzig["id"],
        )
    await db.execute(
        "INSERT INTO audit_log (at, action, org_id) VALUES ({}, 'test.elsewhere', {})",
        rosa["created_at"],
        dresden["id"],
    )
    base = f"/app/orgs/{leipzig['id']}/audit"
    page = await client.get(base)
    assert page.status_code == 200 and "test.elsewhere" not in page.text
    assert page.text.count("<code>test.filler</code>") == 50 and 'rel="next"' in page.text
    older = re.search(r'href="([^"]+)" rel="next"', page.text).group(1).replace("&amp;", "&")
    rest = await client.get(base + older)
    assert rest.text.count("<code>test.filler</code>") == 5
    by_action = await client.get(base, params={"action": "person.read"})
    assert by_action.text.count("<code>person.read</code>") == 1
    assert "test.filler" not in by_action.text and user.email.split("@")[0] in by_action.text
    seen = await client.get(base, params={"person_id": rosa["id"]})
    assert "<code>person.read</code>" in seen.text and "<code>people.listed</code>" in seen.text
    assert "test.filler" not in seen.text
    thing = await client.get(base, params={"object_type": "thing", "object_id": "7"})
    assert thing.text.count("<code>test.filler</code>") == 1
    future = await client.get(base, params={"since": "2999-01-01"})
    assert "test.filler" not in future.text
    bad = await client.get(base, params={"since": "gestern", "user_id": "x"})
    assert bad.status_code == 422
    assert _error_beside(bad.text, "since") and _error_beside(bad.text, "user_id")


async def test_a_unicode_digit_in_a_number_filter_is_a_form_error_not_a_500(client, factory, tree):
    """ "²" passes ``str.isdigit`` but not ``int``: the audit log's user filter (like every
    number read from a form or query) checks ``isdecimal`` and answers with the form again."""
    root, _leipzig, _dresden = tree
    await _login(client, factory, root)
    page = await client.get(f"/app/orgs/{root['id']}/audit", params={"user_id": "²"})
    assert page.status_code == 422, page.text[:300]
    assert 'id="f-user_id-error"' in page.text or "user_id" in page.text
