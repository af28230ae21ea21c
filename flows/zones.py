"""Time zones as people name them: the IANA names this system knows, whatever their case,
and the zones of mainland France and its overseas territories offered as buttons."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

# The zones /timezone offers as buttons.
COMMON_ZONES = (
    "Europe/Paris",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "Indian/Reunion",
    "Indian/Mayotte",
    "Pacific/Noumea",
    "Pacific/Tahiti",
)


@cache
def _zones() -> dict[str, str]:
    """Every IANA name this system knows, by its lower-case spelling."""
    return {name.lower(): name for name in available_timezones()}


def zone_name(typed: str) -> str | None:
    """The IANA name `typed` spells (whatever its case), or None."""
    return _zones().get(typed.strip().lower())
