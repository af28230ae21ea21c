"""The offline rehearsal: a whole workshop played against the built-in Bot API emulator.

Without a bot token, `coopbot run` plays one: an organiser creates a workshop, a
facilitator opens their link, one participant per actor category walks the journey
(by button and by text, in French and in English), and the facilitator reads the live
board. Everything goes through the real bot and lands in the configured SQLite file,
so a newcomer sees the product work before they create a bot with @BotFather.
"""

from __future__ import annotations

import asyncio
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.app import build_application, is_handling_updates, running
from bot.emulator import BotApiEmulator, EmulatedUser
from bot.settings import Settings
from flows.journey import Journey, Prompt, default_journey

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
    return asyncio.run(
        _rehearse(replace(settings, database_path=rehearsal_database(settings)), out or sys.stdout)
    )


async def _rehearse(settings: Settings, out: TextIO) -> int:
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

            for index, (user_id, name, language) in enumerate(PARTICIPANTS):
                person = emulator.user(user_id, first_name=name, language_code=language)
                category = journey.categories[index % len(journey.categories)]
                await _walk(
                    emulator, person, journey, join_code, category.label[language], language
                )
                if index == 0:
                    _show(out, f"{name}, participant", person)
                else:
                    print(f"\n— {name} ({category.label['en']}) answered every question.", file=out)

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
    category_label: str,
    language: str,
) -> None:
    """Join, consent, choose, and answer every live prompt, like a person on a phone."""
    await person.send(f"/start {join_code}")
    await emulator.wait_idle(quiet=QUIET)
    for label in (_CONSENT[language], category_label, _LANGUAGE[language]):
        await person.press(label)
        await emulator.wait_idle(quiet=QUIET)
    for number, prompt in enumerate(journey.live_prompts()):
        await _answer(person, prompt, number, language)
        await emulator.wait_idle(quiet=QUIET)


async def _answer(person: EmulatedUser, prompt: Prompt, number: int, language: str) -> None:
    if prompt.kind == "scale":
        await person.press(str(2 + (number + person.id) % 4))
    elif prompt.kind == "choice":
        option = prompt.options[(number + person.id) % len(prompt.options)]
        await person.press(option.label[language])
    else:
        texts = _REFLECTIONS[language]
        await person.send(texts[(number + person.id) % len(texts)])


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
