"""Roles configured per deployment (``[orga.roles]`` in orga.toml, issue #27 item 6): a
built-in role's permissions changed, additional roles with a rank, all checked at start-up
against the permissions core and the loaded modules declare."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core import db
from core.app import create_app
from core.auth.roles import build_roles
from core.context import set_runtime
from core.modules import load_modules
from core.settings import SettingsError, load_settings
from tests.core.console.helpers import console_login, csrf_of

KEY = "k" * 40
DISTRICT_LEAD = {
    "rank": 25,
    "label": "Kreisvorstand",
    "permissions": ["people.view", "linksaktiv.referrals"],
}


def settings_from(tmp_path, toml: str):
    config = tmp_path / "orga.toml"
    config.write_text(toml)
    environ = {"ORGA_CONFIG": str(config), "ORGA_SECRET_KEY": KEY, "ORGA_VAR_DIR": str(tmp_path)}
    return load_settings(environ=environ)


def test_a_good_config_changes_a_builtin_role_and_adds_one(tmp_path):
    settings = settings_from(
        tmp_path,
        "[orga.roles.organizer]\n"
        'add = ["linksaktiv.referrals"]\nremove = ["people.export"]\n'
        "[orga.roles.viewer]\n"
        'permissions = ["people.view"]\n'
        "[orga.roles.district_lead]\n"
        'rank = 25\nlabel = "Kreisvorstand"\npermissions = ["people.view"]\n',
    )
    assert "roles" not in settings.module_config
    roles = build_roles(settings.roles, load_modules(settings).permissions)
    defaults = build_roles({}, load_modules(settings).permissions)
    assert roles["organizer"] == defaults["organizer"] - {"people.export"} | {
        "linksaktiv.referrals"
    }
    assert roles["viewer"] == {"people.view"}
    assert roles["district_lead"] == {"people.view"}
    assert roles.rank("district_lead") == 25 and roles.labels == {"district_lead": "Kreisvorstand"}
    assert roles.grantable() == ["admin", "organizer", "district_lead", "caller", "viewer"]
    assert roles["admin"] == defaults["admin"]  # built-in defaults stay as they are


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('[orga.roles.organizer]\nadd = ["linksaktiv.referal"]\n', "orga.roles.organizer.add"),
        ('[orga.roles.x1]\nrank = 5\npermissions = ["nope"]\n', "orga.roles.x1.permissions"),
        ('[orga.roles.organizer]\npermissions = "x"\n', "orga.roles.organizer.permissions"),
        ("[orga.roles.organizer]\ngrant = []\n", "orga.roles.organizer"),
        ('[orga.roles.lead]\npermissions = ["people.view"]\n', "orga.roles.lead.rank"),
        ("[orga.roles.lead]\nrank = 99\n", "orga.roles.lead.rank"),
        ("[orga.roles.admin]\nrank = 50\n", "orga.roles.admin.rank"),
        ("[orga.roles.Lead]\nrank = 5\n", "orga.roles.Lead"),
        ("[orga]\nroles = 3\n", "orga.roles"),
    ],
)
def test_a_wrong_roles_table_stops_the_start_naming_the_key(tmp_path, toml, named):
    with pytest.raises(SettingsError) as info:
        create_app(settings_from(tmp_path, toml))
    assert str(info.value).startswith(named + ":"), str(info.value)


def test_the_orga_command_refuses_to_start_with_an_unknown_permission(tmp_path):
    config = tmp_path / "orga.toml"
    config.write_text('[orga.roles.organizer]\nadd = ["linksaktiv.referal"]\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORGA_")}
    env.update(ORGA_CONFIG=str(config), ORGA_VAR_DIR=str(tmp_path), ORGA_ENV="development")
    result = subprocess.run(
        [sys.executable, "-m", "core", "modules", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        "orga: orga.roles.organizer.add: unknown permission 'linksaktiv.referal'"
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("orga_overrides", [{"roles": {"district_lead": DISTRICT_LEAD}}])
async def test_an_additional_role_is_given_on_the_members_page_and_by_the_api(app, client, factory):
    set_runtime(app.state.orga)
    root = await factory.org("Bund", kind="federal")
    leipzig = await factory.org("KV Leipzig", parent=root["id"])
    admin = await factory.user("admin", leipzig["id"])
    await console_login(client, admin.email)
    base = f"/app/orgs/{leipzig['id']}/admin/members"
    page = await client.get(base)
    assert '<option value="district_lead">Kreisvorstand</option>' in page.text
    added = await client.post(
        base,
        data={"email": "lead@example.org", "role": "district_lead", "_csrf": csrf_of(page.text)},
    )
    assert added.status_code == 303, added.text
    # the API knows it too, and names it in the list of roles when a wrong one is asked for
    other = await client.post(
        f"/api/orgs/{leipzig['id']}/members",
        json={"email": "second@example.org", "role": "district_lead"},
        headers=admin.headers,
    )
    assert other.status_code == 202, other.text
    wrong = await client.post(
        f"/api/orgs/{leipzig['id']}/members",
        json={"email": "third@example.org", "role": "treasurer"},
        headers=admin.headers,
    )
    assert wrong.status_code == 422 and "district_lead" in wrong.text
    held = await db.fetch(
        "SELECT u.email FROM role_assignment ra JOIN orga_user u ON u.id = ra.user_id "
        "WHERE ra.role = 'district_lead' ORDER BY u.email"
    )
    assert [r["email"] for r in held] == ["lead@example.org", "second@example.org"]
    # the role's permissions hold for its users, and only those
    lead = await factory.user("district_lead", leipzig["id"])
    people = await client.get(f"/api/orgs/{leipzig['id']}/people", headers=lead.headers)
    assert people.status_code == 200
    audit = await client.get(f"/api/orgs/{leipzig['id']}/audit", headers=lead.headers)
    assert audit.status_code == 403
