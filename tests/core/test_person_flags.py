"""``person.has_phone`` and ``person.has_email`` match the data, whatever wrote it (#22)."""

from __future__ import annotations

from core import db
from core.context import set_runtime
from core.demo import IMPORTED, create_demo
from core.people import imports
from core.people.schemas import ConsentIn
from core.people.signup import create_pending_person
from core.people.tables import PersonImport

TRUTH = (
    "SELECT p.id, p.email, p.has_phone, p.has_email, EXISTS (SELECT 1 FROM person_phone ph "
    "WHERE ph.person_id = p.id AND ph.valid) AS phone_exists FROM person p ORDER BY p.id"
)


async def flags() -> dict[int, tuple[bool, bool]]:
    """Each person's (has_phone, has_email), after checking both against the data."""
    rows = await db.fetch(TRUTH)
    wrong = [
        r["id"]
        for r in rows
        if bool(r["has_phone"]) != bool(r["phone_exists"])
        or bool(r["has_email"]) != bool(r["email"])
    ]
    assert wrong == [], f"flags disagree with the data for people {wrong}"
    return {r["id"]: (bool(r["has_phone"]), bool(r["has_email"])) for r in rows}


async def test_flags_follow_every_way_people_are_written(app, client, factory):
    root = await factory.org("Verein", kind="association")  # not federal: the demo adds one
    admin = await factory.user("admin", root["id"])
    people = f"/api/orgs/{root['id']}/people"

    async def api(**fields):
        response = await client.post(f"{people}/", json=fields, headers=admin.headers)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    both = await api(last_name="Beides", email="beides@example.org", phones=["030 1234567"])
    neither = await api(last_name="Nichts")
    assert (await flags())[both] == (True, True) and (await flags())[neither] == (False, False)
    patched = await client.patch(
        f"{people}/{both}", json={"phones": [], "email": None}, headers=admin.headers
    )
    assert patched.status_code == 200, patched.text
    await client.patch(
        f"{people}/{neither}", json={"phones": ["0151 2345678"]}, headers=admin.headers
    )
    assert (await flags())[both] == (False, False) and (await flags())[neither] == (True, False)

    # import: new people (COPY on PostgreSQL) and an existing one given a number
    options = imports.ImportOptions(
        mapping={"Nachname": "last_name", "E-Mail": "email", "Telefon": "phone"},
        match_by=["email"],
        strategy="update_empty",
    )
    await api(last_name="Alt", email="alt@example.org")
    rows = iter(
        [
            ["Neu", "neu@example.org", "0171 2345678"],
            ["Ohne", "", ""],
            ["Alt", "alt@example.org", "030 7654321"],
        ]
    )
    [job] = await PersonImport.insert(
        PersonImport(org=root["id"], filename="x.csv", format="csv", stored_path="", columns=[])
    ).run()
    await imports.run_import(
        job["id"],
        root["id"],
        root["path"],
        imports.check_rows(["Nachname", "E-Mail", "Telefon"], rows, options, "DE"),
        options,
    )
    by_name = {r["last_name"]: r["id"] for r in await db.fetch("SELECT id, last_name FROM person")}
    current = await flags()
    assert current[by_name["Neu"]] == (True, True)
    assert current[by_name["Ohne"]] == (False, False)
    assert current[by_name["Alt"]] == (True, True)

    # a public form: a pending person
    async with db.transaction():
        pending = await create_pending_person(
            home_org_id=root["id"],
            first_name="Paula",
            last_name="Public",
            email="paula@example.org",
            phone="0160 1234567",
            region="DE",
            source="web_form",
            consents=[ConsentIn(channel="email", status="granted", source="web_form")],
        )
    assert (await flags())[pending] == (True, True)

    # a merge: the kept person takes the merged one's number and address
    merged = await client.post(
        f"{people}/merge",
        json={"kept_id": by_name["Ohne"], "merged_ids": [by_name["Neu"]]},
        headers=admin.headers,
    )
    assert merged.status_code == 201, merged.text
    assert (await flags())[by_name["Ohne"]] == (True, True)

    # any other writer of person_phone (a caller's "wrong number", a module, a script)
    await db.execute("UPDATE person_phone SET valid = false WHERE person_id = {}", pending)
    assert (await flags())[pending] == (False, True)
    await db.execute("DELETE FROM person_phone WHERE person_id = {}", by_name["Alt"])
    assert (await flags())[by_name["Alt"]] == (False, True)

    # the demo
    set_runtime(app.state.orga)
    before = set(await flags())
    assert await create_demo(app.state.orga.registry, people=40) is not None
    demo = {pid: flag for pid, flag in (await flags()).items() if pid not in before}
    assert len(demo) == 40 + IMPORTED  # made, and imported
    with_phone = sum(phone for phone, _ in demo.values())
    assert with_phone >= 30, f"only {with_phone} of 40 demo people have a number"
