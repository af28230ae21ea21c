"""The offline rehearsal: a whole workshop played against the Bot API emulator (`tgemu`).

Without a bot token, `coopbot run` plays one: an organiser creates a workshop, a
facilitator opens their link, one participant per actor category walks the journey
(by button and by text, in French and in English), the facilitator reviews the
statements, paces the agora in the room, records a resolution and reads the live board.
Everything goes through the real bot and lands in the configured SQLite file, so a
newcomer sees the product work before they create a bot with @BotFather.

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
from bot.keyboards import REVIEW_PREFIX
from bot.settings import Settings
from flows.journey import Journey, Prompt
from flows.journey_file import default_journey

if TYPE_CHECKING:
    from tgemu import BotApiEmulator, EmulatedUser, SentMessage

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
    "fr": ("👍 D'accord", "👎 Pas d'accord", "🤷 Sans avis"),
    "en": ("👍 Agree", "👎 Disagree", "🤷 Pass"),
}
# Asked after /newsession: the first session's time and place, the territory, and the
# days before the décantation.
_SESSION = ("demain 9h", "Salle du conseil, mairie de Saint-Denis", "Plaine Commune", "7")
_BROADCAST = "Merci pour cet atelier ! Le relevé de conclusions suit dans la semaine."
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
        # Its scripted people tap faster than anyone could: no flood control for them.
        _rehearse(
            replace(settings, database_path=rehearsal_database(settings), flood_limit=0),
            out or sys.stdout,
        )
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
            # The bot asks when and where the first session is, for which territory, and
            # when the décantation comes: the participants who join get the session's
            # invitation, with a calendar file.
            for answer in _SESSION:
                await organiser.send(answer)
                await emulator.wait_idle(quiet=QUIET)
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

            # The facilitator reviews the statements; each group (of one, here) sends its
            # own to the agora, which the room walks through, statement by statement.
            await _review(emulator, facilitator)
            first, _ = people[0]
            await facilitator.send("/agora room")
            await emulator.wait_idle(quiet=QUIET)
            await first.send(_PROPOSAL)  # in the agora: a proposal, reviewed first
            await emulator.wait_idle(quiet=QUIET)
            await _review(emulator, facilitator)
            await _walk_the_room(emulator, facilitator, people)
            await facilitator.send("/resolutions")
            await emulator.wait_idle(quiet=QUIET)
            await facilitator.send("/agora close")
            await emulator.wait_idle(quiet=QUIET)
            _show(out, f"{PARTICIPANTS[0][1]}, participant", first)

            await facilitator.send("/progress")
            await emulator.wait_idle(quiet=QUIET)
            _show(out, "Facilitator", facilitator)

            # Between meetings, the organiser keeps the cooperation alive: a broadcast,
            # previewed, confirmed, and reported on.
            await organiser.send(f"/broadcast {join_code} {_BROADCAST}")
            await emulator.wait_idle(quiet=QUIET)
            await organiser.press(_labelled(organiser.last, "📣"))
            await emulator.wait_idle(quiet=QUIET)
            await organiser.send("/workshops")
            await emulator.wait_idle(quiet=QUIET)
            _show(out, "Organiser, after the workshop", organiser)
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


async def _walk_the_room(
    emulator: BotApiEmulator, facilitator: EmulatedUser, people: list[tuple[EmulatedUser, str]]
) -> None:
    """The room votes on each statement the facilitator shows, the facilitator marks the
    first one as a convergence (its resolution card kept as it is), then moves on, until
    "next" no longer moves."""
    converged = False
    while True:
        for person, language in people:
            ballot = next((m for m in reversed(person.messages) if _vote_buttons(m)), None)
            if ballot is not None:  # none on the author's own statement
                choice = _VOTES[language][(person.id + ballot.message_id) % 3]
                await person.press(choice, message=ballot)
        await emulator.wait_idle(quiet=QUIET)
        control = _control(facilitator)
        if not converged:
            await facilitator.press(_labelled(control, "🤝"), message=control)
            await emulator.wait_idle(quiet=QUIET)
            card = facilitator.last
            await facilitator.press(_labelled(card, "✅"), message=card)
            await emulator.wait_idle(quiet=QUIET)
            converged = True
            control = _control(facilitator)
        before = control.text
        await facilitator.press(_labelled(control, "➡️"), message=control)
        await emulator.wait_idle(quiet=QUIET)
        if _control(facilitator).text == before:
            return


def _vote_buttons(message: SentMessage) -> bool:
    return any(_VOTE_DATA.match(data or "") for row in message.buttons for _, data in row)


def _control(facilitator: EmulatedUser) -> SentMessage:
    """The facilitator's room control: their latest message with a "next" button."""
    return next(m for m in reversed(facilitator.messages) if _labelled(m, "➡️", missing=""))


def _labelled(message: SentMessage, icon: str, *, missing: str | None = None) -> str:
    """The label of the message's button that carries `icon` (the words are translated)."""
    found = next((label for row in message.buttons for label, _ in row if icon in label), None)
    if found is None and missing is None:
        raise LookupError(f"no {icon} button on message {message.message_id}")
    return found or ""


async def _review(emulator: BotApiEmulator, facilitator: EmulatedUser) -> None:
    """The facilitator asks for the review queue now (/review) and approves every batch."""
    await facilitator.send("/review")
    await emulator.wait_idle(quiet=QUIET)
    for message in list(facilitator.messages):
        approving = [
            data
            for row in message.buttons
            for _, data in row
            if data and data.startswith(f"{REVIEW_PREFIX}:") and data.endswith((":e", ":a"))
        ]
        if approving:  # "approve all" when several wait, else the one's own button
            all_of_them = [data for data in approving if data.endswith(":e")]
            await facilitator.press_data((all_of_them or approving)[0], message=message)
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
