"""Property tests of the per-person rendering: whatever a person's data holds, it lands in the
mail as text (escaped in HTML, never as markup, never as a layout placeholder)."""

from __future__ import annotations

import html

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.context import set_runtime
from plugins.mailings.render import Renderer

NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
) | st.sampled_from(["<script>alert(1)</script>", "@@orga-slot:body_html@@", "Zoë & Åsa", "*x*"])


async def test_person_data_never_becomes_markup_or_a_placeholder(app, client):
    runtime = app.state.orga
    set_runtime(runtime)
    renderer = Renderer(
        templates=runtime.templates,
        public_url="https://orga.example.org",
        mailing={
            "id": 7,
            "subject": "Hallo {{ person.first_name }}",
            "body": "Liebe:r {{ person.first_name }},\n\nkomm vorbei.\n",
            "cta_url": "https://example.org/demo",
            "cta_label": None,
            "sender_address": "kv@example.org",
        },
        org={"id": 1, "name": "KV <Leipzig>", "kind": "district"},
    )

    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(first_name=NAMES)
    def check(first_name: str) -> None:
        person = {"id": 1, "first_name": first_name, "last_name": "M", "email": "a@b.org"}
        mail = renderer.render(person, 42).mail
        assert mail.subject == " ".join(f"Hallo {first_name}".split())
        assert f"Liebe:r {first_name}," in mail.text  # the text part is the Markdown as written
        assert "@@orga-slot:" not in mail.text.replace(first_name, "")
        assert "@@orga-slot:" not in (mail.html or "").replace(html.escape(first_name), "")
        assert "<script>" not in (mail.html or "")
        assert "KV &lt;Leipzig&gt;" in (mail.html or "")
        assert mail.html.count("/p/mailings/unsubscribe/") == 1

    check()
