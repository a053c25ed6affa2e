"""``orga demo``: a realistic demo deployment, created once."""

from __future__ import annotations

import random
import secrets
from typing import Any

from faker import Faker

from core import db
from core.auth.bootstrap import add_user
from core.orgs.services import create_unit, set_module
from core.orgs.tables import OrgUnit
from core.people.phones import normalize_phone
from core.people.tables import ConsentEvent, Person, PersonPhone

__all__ = ["DEMO_ADMIN", "create_demo"]

DEMO_ADMIN = "admin@demo.orga.invalid"
_STATES = {
    "Berlin": (["Friedrichshain-Kreuzberg", "Neukölln", "Pankow"], "10"),
    "Brandenburg": (["Potsdam", "Cottbus"], "14"),
    "Sachsen": (["Leipzig", "Dresden", "Chemnitz"], "04"),
}
_STATUSES = ["member"] * 5 + ["sympathizer"] * 3 + ["contact"] * 2 + ["former_member"]
_SOURCES = ["info_stand", "door_to_door", "event", "social_media", "web_form", "import", "call"]


def _password() -> str:
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


async def create_demo(
    modules: list[str], *, people: int = 300, if_empty: bool = False, seed: int = 7
) -> dict[str, Any] | None:
    """Create the demo (federal unit, states, districts, admin, people, modules on).

    Returns ``None`` when demo data (or, with ``if_empty``, any unit) already exists.
    """
    if await OrgUnit.exists().run() and (
        if_empty or await OrgUnit.exists().where(OrgUnit.kind == "federal").run()
    ):
        return None
    fake = Faker("de_DE")
    fake.seed_instance(seed)
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    password = _password()
    async with db.transaction():
        federal = await create_unit("Bundesverband (Demo)", "federal", None)
        districts: list[tuple[int, str]] = []
        count = 1
        for state_name, (district_names, prefix) in _STATES.items():
            state = await create_unit(f"Landesverband {state_name}", "state", federal["id"])
            count += 1
            for name in district_names:
                unit = await create_unit(f"Kreisverband {name}", "district", state["id"])
                districts.append((unit["id"], prefix))
                count += 1
        for module in modules:
            await set_module(federal["id"], module, True)
        admin = await add_user(DEMO_ADMIN, "Demo Admin", password, federal["id"], "admin")
        for _ in range(people):
            await _demo_person(fake, rng, districts)
    return {"units": count, "people": people, "email": admin["email"], "password": password}


async def _demo_person(fake: Faker, rng: random.Random, districts: list[tuple[int, str]]) -> None:
    org_id, prefix = rng.choice(districts)
    first, last = fake.first_name(), fake.last_name()
    rows = await Person.insert(
        Person(
            first_name=first,
            last_name=last,
            email=f"{first}.{last}.{rng.randrange(10**6)}@example.org".lower().replace(" ", ""),
            street=fake.street_address(),
            postal_code=f"{prefix}{rng.randrange(1000):03d}",
            city=fake.city(),
            country="DE",
            language="de",
            member_status=rng.choice(_STATUSES),
            membership_number=str(rng.randrange(10**7, 10**8)),
            home_org=org_id,
            source=rng.choice(_SOURCES),
        )
    ).run()
    person_id = rows[0]["id"]
    phone = normalize_phone(fake.phone_number(), "DE")
    if phone:
        await PersonPhone.insert(PersonPhone(person=person_id, e164=phone)).run()
    for channel in ("email", "phone"):
        if rng.random() < 0.7:
            await ConsentEvent.insert(
                ConsentEvent(
                    person=person_id,
                    channel=channel,
                    status="granted",
                    source="import",
                    wording="Demo: consent recorded at sign-up",
                )
            ).run()
