"""French commands end to end: every command also answers to its French name (/seance,
/synthese, /annonce, /aide…), for everyone, with the same outcome and the same role
checks; French words after a command (« /pairs attendre »); times as French people write
them (« 17h30 ») and shown so; the French menus list the French names."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram.ext import Application

from bot.menus import FRENCH_NAMES
from bot.settings import Settings
from flows.journey import Journey
from reports.text import translator
from storage.db import utc_now
from tests import stored
from tests.conftest import ORGANISER_ID, create_workshop
from tests.helpers import onboard
from tgemu import BotApiEmulator, EmulatedUser

PARIS = ZoneInfo("Europe/Paris")
FR = translator("fr")


async def replies(emulator: BotApiEmulator, user: EmulatedUser, text: str) -> list[str]:
    """Everything the bot sent `user` in answer to `text`."""
    before = len(user.messages)
    await user.send(text)
    await emulator.wait_idle()
    return [m.text or m.caption or "" for m in user.messages[before:]]


def starts(database: Path) -> list[datetime]:
    with stored.connect(database) as conn:
        rows = conn.execute("SELECT starts_at FROM sessions ORDER BY id").fetchall()
    return [datetime.fromisoformat(row[0]).astimezone(PARIS) for row in rows]


async def test_french_aliases_do_what_the_english_names_do(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    first, second = await create_workshop(emulator), await create_workshop(emulator, "Second")
    organiser = emulator.user(ORGANISER_ID, language_code="fr")
    year = utc_now().year + 1

    # A session typed as French people write it, under both names: the same moment.
    french = await replies(emulator, organiser, f"/seance {first} le 30/11/{year} à 17h30 Mairie")
    english = await replies(emulator, organiser, f"/session {second} 30/11/{year} 17:30 Mairie")
    assert starts(settings.database) == [datetime(year, 11, 30, 17, 30, tzinfo=PARIS)] * 2
    assert "30 novembre" in french[0] and "à 17h30" in french[0]  # not « 30/11 … 17:30 »
    assert french[0].replace(first, second) == english[0].replace(first, second)
    spaced = await replies(emulator, organiser, f"/seance {first} 1/12/{year} 9 h 05 Salle B")
    assert starts(settings.database)[-1] == datetime(year, 12, 1, 9, 5, tzinfo=PARIS)
    assert "à 9h05" in spaced[0]

    camille = emulator.user(6101, first_name="Camille", language_code="fr")
    await onboard(
        emulator, camille, first, category=journey.categories[0].label["fr"], language="fr"
    )

    # The synthesis, now and at a time: the same answers.
    synthese = await replies(emulator, organiser, f"/synthese {first}")
    assert synthese and synthese == await replies(emulator, organiser, f"/synthesis {first}")
    at = await replies(emulator, organiser, f"/synthese à 17h30 {first}")
    assert len(at) == 1 and "à 17h30" in at[0] and "Atelier de la vallée" in at[0]
    assert at == await replies(emulator, organiser, f"/synthesis at 17:30 {first}")

    # French words after a command: the same changes as the English ones (on the second
    # workshop, so that neither finds the change already made).
    for french_words, english_words in (
        ("/pairs attendre", "/peers wait"),
        ("/validation non", "/review off"),
        ("/caucus garder 3", "/caucus keep 3"),
        ("/agora salle", "/agora room"),
    ):
        said = await replies(emulator, organiser, f"{french_words} {first}")
        same = await replies(emulator, organiser, f"{english_words} {second}")
        assert said and said == [t.replace("Second", "Atelier de la vallée") for t in same], said

    # A broadcast's preview, under both names.
    preview = await replies(emulator, organiser, f"/annonce {first} La salle change.")
    assert preview == await replies(emulator, organiser, f"/broadcast {first} La salle change.")
    assert "La salle change." in preview[0]

    # The same role checks: a participant is refused alike under both names.
    for french_name, english_name in (("synthese", "synthesis"), ("annonce", "broadcast")):
        refused = await replies(emulator, camille, f"/{french_name} {first} x")
        assert refused and refused == await replies(emulator, camille, f"/{english_name} {first} x")
    refusal = await replies(emulator, camille, f"/seance {first} demain 9h")
    assert refusal == await replies(emulator, camille, f"/session {first} demain 9h")
    assert starts(settings.database)[-1].day == 1  # nothing added


async def test_french_help_and_menus_name_the_french_commands(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    camille = emulator.user(6201, language_code="fr")
    await onboard(
        emulator, camille, code, category=journey.categories[0].label["fr"], language="fr"
    )
    aide = await replies(emulator, camille, "/aide")
    assert aide == await replies(emulator, camille, "/help")
    assert "/progression ·" in aide[0] and "/retour ·" in aide[0] and "/mesdonnees ·" in aide[0]
    assert "/progress ·" not in aide[0] and "/back ·" not in aide[0]
    assert "/aide ·" not in aide[0]  # help does not list itself
    alex = emulator.user(6202, language_code="en")
    await onboard(emulator, alex, code, category=journey.categories[0].label["en"], language="en")
    help_text = await replies(emulator, alex, "/aide")  # French names work in English too
    assert "/progress ·" in help_text[0] and "/progression" not in help_text[0]
    annuler = await replies(emulator, camille, "/annuler")  # nothing to cancel, said alike
    assert annuler and annuler == await replies(emulator, camille, "/cancel")
    # A French refusal names the French command.
    unknown = await replies(emulator, camille, "/nimportequoi")
    assert "/aide" in unknown[0] and "/help" not in unknown[0]

    calls = [c for c in emulator.calls if c.method == "setMyCommands"]
    menus = {c.params.get("language_code", ""): c.params["commands"] for c in calls}
    names = {language: [c["command"] for c in menu] for language, menu in menus.items()}
    assert names["fr"][:3] == ["progression", "retour", "passer"]
    assert {"aide", "langue", "fuseau", "mesdonnees", "oublier", "rejoindre"} <= set(names["fr"])
    assert not set(names["fr"]) & set(FRENCH_NAMES)  # not one English name (but /pause)
    assert names["en"][:3] == ["progress", "back", "skip"]
    assert not set(names["en"]) & set(FRENCH_NAMES.values())

    # An organiser's own menu, in French: the French names of their commands.
    organiser = emulator.user(ORGANISER_ID, language_code="fr")
    await replies(emulator, organiser, "/demarrer")
    usage = await replies(emulator, organiser, "/clore")  # how to write it, in French
    assert usage == await replies(emulator, organiser, "/close")
    assert "/clore <code>" in usage[0] and "/ateliers" in usage[0] and "/close" not in usage[0]
    own = [c for c in emulator.calls if c.method == "setMyCommands"][-1].params["commands"]
    own_names = {c["command"] for c in own}
    assert {"nouvelatelier", "seance", "synthese", "annonce", "rappel", "pairs"} <= own_names
    assert not own_names & {"newsession", "session", "synthesis", "broadcast", "remind"}
    descriptions = {c["command"]: c["description"] for c in own}
    assert "/pairs attendre|suivre" in descriptions["pairs"]  # the French words, too
    assert "/synthese" in descriptions["synthese"]
    # Every French name is a valid Telegram command, and none takes an English one's place.
    assert all(name.isascii() and name.replace("_", "").isalnum() for name in FRENCH_NAMES.values())
    assert all(1 <= len(name) <= 32 and name.islower() for name in FRENCH_NAMES.values())
    assert not set(FRENCH_NAMES.values()) & set(FRENCH_NAMES)
    assert FR("How this bot works") in {c["description"] for c in menus["fr"]}
