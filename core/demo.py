"""``orga demo``: a realistic demo deployment, created once.

A federal unit, three states and eight districts, each district covering its real postal
codes (two have an office where newspapers are picked up); an admin and an organizer; people
with German names, addresses, mobile numbers, tags and consent, each created through the
people service as the API creates them. Then every enabled module adds what a visitor needs to
see it in use (hook ``demo_content``: a call assignment with callers, events with sign-ups, a
mailing draft, …). Every password is printed once by ``orga demo``.
"""

from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import db
from core.auth.actor import Actor
from core.auth.bootstrap import add_user
from core.context import current_runtime, set_acting
from core.orgs.postcodes import set_postcodes
from core.orgs.services import create_unit, set_module, update_unit
from core.orgs.tables import OrgUnit
from core.people.phones import normalize_phone
from core.people.schemas import ConsentIn, PersonIn
from core.people.services import create_person
from core.people.tables import CustomField, Tag
from core.tables import utcnow

if TYPE_CHECKING:
    from datetime import datetime

    from faker import Faker

    from core.modules import ModuleRegistry

__all__ = ["DEMO_ADMIN", "IMPORTED", "Demo", "Login", "create_demo"]

DEMO_ADMIN = "admin@demo.orga.invalid"
DEMO_ORGANIZER = "orga-leipzig@demo.orga.invalid"
DEMO_ROOT = "Bundesverband (Demo)"


@dataclass(frozen=True)
class _District:
    name: str
    city: str
    codes: tuple[tuple[str, str], ...]
    office: str | None = None


_STATES = {
    "Berlin": (
        _District(
            "Friedrichshain-Kreuzberg",
            "Berlin",
            (("10243", "10249"), ("10961", "10999")),
            "Weidenweg 17, 10249 Berlin",
        ),
        _District("Neukölln", "Berlin", (("12043", "12059"),)),
        _District("Pankow", "Berlin", (("13086", "13189"),)),
    ),
    "Brandenburg": (
        _District("Potsdam", "Potsdam", (("14467", "14482"),)),
        _District("Cottbus", "Cottbus", (("03042", "03055"),)),
    ),
    "Sachsen": (
        _District("Leipzig", "Leipzig", (("04103", "04357"),), "Braustraße 15, 04107 Leipzig"),
        _District("Dresden", "Dresden", (("01067", "01328"),)),
        _District("Chemnitz", "Chemnitz", (("09111", "09247"),)),
    ),
}
_STATUSES = ["member"] * 5 + ["sympathizer"] * 3 + ["contact"] * 2 + ["former_member"]
_SOURCES = ["info_stand", "door_to_door", "event", "social_media", "web_form", "import", "call"]
_TAGS = ["Aktiv", "Newsletter", "Gewerkschaft", "Mieterinitiative", "Plakatieren", "Jugend"]
_MOBILE = ["151", "152", "157", "160", "162", "170", "171", "172", "176", "177", "179"]
_WORDING = "Demo: Einwilligung beim Eintritt erteilt"
_WORKING_GROUPS = ["Mieten", "Pflege", "Frieden", "Klima", "Bildung"]
_CUSTOM_FIELDS = (  # key, label, kind, choices
    ("ag", "Arbeitsgemeinschaft", "choice", _WORKING_GROUPS),
    ("monatsbeitrag", "Monatsbeitrag in Euro", "number", None),
)
# organizers and a second admin in the subunits: (unit, role, e-mail, what to try as them)
_TEAM = (
    ("Sachsen", "admin", "admin-sachsen@demo.orga.invalid", "the state of Saxony"),
    ("Berlin", "organizer", "orga-berlin@demo.orga.invalid", "the state of Berlin"),
    ("Dresden", "organizer", "orga-dresden@demo.orga.invalid", "the Dresden district only"),
)
# a module switched off below the federal unit, so the switches have something to show
_SWITCHED_OFF = (("Cottbus", "mailings"),)
# the demo's finished import: new people for the Leipzig district, some rows with errors
_IMPORT_NAME = "neumitglieder-leipzig.csv"
_IMPORT_ROWS = 24
_REFUSED_ROW = 7  # its e-mail address cannot be read
IMPORTED = _IMPORT_ROWS - 1  # people the import adds to the ``people`` made directly


def _password() -> str:
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


@dataclass(frozen=True)
class Login:
    """A demo user whose password ``orga demo`` prints once."""

    role: str
    email: str
    password: str
    note: str = ""


@dataclass
class Demo:
    """What a module's ``demo_content`` hook gets: the demo's units, people and helpers.

    ``districts`` are unit rows (``id``, ``name``, ``path``, ``office``); ``people`` the ids
    of the people created, in creation order; ``rng`` and ``fake`` (German Faker) are seeded,
    so a demo comes out the same every time.
    """

    federal: dict[str, Any]
    states: list[dict[str, Any]]
    districts: list[dict[str, Any]]
    people: list[int]
    admin_id: int
    now: datetime
    rng: random.Random
    fake: Faker
    logins: list[Login] = field(default_factory=list)

    async def add_user(
        self, email: str, display_name: str, org_id: int, role: str, note: str
    ) -> int:
        """A user with ``role`` on unit ``org_id`` and a fresh password, which ``orga demo``
        prints with ``note`` (what to try as them); returns the user id."""
        password = _password()
        user = await add_user(email, display_name, password, org_id, role)
        self.logins.append(Login(role, email, password, note))
        return user["id"]

    def district(self, name: str) -> dict[str, Any]:
        """The district unit called ``Kreisverband <name>``."""
        return next(d for d in self.districts if d["name"] == f"Kreisverband {name}")


async def create_demo(
    registry: ModuleRegistry, *, people: int = 300, if_empty: bool = False, seed: int = 7
) -> dict[str, Any] | None:
    """Create the demo: units, users, people, every module on and each module's content.

    Returns what to tell the operator (``units``, ``people``, ``logins``, ``notes``), or
    ``None`` when demo data (or, with ``if_empty``, any unit) already exists.
    """
    if await OrgUnit.exists().run() and (
        if_empty or await OrgUnit.exists().where(OrgUnit.name == DEMO_ROOT).run()
    ):
        return None
    from faker import Faker  # only here: it takes a while to import

    fake = Faker("de_DE")
    fake.seed_instance(seed)
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    async with db.transaction():
        federal = await create_unit(DEMO_ROOT, "Bundesverband", None)
        states, districts, specs = [], [], {}
        for state_name, members in _STATES.items():
            state = await create_unit(f"Landesverband {state_name}", "Landesverband", federal["id"])
            states.append(state)
            for spec in members:
                unit = await create_unit(f"Kreisverband {spec.name}", "Kreisverband", state["id"])
                await set_postcodes(unit["id"], list(spec.codes))
                if spec.office:
                    office = {"address": spec.office, "opening_hours": "Di und Do 16 bis 19 Uhr"}
                    unit = await update_unit(unit["id"], {"office": office})
                districts.append(unit)
                specs[unit["id"]] = spec
        for module in registry.modules:
            await set_module(federal["id"], module, True)
        demo = Demo(
            federal=federal,
            states=states,
            districts=districts,
            people=[],
            admin_id=0,
            now=utcnow(),
            rng=rng,
            fake=fake,
        )
        demo.admin_id = await demo.add_user(
            DEMO_ADMIN, "Demo Admin", federal["id"], "admin", "everything, everywhere"
        )
        # from here on the demo's work is the admin's: the audit log says who did what
        set_acting(Actor(demo.admin_id, None, "demo", [], {}))  # type: ignore[arg-type]
        leipzig = demo.district("Leipzig")
        await demo.add_user(
            DEMO_ORGANIZER, fake.name(), leipzig["id"], "organizer", "the Leipzig district only"
        )
        await _team(demo)
        for unit_name, module in _SWITCHED_OFF:
            if module in registry.modules:
                await set_module(demo.district(unit_name)["id"], module, False)
        for name in _TAGS:
            await Tag.insert(Tag(org=federal["id"], name=name)).run()
        for key, label, kind, choices in _CUSTOM_FIELDS:
            await CustomField.insert(
                CustomField(org=federal["id"], key=key, label=label, kind=kind, choices=choices)
            ).run()
        for number in range(people):
            unit = rng.choice(districts)
            demo.people.append(await _demo_person(fake, rng, unit, specs[unit["id"]], number))
        notes = [
            line for lines in await registry.gather("demo_content", demo=demo) for line in lines
        ]
    notes.append(await _finished_import(demo, specs))
    set_acting(None)
    return {
        "units": 1 + len(states) + len(districts),
        "people": people,
        "logins": demo.logins,
        "notes": notes,
    }


async def _demo_person(
    fake: Faker, rng: random.Random, unit: dict[str, Any], spec: _District, number: int
) -> int:
    """One person of district ``unit``, created by the people service."""
    first, last = fake.first_name(), fake.last_name()
    low, high = rng.choice(spec.codes)
    status = rng.choice(_STATUSES)
    local = _local_part(first, last)
    phones = (
        [f"0{rng.choice(_MOBILE)} {rng.randrange(10**7, 10**8)}"] if rng.random() < 0.85 else []
    )
    if rng.random() < 0.15:
        phones.append(fake.phone_number())
    data = PersonIn(
        first_name=first,
        last_name=last,
        email=f"{local}.{number}@example.org" if rng.random() < 0.9 else None,
        phones=[p for p in phones if normalize_phone(p, "DE")],  # Faker writes some oddly
        street=fake.street_address(),
        postal_code=f"{rng.randint(int(low), int(high)):05d}",
        city=spec.city,
        country="DE",
        language="de",
        member_status=status,  # type: ignore[arg-type]
        membership_number=(
            str(rng.randrange(10**7, 10**8)) if status in ("member", "former_member") else None
        ),
        source=rng.choice(_SOURCES),  # type: ignore[arg-type]
        tags=rng.sample(_TAGS, rng.choice([0, 0, 1, 1, 2])),
        custom_fields=_custom_values(rng, status),
        do_not_contact=rng.random() < 0.02,
        consents=[
            ConsentIn(channel=channel, status="granted", source="import", wording=_WORDING)  # type: ignore[arg-type]
            for channel in ("email", "phone")
            if rng.random() < 0.7
        ],
    )
    return await create_person(unit["id"], unit["path"], data, "DE")


def _local_part(first: str, last: str) -> str:
    """``first.last`` in lower case for an e-mail address (no blanks, no double dots)."""
    return re.sub(r"[.\s]+", ".", f"{first}.{last}".lower()).strip(".")


def _custom_values(rng: random.Random, status: str) -> dict[str, Any]:
    """Values of the demo's custom fields: a working group for some, a fee for members."""
    values: dict[str, Any] = {}
    if rng.random() < 0.4:
        values["ag"] = rng.choice(_WORKING_GROUPS)
    if status == "member":
        values["monatsbeitrag"] = rng.choice([5, 8, 10, 15, 20, 30])
    return values


async def _team(demo: Demo) -> None:
    """A second admin and organizers on states and districts (the units and roles pages)."""
    for unit_name, role, email, note in _TEAM:
        unit = next(
            (u for u in [*demo.states, *demo.districts] if u["name"].endswith(unit_name)), None
        )
        if unit is not None:
            await demo.add_user(email, demo.fake.name(), unit["id"], role, note)


async def _finished_import(demo: Demo, specs: dict[int, _District]) -> str:
    """A CSV of new people from Leipzig imported into the federal unit (each one lands in the
    district covering their postal code), uploaded, confirmed and run as the console does it;
    a row with an e-mail address that cannot be read is refused."""
    from litestar.datastructures import UploadFile

    from core.people import imports
    from core.people.imports import run_import_job

    leipzig, unit = demo.district("Leipzig"), demo.federal
    low, high = specs[leipzig["id"]].codes[0]
    lines = ["Vorname;Nachname;E-Mail;Telefon;PLZ;Ort;Schlagworte"]
    for number in range(_IMPORT_ROWS):
        first, last = demo.fake.first_name(), demo.fake.last_name()
        email = f"{_local_part(first, last)}.i{number}@example.org"
        phone = f"0{demo.rng.choice(_MOBILE)} {demo.rng.randrange(10**7, 10**8)}"
        if number == _REFUSED_ROW:
            email = "keine-adresse"
        code = f"{demo.rng.randint(int(low), int(high)):05d}"
        lines.append(f"{first};{last};{email};{phone};{code};Leipzig;Infostand")
    data = ("\n".join(lines) + "\n").encode()
    settings = current_runtime().settings
    file = UploadFile(content_type="text/csv", filename=_IMPORT_NAME, file_data=data)
    import_id, _preview = await imports.upload(file, unit["id"], demo.admin_id, settings, "DE")
    row = await imports.load_import(import_id, unit["id"])
    mapping = imports.suggest_mapping(list(db.json_value(row["columns"])))
    options = imports.ImportOptions(mapping=mapping, default_member_status="sympathizer")
    await imports.confirm(row, options, unit["id"], unit["path"], "DE")
    await run_import_job(
        {
            "import_id": import_id,
            "org_id": unit["id"],
            "org_path": unit["path"],
            "region": "DE",
        }
    )
    done = await db.fetch_one(
        "SELECT created_count, error_count FROM person_import WHERE id = {}", import_id
    )
    return (
        f"import: '{_IMPORT_NAME}', {done['created_count']} people "
        f"created, rows refused: {done['error_count']}"
    )
