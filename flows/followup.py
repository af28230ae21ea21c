"""The follow-up: some weeks after the workshop, carriers of resolutions and authors of
commitments are asked where they stand."""

from __future__ import annotations

from storage.db import Database


async def carriers(db: Database, *, workshop_id: int) -> list[int]:
    """The participant ids a follow-up goes to: the authors of the commitments that
    entered the agora, and the members of the categories that carry a resolution."""
    return []
