"""``orga mailings …`` commands."""

from __future__ import annotations

import click

from core.api import run_async
from plugins.mailings.tables import Mailing

__all__ = ["mailings"]


@click.group()
def mailings() -> None:
    """Action mailings."""


@mailings.command("list")
@click.option("--org", "org_id", required=True, type=int, help="org unit id")
def list_mailings(org_id: int) -> None:
    """List the mailings of a unit."""

    async def work(_runtime):
        return (
            await Mailing.select(Mailing.id, Mailing.state, Mailing.subject)
            .where(Mailing.org == org_id)
            .order_by(Mailing.id)
            .run()
        )

    for row in run_async(work):
        click.echo(f"{row['id']:>6}  {row['state']:<9}  {row['subject']}")
