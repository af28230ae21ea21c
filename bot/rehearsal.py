"""The offline rehearsal: a whole workshop played against the Bot API emulator (`tgemu`).

Without a bot token, `coopbot run` plays one: an organiser creates a workshop, a
facilitator opens their link and the live screen, twelve participants (three per actor
category, so that no group falls under the anonymity threshold) walk the journey side by
side (by button and by text, in French and in English), the facilitator reviews the
statements, each group chooses its own for the agora, the room votes on them, a
resolution is recorded, and the facilitator takes the export and the report. Everything
goes through the real bot and lands in a SQLite file of its own, so a newcomer sees the
product work before they create a bot with @BotFather.

The console shows a few progress lines and the live screen's address while it plays; the
chats, the files the bot sent, a screenshot of the screen and the bot's log go to
`./rehearsal/` (`bot/rehearsal_files.py`).

The emulator is test infrastructure: it is imported only when a rehearsal starts.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot import rehearsal_script as script
from bot.app import build_application, is_handling_updates, running
from bot.keyboards import REVIEW_PREFIX
from bot.rehearsal_files import (
    EXPORT,
    LOG,
    SCREENSHOT,
    ScreenCamera,
    Transcript,
    Written,
    caucus_ballot,
    clear_previous,
    has_vote_buttons,
    labelled,
    logging_to,
    room_control,
    save_documents,
    write_chats,
)
from bot.settings import Settings
from flows.journey import Category, Journey
from flows.journey_file import default_journey
from flows.outbox import QuietHours
from storage.address import is_server_address

if TYPE_CHECKING:
    from tgemu import BotApiEmulator, EmulatedUser, SentMessage

ORGANISER_ID = 990_001
FACILITATOR_ID = 990_002
FOLDER = Path("rehearsal")
_SQLITE_FILES = ("-wal", "-shm", "-journal")
# The bot is watched (is_handling_updates), so a short silence is enough to know it is done.
QUIET = 0.02
# The live screen's picture is taken on the fourth statement, its votes in: by then it
# lists a consensus, a divisive statement and a resolution.
PHOTOGRAPHED_AT = 3
_LINK = re.compile(r"start=([A-Za-z0-9_-]+)")
_SCREEN_LINK = re.compile(r"https?://\S+/s/[A-Za-z0-9_-]+")

Step = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Participant:
    """One of the twelve: their emulated phone, language, category and place in it."""

    user: EmulatedUser
    language: str
    category: Category
    member: int  # 0, 1 or 2 within the category
    number: int  # 1 to 12


def rehearsal_database(settings: Settings) -> Path:
    """The rehearsal's own SQLite file, beside the configured one: its made-up workshop
    and participants never mix with real ones."""
    # On a server, the rehearsal still plays on the embedded default, in a file of its own.
    target = settings.database
    path = Path("coopbot.sqlite3") if is_server_address(target) else Path(target)
    return path.with_name(f"{path.stem}-rehearsal{path.suffix or '.sqlite3'}")


def rehearse(settings: Settings, *, out: TextIO | None = None, folder: Path = FOLDER) -> int:
    """Play the rehearsal, leave what everyone saw in `folder`; 0 when it went through."""
    try:
        import tgemu  # noqa: F401  (its server needs aiohttp)
    except ModuleNotFoundError as missing:
        print(
            f"coopbot: the offline rehearsal needs {missing.name}, which this install lacks: "
            "pip install 'coopbot[rehearsal]', or set TELEGRAM_BOT_TOKEN to run the bot.",
            file=sys.stderr,
        )
        return 2
    console = out or sys.stdout
    try:
        clear_previous(folder)
    except OSError as error:
        print(f"coopbot: cannot write the rehearsal to {folder}: {error}.", file=sys.stderr)
        return 2
    # A new workshop in a new file each time: a second one would make the facilitator's
    # commands ask which workshop they mean.
    database = rehearsal_database(settings)
    for stale in (database, *(database.with_name(database.name + s) for s in _SQLITE_FILES)):
        stale.unlink(missing_ok=True)
    # Its scripted people tap faster than anyone could: no flood control for them, and
    # the emulator needs no pacing of the bot's messages. A whole workshop in a minute has
    # no night: no quiet hours, so that the session's invitation comes at any hour.
    local = replace(
        settings,
        database=str(database),
        flood_limit=0,
        quiet_hours=QuietHours.none(),
        messages_per_second=1000,
        web_listen=("127.0.0.1", 0),
        public_url=None,
    )
    with logging_to(folder / LOG):
        return asyncio.run(_rehearse(local, console, folder))


async def _rehearse(settings: Settings, out: TextIO, folder: Path) -> int:
    from tgemu import BotApiEmulator

    started = time.monotonic()
    say = _printer(out)
    say(
        "coopbot: no TELEGRAM_BOT_TOKEN, so this is the offline rehearsal: a whole workshop "
        f"against the built-in Bot API emulator, stored in {settings.database}."
    )
    written = Written(folder)
    camera = ScreenCamera()
    async with BotApiEmulator(bot_username="coopbot_rehearsal_bot") as emulator:
        local = replace(
            settings,
            token=emulator.token,
            api_base_url=emulator.base_url,
            organisers=settings.organisers | {ORGANISER_ID},
        )
        application = build_application(local)
        emulator.watch(lambda: is_handling_updates(application))
        play = _Play(emulator, default_journey(), say, camera, folder)
        try:
            async with running(application):
                await play.run(written)
        finally:
            if play.camera_opening is not None:
                await asyncio.gather(play.camera_opening, return_exceptions=True)
            await camera.close()
        refused = emulator.rejected
    written.chats = write_chats(folder, play.chats())
    written.no_screenshot = written.no_screenshot or camera.reason
    if refused:
        say(f"The emulator refused {len(refused)} call(s): {refused[0]}")
        return 1
    say(
        f"Rehearsal complete in {time.monotonic() - started:.0f} s: {len(script.PARTICIPANTS)} "
        f"participants finished; their answers are in {settings.database}. "
        "Set TELEGRAM_BOT_TOKEN to run the real bot."
    )
    say(f"What it left in {folder}/:")
    for line in written.listing():
        say(line)
    return 0


def _printer(out: TextIO) -> Callable[[str], None]:
    def say(line: str) -> None:
        print(line, file=out, flush=True)

    return say


class _Play:
    """The workshop's script, person by person, as they would act on their phones."""

    def __init__(
        self,
        emulator: BotApiEmulator,
        journey: Journey,
        say: Callable[[str], None],
        camera: ScreenCamera,
        folder: Path,
    ) -> None:
        self.emulator, self.journey, self.say = emulator, journey, say
        self.camera, self.folder = camera, folder
        self.organiser = emulator.user(ORGANISER_ID, first_name="Organiser", language_code="fr")
        self.facilitator = emulator.user(
            FACILITATOR_ID, first_name="Facilitator", language_code="fr"
        )
        self.people = [
            Participant(
                user=emulator.user(
                    user_id,
                    first_name=name,
                    language_code=language,
                    username=f"rehearsal_{user_id}",
                ),
                language=language,
                category=journey.categories[index // script.PER_CATEGORY % len(journey.categories)],
                member=index % script.PER_CATEGORY,
                number=index + 1,
            )
            for index, (user_id, name, language) in enumerate(script.PARTICIPANTS)
        ]
        self.code = ""  # the workshop's join code, once created
        self.shot: Path | None = None  # the live screen's picture, once taken
        self.screen_link: str | None = None
        self.camera_opening: asyncio.Task[None] | None = None

    async def idle(self) -> None:
        await self.emulator.wait_idle(quiet=QUIET)

    async def run(self, written: Written) -> None:
        self.code = await self.create()
        await self.open_screen()
        await self.answer_both_phases(self.code)
        await self.review()
        await self.caucus()
        await self.agora()
        await self.hand_over(written)

    async def create(self) -> str:
        """The organiser creates the workshop and its first session; the facilitator joins."""
        organiser = self.organiser
        await organiser.send("/newsession Répétition de l'atelier coopération")
        await self.idle()
        links = [m.text or "" for m in organiser.messages if "start=" in (m.text or "")]
        join_code, facilitator_code = (_LINK.findall(text)[0] for text in links[:2])
        # When and where the first session is, for which territory, and when the
        # décantation comes: those who join get the session's invitation and calendar file.
        for answer in script.SESSION:
            await organiser.send(answer)
            await self.idle()
        await self.facilitator.send(f"/start {facilitator_code}")
        await self.idle()
        self.say("The organiser created the workshop; the facilitator joined with their link.")
        return join_code

    async def open_screen(self) -> None:
        """The facilitator asks for the live screen's link, to project it in the room."""
        await self.facilitator.send("/ecran")
        await self.idle()
        found = [_SCREEN_LINK.search(m.text or m.caption or "") for m in self.facilitator.messages]
        link = next((match.group(0) for match in reversed(found) if match), None)
        if link is None:
            self.say("Live screen: none (this build's /screen gave no link).")
            self.camera.reason = "the bot gave no live screen link"
            return
        self.say(f"Live screen: {link}  (open it in a browser: it follows the room as it plays)")
        self.screen_link = link

    async def answer_both_phases(self, join_code: str) -> None:
        """Everyone joins and answers phase 1 and the exchange between peers, side by side."""
        plans = [self.plan(person, join_code) for person in self.people]
        for index in range(max(len(plan) for plan in plans)):
            for plan in plans:
                if index < len(plan):
                    await plan[index]()
            await self.idle()
        self.say(
            f"{len(self.people)} participants ({script.PER_CATEGORY} per category, in French and "
            "English) answered both phases."
        )

    def plan(self, person: Participant, join_code: str) -> list[Step]:
        """Every tap and message of one participant, in order."""
        user, language = person.user, person.language
        actions: list[script.Action] = [
            (script.SEND, f"/start {join_code}"),
            (script.PRESS, script.CONSENT[language]),
            (script.PRESS, person.category.label[language]),
            (script.PRESS, script.LANGUAGE[language]),
        ]
        prompts = self.journey.live_prompts() + self.journey.peer_prompts(person.category.id)
        first_other = next(c.id for c in self.journey.categories if c != person.category)
        for number, prompt in enumerate(prompts):
            actions += script.answer(
                prompt,
                category=person.category.id,
                member=person.member,
                number=person.number,
                seed=number + person.number,
                language=language,
                first_other=first_other,
            )
        return [_step(user, kind, text) for kind, text in actions]

    async def review(self) -> None:
        """The facilitator asks for the review queue now (/review) and approves every batch."""
        facilitator = self.facilitator
        await facilitator.send("/review")
        await self.idle()
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
                await self.idle()

    async def caucus(self) -> None:
        """Each group votes on its members' statements, one message per phone edited in
        place: it keeps what its first member wrote and turns down its second's request."""
        if self.screen_link is not None:  # Chromium starts while the groups choose
            self.camera_opening = asyncio.create_task(self.camera.open(self.screen_link))
        turned_down = script.turned_down()
        seen: dict[int, set[int]] = {}
        for _ in range(40):  # a few rounds per statement; a stuck message must not hang
            pressed = False
            for person in self.people:
                ballot = caucus_ballot(person.user.messages)
                if ballot is None or ballot[1] in seen.setdefault(person.user.id, set()):
                    continue
                message, statement = ballot
                seen[person.user.id].add(statement)
                against = any(text in (message.text or "") for text in turned_down)
                label = script.VOTES[person.language][script.DISAGREE if against else script.AGREE]
                await person.user.press(label, message=message)
                pressed = True
            await self.idle()
            if not pressed:
                break
        self.say("Each group chose, among its members' statements, those it sends to the agora.")

    async def agora(self) -> None:
        """The agora in the room: a proposal made meanwhile, every statement voted on, a
        convergence recorded as a resolution, and the screen's picture taken."""
        facilitator = self.facilitator
        await facilitator.send("/agora room")
        await self.idle()
        await self.people[0].user.send(script.PROPOSAL)  # in the agora: a proposal, reviewed first
        await self.idle()
        await self.review()
        shown = await self.walk_the_room()
        await facilitator.send("/resolutions")
        await self.idle()
        await facilitator.send("/agora close")
        await self.idle()
        self.say(f"The room voted on {shown} statements in the agora; one became a resolution.")

    async def walk_the_room(self) -> int:
        """The room votes on each statement the facilitator shows (some agreed by all,
        some dividing the room), the first becomes a resolution, then "next", until it no
        longer moves. Returns how many statements were shown."""
        facilitator, shown = self.facilitator, 0
        while True:
            for person in self.people:
                user = person.user
                ballot = next((m for m in reversed(user.messages) if has_vote_buttons(m)), None)
                if ballot is not None:  # none on the author's own statement
                    choice = script.room_vote(
                        shown,
                        group=(person.number - 1) // script.PER_CATEGORY,
                        member=person.member,
                    )
                    await user.press(script.VOTES[person.language][choice], message=ballot)
            await self.idle()
            if shown == 0:
                await self.resolve(room_control(facilitator.messages))
            if shown == PHOTOGRAPHED_AT:
                await self.photograph_screen()
            shown += 1
            control = room_control(facilitator.messages)
            before = control.text
            await facilitator.press(labelled(control, "➡️"), message=control)
            await self.idle()
            if room_control(facilitator.messages).text == before:
                if self.shot is None:  # fewer statements than that
                    await self.photograph_screen()
                return shown

    async def photograph_screen(self) -> None:
        """The live screen as the room sees it, once the statement's votes are in."""
        ready = (
            "() => { const main = document.querySelector('main#screen');"
            " const votes = document.querySelector('[data-votes-total]');"
            " return main && main.dataset.phase === 'agora'"
            " && votes && /[1-9]/.test(votes.textContent); }"
        )
        if self.camera_opening is not None:
            await self.camera_opening
        self.shot = await self.camera.shoot(self.folder / SCREENSHOT, ready=ready)

    async def resolve(self, control: SentMessage) -> None:
        """The facilitator marks a convergence: the card gets a carrier and a due date."""
        facilitator = self.facilitator
        await facilitator.press(labelled(control, "🤝"), message=control)
        await self.idle()
        card = facilitator.last
        carrier = self.journey.categories[0].label["fr"]
        for label in (labelled(card, "👥"), carrier):
            await facilitator.press(label, message=facilitator.bot_message(card.message_id))
            await self.idle()
        await facilitator.press(
            labelled(card, "📅"), message=facilitator.bot_message(card.message_id)
        )
        await self.idle()
        await facilitator.send((date.today() + timedelta(days=120)).strftime("%d/%m/%Y"))
        await self.idle()
        final = facilitator.bot_message(card.message_id) or card
        await facilitator.press(labelled(final, "✅"), message=final)
        await self.idle()

    async def hand_over(self, written: Written) -> None:
        """The facilitator takes the export and the report; between meetings, the organiser
        keeps the cooperation alive with a broadcast."""
        facilitator, organiser = self.facilitator, self.organiser
        await facilitator.send("/progress")
        await self.idle()
        before = len(facilitator.messages)
        await facilitator.send("/exporter")
        await self.idle()
        exported = [m for m in facilitator.messages[before:] if m.kind == "document"]
        written.export = save_documents(self.folder / EXPORT, exported)
        await self.choose_quotes()
        before = len(facilitator.messages)
        await facilitator.send("/releve")
        await self.idle()
        reports = [
            m
            for m in facilitator.messages[before:]
            if m.kind == "document" and (m.file_name or "").endswith(".docx")
        ]
        saved = save_documents(self.folder, reports)
        written.report = saved[0] if saved else None
        written.screenshot = self.shot
        await organiser.send(f"/broadcast {self.code} {script.BROADCAST}")
        await self.idle()
        await organiser.press(labelled(organiser.last, "📣"))
        await self.idle()
        await organiser.send("/workshops")
        await self.idle()
        self.say("The facilitator took the export and the report; the organiser sent a broadcast.")

    async def choose_quotes(self) -> None:
        """The facilitator opens the first question of /quotes (one message, edited in
        place) and puts its first two quotes in the report (none is by default)."""
        facilitator = self.facilitator
        await facilitator.send("/citations")
        await self.idle()
        await facilitator.press(facilitator.last.labels[0])  # the first question's quotes
        await self.idle()
        for number in (1, 2):
            await facilitator.press(f"⬜ {number}")
            await self.idle()

    def chats(self) -> list[Transcript]:
        """Everyone's chat, for the Markdown files."""
        found = [
            Transcript("organiser", "Organiser's chat", "Organiser", *_of(self.organiser)),
            Transcript("facilitator", "Facilitator's chat", "Facilitator", *_of(self.facilitator)),
        ]
        for person in self.people:
            user = person.user
            title = (
                f"Participant {person.number:02d}'s chat ({user.first_name}: "
                f"{person.category.label['en']}, Telegram in {person.language})"
            )
            found.append(
                Transcript(f"participant-{person.number:02d}", title, user.first_name, *_of(user))
            )
        return found


def _of(user: EmulatedUser) -> tuple[list[SentMessage], list[dict[str, object]]]:
    return user.messages, user.sent


def _step(user: EmulatedUser, kind: str, text: str) -> Step:
    """One tap or message, to play when its turn comes."""
    if kind == script.SEND:
        return lambda: user.send(text)
    return lambda: user.press(text)
