"""``orga calling …`` commands."""

from __future__ import annotations

import click

from core.api import run_async, utcnow
from plugins.calling.assignments import assignment_state
from plugins.calling.tables import CallAssignment

__all__ = ["calling"]


@click.group()
def calling() -> None:
    """Phone banking."""


@calling.command("assignments")
@click.option("--org", "org_id", required=True, type=int, help="org unit id")
def list_assignments(org_id: int) -> None:
    """List the call assignments of a unit."""

    async def work(_runtime):
        return (
            await CallAssignment.select()
            .where(CallAssignment.org == org_id)
            .order_by(CallAssignment.id)
            .run()
        )

    now = utcnow()
    for row in run_async(work):
        state = assignment_state(row["start_at"], row["end_at"], now)
        click.echo(f"{row['id']:>6}  {state:<9}  {row['title']}")
