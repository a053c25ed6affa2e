"""``orga linksaktiv …`` commands."""

from __future__ import annotations

import click

from core.api import run_async
from plugins.linksaktiv.tables import Edition

__all__ = ["linksaktiv"]


@click.group()
def linksaktiv() -> None:
    """Activist network and newspaper distribution."""


@linksaktiv.command("editions")
@click.option("--org", "org_id", required=True, type=int, help="org unit id")
def list_editions(org_id: int) -> None:
    """List the newspaper editions of a unit."""

    async def work(_runtime):
        return await Edition.select().where(Edition.org == org_id).order_by(Edition.date).run()

    for row in run_async(work):
        click.echo(f"{row['id']:>6}  {row['date']}  {row['copies']:>8} copies  {row['title']}")
