"""``orga people import``, ``orga people imports`` and ``orga people purge``."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from core import db
from core.audit.services import record
from core.people import imports
from core.people.tables import PersonImport
from core.people.uploads import drop_progress, fail_interrupted, write_progress
from core.runtime import run_async
from core.tables import utcnow

__all__ = ["people"]


@click.group()
def people() -> None:
    """People: import files, list imports, apply the retention rule."""


def _parse_mapping(text: str | None, header: list[str]) -> dict[str, str]:
    if not text:
        return imports.suggest_mapping(header)
    mapping = {}
    for part in text.split(","):
        column, _, target = part.partition("=")
        if not target:
            raise click.BadParameter(f"'{part}' is not COLUMN=FIELD", param_hint="--mapping")
        mapping[column.strip()] = target.strip()
    return mapping


@people.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_id", required=True, type=int, help="home unit of new people")
@click.option("--mapping", help="COLUMN=FIELD,… (default: guessed from the header)")
@click.option("--match-by", default="membership_number,email,phone", show_default=True)
@click.option(
    "--strategy",
    type=click.Choice(["skip", "update_empty", "overwrite"]),
    default="skip",
    show_default=True,
)
@click.option("--consent-channel", type=click.Choice(["email", "phone", "sms", "post"]))
@click.option("--consent-wording", help="the consent text people agreed to")
def import_people(
    file: Path,
    org_id: int,
    mapping: str | None,
    match_by: str,
    strategy: str,
    consent_channel: str | None,
    consent_wording: str | None,
) -> None:
    """Import a CSV or XLSX file in one transaction, with a progress bar and an error report.

    On a terminal the bar shows the rows done of the file's rows; otherwise (a log, a pipe) a
    line says so at every tenth. ``GET …/people/imports/{id}`` shows the same progress.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with file.open("rb") as fh:
        fmt = imports.sniff_format(file.name, fh.read(8))
    stored_path = str(file.resolve())
    header, _ = imports.read_rows(file, fmt)
    consent = None
    if consent_channel:
        if not consent_wording:
            raise click.BadParameter("give the wording too", param_hint="--consent-wording")
        consent = imports.ImportConsent(channel=consent_channel, wording=consent_wording)
    options = imports.ImportOptions(
        mapping=_parse_mapping(mapping, header),
        match_by=[m.strip() for m in match_by.split(",") if m.strip()],  # type: ignore[misc]
        strategy=strategy,  # type: ignore[arg-type]
        consent=consent,
    )
    total = imports.rows_in(file, fmt)

    async def work(runtime: Any) -> tuple[int, imports.Counts]:
        unit = await db.fetch_one("SELECT path FROM org_unit WHERE id = {}", org_id)
        if unit is None:
            raise click.ClickException(f"there is no org unit {org_id}")
        _report_interrupted(await fail_interrupted(runtime.settings))
        rows = await PersonImport.insert(
            PersonImport(
                org=org_id,
                filename=file.name[:300],
                format=fmt,
                stored_path=stored_path,
                columns=header,
                status="running",
                total_rows=total,
            )
        ).run()
        import_id = rows[0]["id"]
        settings = runtime.settings
        _, data = imports.read_rows(file, fmt)
        checked = imports.check_rows(header, data, options, runtime.settings.default_region)
        console = Console()
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task("importing", total=total)
            tenths = [-1]

            def advance(done: int) -> None:
                progress.update(task, completed=done)
                write_progress(settings, import_id, done)  # for GET …/people/imports/{id}
                tenth = done * 10 // max(total, 1)
                if not console.is_terminal and tenth != tenths[0]:
                    tenths[0] = tenth
                    click.echo(f"importing: {done} of {total} rows")

            try:
                counts = await imports.run_import(
                    import_id,
                    org_id,
                    unit["path"],
                    checked,
                    options,
                    progress=advance,
                )
            except Exception as exc:
                await db.execute(
                    "UPDATE person_import SET status = 'failed', error = {}, updated_at = {} "
                    "WHERE id = {}",
                    type(exc).__name__,
                    utcnow(),
                    import_id,
                )
                raise
            finally:
                drop_progress(settings, import_id)
        await record(
            "people.imported",
            org_id=org_id,
            object_type="import",
            object_id=import_id,
            detail={"created": counts.created, "errors": counts.errors},
        )
        return import_id, counts

    import_id, counts = run_async(work)
    click.echo(
        f"import {import_id}: {counts.created} created, {counts.updated} updated, "
        f"{counts.skipped} skipped, {counts.errors} rows with errors"
    )
    if counts.errors:
        click.echo(f"errors: GET /api/orgs/{org_id}/people/imports/{import_id}/errors")


def _report_interrupted(ids: list[int]) -> None:
    for import_id in ids:
        click.echo(f"import {import_id} was interrupted (its process ended); marked failed")


@people.command("imports")
@click.option("--limit", default=20, show_default=True, help="how many, newest first")
def list_imports(limit: int) -> None:
    """The latest imports (web and command line) with state and counts; imports whose process
    ended before they finished are marked failed first."""

    async def work(runtime: Any) -> tuple[list[int], list[dict[str, Any]]]:
        interrupted = await fail_interrupted(runtime.settings)
        rows = await db.fetch(
            "SELECT id, org_id, filename, status, error, created_count, updated_count, "
            "skipped_count, error_count, created_at FROM person_import ORDER BY id DESC LIMIT {}",
            limit,
        )
        return interrupted, rows

    interrupted, rows = run_async(work)
    _report_interrupted(interrupted)
    for row in rows:
        created = str(row["created_at"])[:16]
        click.echo(
            f"{row['id']:>6}  {created}  unit {row['org_id']:<5} {row['status']:<9} "
            f"{row['created_count']} created, {row['updated_count']} updated, "
            f"{row['skipped_count']} skipped, {row['error_count']} errors  {row['filename']}"
        )
        if row["error"]:
            click.echo(f"        {row['error']}")


@people.command("purge")
@click.option(
    "--months",
    type=int,
    default=None,
    help="inactivity before a contact is removed (default ORGA_RETENTION_MONTHS)",
)
@click.option("--dry-run", is_flag=True, help="only count and list, erase nothing")
def purge(months: int | None, dry_run: bool) -> None:
    """Apply the retention rule: erase contacts without consent and without activity for N
    months, unconfirmed public sign-ups and former members after their own times."""
    from core.people.gdpr import erase_person
    from core.people.retention import purge_candidates

    async def work(runtime: Any) -> list[tuple[int, str]]:
        settings = runtime.settings
        span = months if months is not None else settings.retention_months
        now = utcnow()
        former = settings.former_member_retention_months
        found = await purge_candidates(
            contacts_before=now - timedelta(days=30 * span),
            pending_before=now - timedelta(days=settings.pending_retention_days),
            former_members_before=now - timedelta(days=30 * former) if former else None,
        )
        if not dry_run:
            for person_id, reason in found:
                row = await db.fetch_one("SELECT * FROM person WHERE id = {}", person_id)
                await erase_person(
                    row, runtime.registry, detail={"reason": "retention", "rule": reason}
                )
        return found

    found = run_async(work)
    verb = "would erase" if dry_run else "erased"
    counts = Counter(reason for _id, reason in found)
    by_rule = ", ".join(f"{counts[rule]} {rule}" for rule in sorted(counts))
    click.echo(f"{verb} {len(found)} people" + (f" ({by_rule})" if by_rule else ""))
    if dry_run and found:
        ids = [person_id for person_id, _reason in found]
        click.echo("ids: " + ", ".join(map(str, ids[:50])) + (" …" if len(ids) > 50 else ""))
