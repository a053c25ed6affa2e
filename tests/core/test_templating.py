"""Templates: the user sandbox with limits and line numbers, translations."""

from __future__ import annotations

import pytest

from core.i18n import best_locale, gettext
from core.templating import TemplateProblem, render_user_template


def test_user_template_renders_person_fields():
    out = render_user_template("Hallo {{ person.first_name }}!", {"person": {"first_name": "Åsa"}})
    assert out == "Hallo Åsa!"


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("Zeile eins\nZeile zwei {% if %}\nZeile drei", 2),
        ("eins\nzwei\n{{ nope.missing }}", 3),
        ("eins\n{% for x in items %}{{ x }}{% endfor %}\n{{ 1 / 0 }}", 3),
    ],
)
def test_errors_carry_the_template_line(source, line):
    with pytest.raises(TemplateProblem) as info:
        render_user_template(source, {"person": {}, "items": [1]})
    assert info.value.line == line


def test_sandbox_blocks_attribute_escapes():
    with pytest.raises(TemplateProblem):
        render_user_template("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})


def test_output_and_time_limits():
    with pytest.raises(TemplateProblem, match="longer than 1000 characters"):
        render_user_template("{% for i in range(5000) %}xx{% endfor %}", {}, max_chars=1000)
    with pytest.raises(TemplateProblem, match="took longer"):
        render_user_template(
            "{% for i in range(100000) %}{% for j in range(1000) %}{% endfor %}.{% endfor %}",
            {},
            max_seconds=0.05,
        )


def test_locale_negotiation_and_catalogs():
    assert best_locale("sv-SE,sv;q=0.9,en;q=0.5", "de") == "sv"
    assert best_locale("fr-FR, en;q=0.3", "de") == "en"
    assert best_locale(None, "de") == "de"
    assert gettext("Permission denied", "de") == "Keine Berechtigung"
    assert gettext("Permission denied", "sv") == "Åtkomst nekad"
    assert gettext("Permission denied", "en") == "Permission denied"


async def test_problem_titles_follow_accept_language(client):
    german = await client.get("/api/me", headers={"Accept-Language": "de"})
    assert german.json()["title"] == "Anmeldung erforderlich"
    english = await client.get("/api/me", headers={"Accept-Language": "en-GB"})
    assert english.json()["title"] == "Authentication required"
