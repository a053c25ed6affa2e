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


@linksaktiv.command("digest")
def run_digest_now() -> None:
    """Pick this week's digests now and queue their mails (the worker sends them); activists
    who had one this week are left out, as in the weekly run."""
    from plugins.linksaktiv.digest import enqueue_digest

    async def work(_runtime):
        return await enqueue_digest()

    click.echo(f"{run_async(work)} activists get a digest")
