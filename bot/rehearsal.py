"""The offline rehearsal: a whole workshop played against the Bot API emulator (`tgemu`).

Without a bot token, `coopbot run` plays one: an organiser creates a workshop, a
facilitator opens their link, one participant per actor category walks the journey
(by button and by text, in French and in English), and the facilitator reads the live
board. Everything goes through the real bot and lands in the configured SQLite file,
so a newcomer sees the product work before they create a bot with @BotFather.

The emulator is test infrastructure with its own dependency (aiohttp, the extra
`coopbot[rehearsal]`): it is imported only when a rehearsal starts, so the bot itself
runs without it.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Coroutine
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.app import build_application, is_handling_updates, running
from bot.settings import Settings
from flows.journey import Journey, Prompt
from flows.journey_file import default_journey

if TYPE_CHECKING:
    from tgemu import BotApiEmulator, EmulatedUser

ORGANISER_ID = 990_001
FACILITATOR_ID = 990_002
PARTICIPANTS = (  # user id, first name, Telegram language
    (990_011, "Camille", "fr"),
    (990_012, "Alex", "en"),
    (990_013, "Dominique", "fr"),
    (990_014, "Sacha", "fr"),
)
# The bot is watched (is_handling_updates), so a short silence is enough to know it is done.
QUIET = 0.02
_LINK = re.compile(r"start=([A-Za-z0-9_-]+)")
_CONSENT = {"fr": "✅ J'accepte", "en": "✅ I agree"}
_LANGUAGE = {"fr": "Français", "en": "English"}
_DONE = {"fr": "Terminé ✅", "en": "Done ✅"}
_VOTES = {
    "fr": ("👍 D'accord", "👎 Pas d'accord", "🤷 Je passe"),
    "en": ("👍 Agree", "👎 Disagree", "🤷 Pass"),
}
_VOTE_DATA = re.compile(r"^v:\d+:")
_STATEMENTS = {
    "fr": {
        "request": "Nous associer dès l'écriture des projets, pas seulement à leur financement.",
        "commitment": "Présenter nos actions une fois par trimestre aux services concernés.",
    },
    "en": {
        "request": "Involve us while projects are written, not only when they are funded.",
        "commitment": "Present our work to the relevant services once a quarter.",
    },
}
_PROPOSAL = "Créer un lieu d'accueil commun pour les porteurs de projets du territoire."
_REFLECTIONS = {
    "fr": [
        "Je viens avec l'envie de mieux comprendre les contraintes de chacun.",
        "Nous nous connaissons surtout par les appels à projets, rarement autour d'un café.",
        "Un cadre clair : qui décide quoi, et comment on se dit les désaccords.",
        "Je me rends compte que j'attends souvent que l'autre fasse le premier pas.",
    ],
    "en": [
        "I come wanting to understand everyone's constraints better.",
        "We mostly know each other through calls for projects, rarely over coffee.",
        "A clear frame: who decides what, and how we voice disagreement.",
        "I notice I often wait for the other side to make the first move.",
    ],
}


def rehearsal_database(settings: Settings) -> Path:
    """The rehearsal's own SQLite file, beside the configured one: its made-up workshop
    and participants never mix with real ones."""
    path = settings.database_path
    return path.with_name(f"{path.stem}-rehearsal{path.suffix or '.sqlite3'}")


def rehearse(settings: Settings, *, out: TextIO | None = None) -> int:
    """Play the rehearsal and print what each person saw; 0 when it went through."""
    try:
        import tgemu  # noqa: F401  (needs aiohttp, which only the rehearsal extra installs)
    except ModuleNotFoundError as missing:
        print(
            f"coopbot: the offline rehearsal needs {missing.name}, which this install lacks: "
            "pip install 'coopbot[rehearsal]', or set TELEGRAM_BOT_TOKEN to run the bot.",
            file=sys.stderr,
        )
        return 2
    return asyncio.run(
        _rehearse(replace(settings, database_path=rehearsal_database(settings)), out or sys.stdout)
    )


async def _rehearse(settings: Settings, out: TextIO) -> int:
    from tgemu import BotApiEmulator

    journey = default_journey()
    print(
        "coopbot: no TELEGRAM_BOT_TOKEN, so this is the offline rehearsal: a whole workshop "
        f"against the built-in Bot API emulator, stored in {settings.database_path}.",
        file=out,
    )
    async with BotApiEmulator(bot_username="coopbot_rehearsal_bot") as emulator:
        local = replace(
            settings,
            token=emulator.token,
            api_base_url=emulator.base_url,
            organisers=settings.organisers | {ORGANISER_ID},
        )
        application = build_application(local)
        emulator.watch(lambda: is_handling_updates(application))
        async with running(application):
            organiser = emulator.user(ORGANISER_ID, first_name="Organiser", language_code="fr")
            await organiser.send("/newsession Répétition de l'atelier coopération")
            await emulator.wait_idle(quiet=QUIET)
            links = [m.text or "" for m in organiser.messages if "start=" in (m.text or "")]
            join_code, facilitator_code = (_LINK.findall(text)[0] for text in links[:2])
            _show(out, "Organiser", organiser)

            facilitator = emulator.user(
                FACILITATOR_ID, first_name="Facilitator", language_code="fr"
            )
            await facilitator.send(f"/start {facilitator_code}")
            await emulator.wait_idle(quiet=QUIET)

            people: list[tuple[EmulatedUser, str]] = []
            for index, (user_id, name, language) in enumerate(PARTICIPANTS):
                person = emulator.user(user_id, first_name=name, language_code=language)
                category = journey.categories[index % len(journey.categories)]
                await _walk(emulator, person, journey, join_code, category.id, language)
                people.append((person, language))
                if index:
                    print(f"\n— {name} ({category.label['en']}) answered every question.", file=out)

            await facilitator.send("/agora")
            await emulator.wait_idle(quiet=QUIET)
            await _vote_all(emulator, people)
            first, _ = people[0]
            await first.send(_PROPOSAL)
            await emulator.wait_idle(quiet=QUIET)
            await facilitator.press("✅ Approuver")
            await emulator.wait_idle(quiet=QUIET)
            await _vote_all(emulator, people)
            await facilitator.send("/agora close")
            await emulator.wait_idle(quiet=QUIET)
            _show(out, f"{PARTICIPANTS[0][1]}, participant", first)

            await facilitator.send("/progress")
            await emulator.wait_idle(quiet=QUIET)
            _show(out, "Facilitator", facilitator)
        refused = emulator.rejected
    if refused:
        print(f"\nThe emulator refused {len(refused)} call(s): {refused[0]}", file=out)
        return 1
    print(
        f"\nRehearsal complete: {len(PARTICIPANTS)} participants finished; their answers are in "
        f"{settings.database_path}. Set TELEGRAM_BOT_TOKEN to run the real bot.",
        file=out,
    )
    return 0


async def _walk(
    emulator: BotApiEmulator,
    person: EmulatedUser,
    journey: Journey,
    join_code: str,
    category_id: str,
    language: str,
) -> None:
    """Join, consent, choose, and answer every question of both phases, like a person on a
    phone."""
    category = journey.category(category_id)
    assert category is not None
    await person.send(f"/start {join_code}")
    await emulator.wait_idle(quiet=QUIET)
    for label in (_CONSENT[language], category.label[language], _LANGUAGE[language]):
        await person.press(label)
        await emulator.wait_idle(quiet=QUIET)
    prompts = journey.live_prompts() + journey.peer_prompts(category_id)
    first_other = next(c.id for c in journey.categories if c.id != category_id)
    for number, prompt in enumerate(prompts):
        for action in _answers(person, prompt, number, language, first_other):
            await action
            await emulator.wait_idle(quiet=QUIET)


def _answers(
    person: EmulatedUser, prompt: Prompt, number: int, language: str, first_other: str
) -> list[Coroutine[Any, Any, int]]:
    """The taps and messages that answer one question."""
    if prompt.kind == "scale":
        return [person.press(str(2 + (number + person.id) % 4))]
    if prompt.kind == "choice":
        option = prompt.options[(number + person.id) % len(prompt.options)]
        return [person.press(option.label[language])]
    if prompt.kind == "multi":
        ticked = prompt.options[(number + person.id) % len(prompt.options)]
        return [person.press("⬜ " + ticked.label[language]), person.press(_DONE[language])]
    if prompt.kind == "list":
        writes = prompt.statement == "commitment" or prompt.about == first_other
        said = [person.send(_STATEMENTS[language][prompt.statement or "request"])] if writes else []
        return [*said, person.press(_DONE[language])]
    texts = _REFLECTIONS[language]
    return [person.send(texts[(number + person.id) % len(texts)])]


async def _vote_all(emulator: BotApiEmulator, people: list[tuple[EmulatedUser, str]]) -> None:
    """Everybody votes on what they are offered until nothing new comes."""
    while True:
        voted = False
        for person, language in people:
            message = person.last
            buttons = [data for row in message.buttons for _, data in row]
            fresh = any(_VOTE_DATA.match(d or "") for d in buttons) and not any(
                label.startswith("✅") for row in message.buttons for label, _ in row
            )
            if fresh:
                choice = _VOTES[language][(person.id + message.message_id) % 3]
                await person.press(choice, message=message)
                voted = True
        if not voted:
            return
        await emulator.wait_idle(quiet=QUIET)


def _show(out: TextIO, who: str, person: EmulatedUser) -> None:
    """Print a chat as its owner sees it (text, captions, buttons)."""
    print(f"\n=== {who}'s chat ===", file=out)
    for message in person.messages:
        body = message.text or message.caption or ""
        if message.kind == "photo":
            body = f"[picture] {body}"
        print(f"\n{body}", file=out)
        for row in message.buttons:
            print("  " + "  ".join(f"[{label}]" for label, _ in row), file=out)
