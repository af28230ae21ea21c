"""The report for elected officials written to a folder: what `coopbot report` and the
offline rehearsal call, the same document /report sends."""

from __future__ import annotations

import asyncio
from datetime import tzinfo
from pathlib import Path

from flows.engine import JourneyEngine
from flows.facilitation import FacilitationService
from flows.journey import Journey
from flows.outbox import zone_named
from flows.quotes import QuoteService
from reports.conclusions import report_file
from storage.db import Database


class NoReport(Exception):
    """Why no report was written: no workshop has that code, or nobody answered yet."""


async def write_report(
    database: Database,
    journey: Journey,
    *,
    code: str,
    out: Path,
    language: str,
    min_group: int,
    zone: tzinfo,
) -> Path:
    """Write the report of the workshop `code` names (its join or facilitator code) into
    the folder `out` (made if missing), in `language`, its dates in the workshop's time zone
    (else `zone`); returns the file's path. Raises `NoReport` (nothing written) or
    `OSError` (the folder cannot be written)."""
    facilitation = FacilitationService(database, JourneyEngine(journey), min_group=min_group)
    workshop = await facilitation.workshop_by_code(code)
    if workshop is None:
        raise NoReport(f"no workshop has the code {code!r}")
    conclusions = await QuoteService(facilitation).conclusions_of(workshop)
    if not conclusions.answered:
        raise NoReport(f"nobody has answered in the workshop {code!r} yet: nothing to report")
    shown_in = zone_named(workshop.timezone, zone)
    file = await asyncio.to_thread(report_file, journey, conclusions, language, shown_in)
    return await asyncio.to_thread(_save, out, file.name, file.data)


def _save(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path
