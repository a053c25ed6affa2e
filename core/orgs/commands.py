"""``orga orgs import-postcodes``: postal-code coverage of units from a CSV file."""

from __future__ import annotations

from pathlib import Path

import click

from core.audit.services import record
from core.orgs import coverage, postcodes
from core.orgs.services import get_unit
from core.problems import Problem
from core.runtime import run_async

__all__ = ["orgs"]


@click.group()
def orgs() -> None:
    """Org units: postal-code coverage."""


@orgs.command("import-postcodes")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_postcodes(file: Path) -> None:
    """Set the postal codes of the units named in FILE (CSV: org_id, postal_code).

    A postal_code is one code (04109) or a range (04103-04107). The coverage of each unit in
    the file is replaced as a whole; units not in the file keep theirs. The result must keep
    the coverage rules (inside the unit above, apart from other branches), else nothing
    changes.
    """

    try:
        per_unit = postcodes.read_postcode_file(file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc

    async def work(_runtime) -> int:
        for org_id in per_unit:
            if await get_unit(org_id) is None:
                raise click.ClickException(f"no org unit {org_id}")
        try:
            await coverage.change_coverage(per_unit, None)
        except Problem as exc:
            raise click.ClickException(exc.errors[0].message if exc.errors else str(exc)) from exc
        for org_id, ranges in per_unit.items():
            await record(
                "org.postcodes_set",
                object_type="org_unit",
                object_id=org_id,
                org_id=org_id,
                detail={"entries": len(ranges), "via": "cli"},
            )
        return sum(len(r) for r in per_unit.values())

    total = run_async(work)
    click.echo(f"set {total} postal codes/ranges for {len(per_unit)} units")
