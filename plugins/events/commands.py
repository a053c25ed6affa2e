"""``orga events …`` commands."""

from __future__ import annotations

import click

from core.api import run_async
from plugins.events.tables import Event

__all__ = ["events"]


@click.group()
def events() -> None:
    """Events and actions."""


@events.command("list")
@click.option("--org", "org_id", required=True, type=int, help="org unit id")
def list_events(org_id: int) -> None:
    """List the events of a unit by start time."""

    async def work(_runtime):
        return (
            await Event.select(Event.id, Event.start_at, Event.state, Event.title)
            .where(Event.org == org_id)
            .order_by(Event.start_at)
            .run()
        )

    for row in run_async(work):
        click.echo(
            f"{row['id']:>6}  {row['start_at']:%Y-%m-%d %H:%M}  {row['state']:<9}  {row['title']}"
        )
