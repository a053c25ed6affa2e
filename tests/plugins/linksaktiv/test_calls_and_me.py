"""Topics, calls to action, the personal page, the segment filter and the GDPR hooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import Module, db, hookimpl
from core.api import person_token, utcnow
from core.context import set_runtime
from plugins.linksaktiv.signup import CONFIRM_PURPOSE
from plugins.linksaktiv.tables import Activist
from tests.pages import assert_errors_in
from tests.plugins.linksaktiv.conftest import api

JOIN = {
    "first_name": "Rosa",
    "last_name": "Lux",
    "email": "rosa@example.org",
    "postal_code": "04105",
    "topics": ["rent"],
    "help": [],
    "consent": True,
    "consent_wording": "Ja",
}


async def confirmed_activist(app, client, **changes) -> int:
    response = await client.post("/p/linksaktiv/api/join", json=JOIN | changes)
    assert response.status_code == 202, response.text
    person = await db.fetch_one(
        "SELECT id FROM person WHERE email = {}", changes.get("email", JOIN["email"])
    )
    set_runtime(app.state.orga)
    token = await person_token(CONFIRM_PURPOSE, person["id"])
    page = await client.get(f"/p/linksaktiv/confirm/{token}")
    assert page.status_code == 200
    return person["id"]


async def me_token(app, person_id: int) -> str:
    set_runtime(app.state.orga)
    return await person_token("linksaktiv.me", person_id)


async def create_call(client, party, org, **fields):
    body = {
        "title": "Mietenwahnsinn stoppen",
        "kind": "share_link",
        "link": "https://example.org/miete",
        "starts_at": "2026-01-01T00:00:00Z",
        "topics": ["rent"],
    } | fields
    response = await client.post(api(org, "/calls"), json=body, headers=party.admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_topics_crud_is_for_root_units(client, party):
    listed = await client.get(api(party.root, "/topics"), headers=party.admin.headers)
    slugs = {t["slug"] for t in listed.json()}
    assert slugs == {"care", "peace", "rent", "redistribution", "transport"}
    created = await client.post(
        api(party.root, "/topics"),
        json={"slug": "climate", "title": "Klima"},
        headers=party.admin.headers,
    )
    assert created.status_code == 201
    again = await client.post(
        api(party.root, "/topics"),
        json={"slug": "climate", "title": "X"},
        headers=party.admin.headers,
    )
    assert again.status_code == 409
    off = await client.patch(
        api(party.root, f"/topics/{created.json()['id']}"),
        json={"active": False},
        headers=party.admin.headers,
    )
    assert off.json()["active"] is False
    below = await client.post(
        api(party.state, "/topics"), json={"slug": "x", "title": "X"}, headers=party.admin.headers
    )
    assert below.status_code == 403


async def test_topics_are_bounded_so_the_list_needs_no_pages(client, party):
    """A deployment has at most 100 topics (switched off ones count): the 101st is a 409."""
    listed = await client.get(
        api(party.root, "/topics"), params={"include_inactive": True}, headers=party.admin.headers
    )
    for n in range(len(listed.json()), 100):
        added = await client.post(
            api(party.root, "/topics"),
            json={"slug": f"t{n}", "title": f"Thema {n}"},
            headers=party.admin.headers,
        )
        assert added.status_code == 201, added.text
    over = await client.post(
        api(party.root, "/topics"),
        json={"slug": "one-more", "title": "X"},
        headers=party.admin.headers,
    )
    assert over.status_code == 409 and over.json()["errors"][0]["field"] == "slug"
    everything = await client.get(
        api(party.root, "/topics"), params={"include_inactive": True}, headers=party.admin.headers
    )
    assert len(everything.json()) == 100


async def test_calls_match_region_and_topics_and_i_did_it(app, client, party):
    rosa = await confirmed_activist(app, client)
    mine = await create_call(client, party, party.leipzig)
    await create_call(client, party, party.dresden, title="Dresden only")
    await create_call(
        client, party, party.state, title="Pflegestreik unterstützen", topics=["care"]
    )
    everyone = await create_call(
        client, party, party.root, title="Für alle Aktiven", kind="offline", link=None, topics=[]
    )
    await create_call(client, party, party.root, title="Vorbei", deadline="2026-01-02T00:00:00Z")
    token = await me_token(app, rosa)
    page = await client.get("/p/linksaktiv/me", params={"t": token})
    assert page.status_code == 200
    assert "Mietenwahnsinn stoppen" in page.text and "Für alle Aktiven" in page.text
    assert "Dresden only" not in page.text and "Pflegestreik" not in page.text
    assert "Vorbei" not in page.text
    did = await client.post(
        "/p/linksaktiv/me", data={"t": token, "action": "done", "call_id": str(mine["id"])}
    )
    assert did.status_code == 303
    calls = await client.get(
        api(party.leipzig, f"/calls/{mine['id']}"), headers=party.admin.headers
    )
    assert calls.json()["done"] == 1
    other = await client.get(
        api(party.dresden, f"/calls/{mine['id']}"), headers=party.admin.headers
    )
    assert other.status_code == 404
    assert everyone["topics"] == []
    # interests change on the page, and the segment filter follows them
    await client.post("/p/linksaktiv/me", data={"t": token, "action": "topics", "topics": ["care"]})
    segment = {"filters": [{"type": "linksaktiv_topic", "topics": ["care"]}]}
    preview = await client.post(
        f"/api/orgs/{party.root['id']}/segments/preview", json=segment, headers=party.admin.headers
    )
    assert preview.json()["count"] == 1
    none = {"filters": [{"type": "linksaktiv_topic", "topics": ["rent"]}]}
    preview = await client.post(
        f"/api/orgs/{party.root['id']}/segments/preview", json=none, headers=party.admin.headers
    )
    assert preview.json()["count"] == 0


async def test_most_active_by_calls_to_action_done(client, factory, party):
    calls = [await create_call(client, party, party.leipzig, title=f"C{n}") for n in range(3)]
    rosa, karl, clara = [await factory.person(party.leipzig["id"]) for _ in range(3)]
    now = utcnow()
    done = [(rosa, 0, 1), (rosa, 1, 2), (rosa, 2, 60), (karl, 0, 3), (clara, 1, 90)]
    for person, call, days_ago in done:
        await db.execute(
            "INSERT INTO linksaktiv_call_done (call_id, person_id, done_at) VALUES ({}, {}, {})",
            calls[call]["id"],
            person["id"],
            now - timedelta(days=days_ago),
        )

    async def count(**fields):
        response = await client.post(
            f"/api/orgs/{party.root['id']}/segments/preview",
            json={"where": {"type": "linksaktiv_activity", **fields}},
            headers=party.admin.headers,
        )
        assert response.status_code == 200, response.text
        return response.json()["count"]

    assert await count() == 3
    assert await count(at_least=3) == 1
    assert await count(days=30) == 2
    assert await count(days=30, at_least=2) == 1
    assert await count(after=(now - timedelta(days=70)).isoformat(), at_least=2) == 1


async def test_template_context_lists_open_calls(app, client, party):
    rosa = await confirmed_activist(app, client)
    await create_call(client, party, party.leipzig)
    set_runtime(app.state.orga)
    contexts = await app.state.orga.registry.gather(
        "template_context", person_id=rosa, org_id=party.leipzig["id"]
    )
    [context] = [c for c in contexts if "linksaktiv" in c]
    assert [c["title"] for c in context["linksaktiv"]["calls"]] == ["Mietenwahnsinn stoppen"]
    assert "/p/linksaktiv/me?t=" in context["linksaktiv"]["me_url"]


async def test_personal_page_orders_reports_exports_and_deletes(app, client, party):
    rosa = await confirmed_activist(app, client, postal_code="01067")
    await client.post(
        api(party.root, "/editions"),
        json={"title": "Zeitung", "date": "2099-01-01", "copies": 500},
        headers=party.admin.headers,
    )
    token = await me_token(app, rosa)
    page = await client.get("/p/linksaktiv/me", params={"t": token})
    assert "Zeitung" in page.text
    edition = await db.fetch_one("SELECT id FROM linksaktiv_edition")
    ordered = await client.post(
        "/p/linksaktiv/me",
        data={
            "t": token,
            "action": "order",
            "edition_id": str(edition["id"]),
            "quantity": "40",
            "street": "Hauptstraße 1",
            "city": "Dresden",
        },
    )
    assert ordered.status_code == 303 and "order-shipping" in ordered.headers["location"]
    order = await db.fetch_one("SELECT id, delivery FROM linksaktiv_order")
    await client.patch(
        api(party.root, f"/orders/{order['id']}"),
        json={"status": "approved"},
        headers=party.admin.headers,
    )
    reported = await client.post(
        "/p/linksaktiv/me",
        data={
            "t": token,
            "action": "report",
            "order_id": str(order["id"]),
            "distributed": "38",
            "postal_code": "01069",
        },
    )
    assert reported.status_code == 303
    row = await db.fetch_one("SELECT status, distributed FROM linksaktiv_order")
    assert row == {"status": "distributed", "distributed": 38}
    export = await client.get("/p/linksaktiv/me/export", params={"t": token})
    data = export.json()
    assert data["linksaktiv"]["orders"][0]["distributed"] == 38
    funnel = await client.get(api(party.root, "/funnel"), headers=party.admin.headers)
    [row] = funnel.json()["items"]
    assert (row["signed_up"], row["confirmed"], row["acted"], row["members"]) == (1, 1, 1, 0)
    not_sure = await client.post("/p/linksaktiv/me", data={"t": token, "action": "delete"})
    assert not_sure.status_code == 303
    deleted = await client.post(
        "/p/linksaktiv/me", data={"t": token, "action": "delete", "sure": "yes"}
    )
    assert deleted.status_code == 200
    assert await db.fetch("SELECT id FROM person") == []
    assert await db.fetch("SELECT id FROM linksaktiv_order") == []
    assert (await client.get("/p/linksaktiv/me", params={"t": token})).status_code == 400
    audited = await db.fetch(
        "SELECT action FROM audit_log WHERE object_type = 'person' AND object_id = {} "
        "AND action IN ('person.exported', 'person.erased') ORDER BY id",
        rosa,
    )
    assert [a["action"] for a in audited] == ["person.exported", "person.erased"]


async def test_personal_page_speaks_the_pages_language(app, client, party):
    rosa = await confirmed_activist(app, client, postal_code="01067")
    await client.post(
        api(party.root, "/editions"),
        json={"title": "Zeitung", "date": "2099-01-01", "copies": 500},
        headers=party.admin.headers,
    )
    token = await me_token(app, rosa)
    edition = await db.fetch_one("SELECT id FROM linksaktiv_edition")
    order = {"t": token, "action": "order", "edition_id": str(edition["id"])}
    address = {"street": "Hauptstraße 1", "city": "Dresden"}
    german = {"accept-language": "de"}
    for bad in ({"quantity": "viele"}, {"quantity": "3"}, {"edition_id": "0", "quantity": "40"}):
        page = await client.post("/p/linksaktiv/me", data=order | address | bad, headers=german)
        assert page.status_code == 422, bad
        assert_errors_in(page.text, "de")
    await client.post("/p/linksaktiv/me", data=order | address | {"quantity": "40"})
    page = await client.get("/p/linksaktiv/me", params={"t": token}, headers=german)
    assert "— bestellt" in page.text and "requested" not in page.text
    broken = await client.get("/p/linksaktiv/me/export", params={"t": "x.y"}, headers=german)
    assert broken.status_code == 400 and "Link abgelaufen" in broken.text


async def test_unsubscribe_withdraws_consent(app, client, party):
    rosa = await confirmed_activist(app, client)
    token = await me_token(app, rosa)
    await client.post("/p/linksaktiv/me", data={"t": token, "action": "unsubscribe"})
    row = await db.fetch_one(
        "SELECT status FROM consent_event WHERE person_id = {} ORDER BY id DESC LIMIT 1", rosa
    )
    assert row["status"] == "withdrawn"
    activist = await db.fetch_one("SELECT status FROM linksaktiv_activist")
    assert activist["status"] == "unsubscribed"


async def test_forged_or_foreign_tokens_open_nothing(app, client, party):
    rosa = await confirmed_activist(app, client)
    set_runtime(app.state.orga)
    wrong_purpose = await person_token(CONFIRM_PURPOSE, rosa)
    assert (await client.get("/p/linksaktiv/me", params={"t": wrong_purpose})).status_code == 400
    assert (await client.get("/p/linksaktiv/me", params={"t": "x.y"})).status_code == 400


async def test_merge_moves_interests(app, client, factory, party):
    rosa = await confirmed_activist(app, client)
    other = await factory.person(party.leipzig["id"], email="other@example.org")
    from plugins.linksaktiv.gdpr import merge

    await merge(other["id"], rosa)
    rows = await db.fetch("SELECT person_id FROM linksaktiv_interest")
    assert rows == [{"person_id": other["id"]}]
    activist = await db.fetch_one("SELECT person_id FROM linksaktiv_activist")
    assert activist["person_id"] == other["id"]


@pytest.mark.parametrize("role", ["viewer", "caller"])
async def test_roles_without_linksaktiv_view_see_no_activists(client, factory, party, role):
    user = await factory.user(role, party.leipzig["id"])
    response = await client.get(api(party.leipzig, "/activists"), headers=user.headers)
    assert response.status_code == 403


async def test_district_sees_only_its_subtree(app, client, factory, party):
    await confirmed_activist(app, client)  # Leipzig
    await confirmed_activist(app, client, email="k@example.org", postal_code="01067")  # Dresden
    dresden_admin = await factory.user("organizer", party.dresden["id"])
    mine = await client.get(api(party.dresden, "/activists"), headers=dresden_admin.headers)
    assert [a["postal_code"] for a in mine.json()["items"]] == ["01067"]
    leipzig = await client.get(api(party.leipzig, "/activists"), headers=dresden_admin.headers)
    assert leipzig.status_code == 404
    state = await client.get(api(party.state, "/activists"), headers=party.admin.headers)
    assert len(state.json()["items"]) == 2


class Agenda:
    """A stand-in events module: it answers ``person_summary`` and nothing else."""

    __name__ = "agenda_test_module"

    @staticmethod
    @hookimpl
    def register_module():
        return Module(name="agenda", title="Agenda")

    @staticmethod
    @hookimpl
    async def person_summary(person_id, org_id):
        return {"Sommerfest Leipzig": "angemeldet"}


class TestMyEventsThroughTheHook:
    @pytest.fixture
    def orga_plugins(self):
        return [Agenda()]

    @pytest.fixture
    def orga_overrides(self):
        return {
            "modules": ("linksaktiv", "agenda"),
            "module_config": {"linksaktiv": {"events_module": "agenda"}},
        }

    async def test_personal_page_shows_the_events_modules_summary(
        self, app, client, factory, party
    ):
        rosa = await confirmed_activist(app, client)
        page = await client.get("/p/linksaktiv/me", params={"t": await me_token(app, rosa)})
        assert "Sommerfest Leipzig" not in page.text  # the module is off for Rosa's unit
        await factory.enable(party.state["id"], "agenda")
        page = await client.get("/p/linksaktiv/me", params={"t": await me_token(app, rosa)})
        assert "Meine Termine" in page.text and "Sommerfest Leipzig" in page.text


async def test_a_naive_deadline_beside_an_aware_start_is_a_422(client, party):
    """Comparing the two used to raise TypeError (a 500); every time in a request body must
    carry its offset."""
    body = {"title": "T", "kind": "offline", "starts_at": "2026-01-01T00:00:00Z"}
    for field, value in (("deadline", "2026-02-01T00:00:00"), ("starts_at", "2026-01-01T00:00:00")):
        response = await client.post(
            api(party.leipzig, "/calls"), json=body | {field: value}, headers=party.admin.headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field


async def test_non_numeric_ids_in_the_personal_page_forms_show_the_page_with_the_error(
    app, client, party
):
    rosa = await confirmed_activist(app, client)
    token = await me_token(app, rosa)
    for form in (
        {"action": "done", "call_id": "abc"},
        {"action": "order", "edition_id": "1 OR 1=1"},
        {"action": "report", "order_id": "x"},
        {"action": "report", "order_id": "99999999999999999999"},
    ):
        page = await client.post("/p/linksaktiv/me", data={"t": token, **form})
        assert page.status_code == 422, (form, page.text[:300])
        assert page.headers["content-type"].startswith("text/html")
        assert "ganze Zahl" in page.text or "außerhalb des erlaubten Bereichs" in page.text


async def test_deeply_nested_json_on_join_is_a_400(client, party):
    response = await client.post(
        "/p/linksaktiv/api/join",
        content="[" * 100_000 + "]" * 100_000,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == "body"


async def test_funnel_pages_by_month_unit_and_source(client, factory, party):
    """Keyset pages of the funnel give the rows of the one-page answer, in order; a forged
    cursor is a 422 naming it."""
    for month in (1, 2, 3):
        for unit in (party.leipzig, party.dresden):
            for source in ("web", "form", "web"):
                person = await factory.person(unit["id"])
                await Activist.insert(
                    Activist(
                        person=person["id"],
                        source=source,
                        created_at=datetime(2026, month, 15, tzinfo=UTC),
                    )
                ).run()
    url = api(party.root, "/funnel")
    whole = (await client.get(url, headers=party.admin.headers)).json()
    assert whole["next_cursor"] is None and len(whole["items"]) == 12
    assert sum(r["signed_up"] for r in whole["items"]) == 18
    seen, cursor = [], None
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params, headers=party.admin.headers)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == whole["items"]
    forged = await client.get(
        url, params={"cursor": "WyIyMDI2LTEzIiwxLCJ3ZWIiXQ"}, headers=party.admin.headers
    )
    assert forged.status_code == 422 and forged.json()["errors"][0]["field"] == "cursor"
