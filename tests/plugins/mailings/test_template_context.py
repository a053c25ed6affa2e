"""Variables that other modules add through ``template_context`` reach mailing bodies."""

from __future__ import annotations

import pytest

from core import hookimpl
from tests.plugins.mailings.conftest import add_people, draft, drain


class LocalEvents:
    """A stand-in module that offers upcoming events per person."""

    @hookimpl
    def register_module(self):
        from core import Module

        return Module(name="localevents", title="Local events")

    @hookimpl
    async def template_context(self, person_id, org_id):
        return {"events": [{"title": f"Infostand {person_id}", "url": "https://example.org/e/1"}]}


@pytest.fixture
def orga_plugins():
    return [LocalEvents()]


async def test_module_variables_render_in_preview_and_sent_mail(client, unit, app, smtp_sink):
    [person_id] = await add_people(unit["org"]["id"], 1)
    body = "Termine:\n\n{% for e in events %}* [{{ e.title }}]({{ e.url }})\n{% endfor %}"
    mailing = (
        await client.post(
            unit["base"] + "/",
            json=draft(unit["org"]["id"], body=body),
            headers=unit["admin"].headers,
        )
    ).json()
    preview = await client.post(
        f"{unit['base']}/{mailing['id']}/preview",
        json={"person_id": person_id},
        headers=unit["admin"].headers,
    )
    assert preview.status_code == 200, preview.text
    assert f'<a href="https://example.org/e/1">Infostand {person_id}</a>' in preview.json()["html"]
    sent = await client.post(
        f"{unit['base']}/{mailing['id']}/send",
        json={"confirm": True},
        headers=unit["admin"].headers,
    )
    assert sent.status_code == 202, sent.text
    await drain(app)
    [message] = smtp_sink.messages
    assert (
        f"* [Infostand {person_id}](https://example.org/e/1)"
        in message.get_body(("plain",)).get_content()
    )
