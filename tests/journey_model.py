"""A model of the journey, random traffic, and a driver that plays it against the real bot.

Shared by the property-based test (`tests/test_properties_e2e.py`, which draws the
traffic with hypothesis) and the soak benchmark (`bench/soak.py`, which draws it with a
seeded `random.Random`). The model is written from the journey's data and the rules a
participant reads on screen, apart from `flows/engine.py`: it predicts, for every
participant, their step, their answers (question id → value) and their statements, and
the driver compares that with the SQLite file after each step. A dropped, doubled or
invented answer, or a move the bot should not have made, shows as a difference.

A button press is interpreted from the callback data it carries, the way the bot must:
the participation and the step it was shown for, and the value. So the model does not
need to know which message is the live one; a stale button carries a step the
participant has left, and changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol, TypeVar

from flows.journey import Journey, Prompt
from tgemu import BotApiEmulator, EmulatedUser
from tgemu.models import SentMessage

T = TypeVar("T")

CONSENT, CATEGORY, LANGUAGE, PEERS_WAIT, DONE = (
    "consent",
    "category",
    "language",
    "peers_wait",
    "done",
)
BACK, SKIP, FINISH = "~back", "~skip", "~done"
LANGUAGES = ("fr", "en")
MAX_LENGTH = 2000  # Settings.max_answer_length, the default
MAX_STATEMENTS = 10
WRONG_CODES_PER_HOUR = 10
# Whether the bot records an input it refused as handled: it does, so that delivered
# again after the participant moved on, a refused text answers no later question (see
# test_a_refused_text_delivered_again_later_answers_nothing).
REFUSALS_RECORDED = True
TELEGRAM_LIMIT = 4096  # a Telegram text, in UTF-16 code units


def utf16(text: str) -> int:
    """A text's length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


# -- the model ---------------------------------------------------------------------------


@dataclass
class Person:
    """What a participant should have in storage, as the model sees it."""

    user_id: int
    joined: bool = False  # a participation exists (not declined, not erased)
    participant_id: int | None = None  # learnt from storage once they joined
    state: str = ""
    category: str | None = None
    answers: dict[str, str] = field(default_factory=dict)
    statements: dict[str, list[str]] = field(default_factory=dict)
    wrong_codes: int = 0

    def leave(self) -> None:
        self.joined, self.participant_id, self.state, self.category = False, None, "", None
        self.answers, self.statements = {}, {}


class JourneyModel:
    """The journey as a participant lives it: steps in order, what each accepts."""

    def __init__(self, journey: Journey, code: str) -> None:
        self.code = code
        self.peers_open = False
        self.phase1 = [p.id for p in journey.live_prompts()]
        self.peers = {c.id: [p.id for p in journey.peer_prompts(c.id)] for c in journey.categories}
        every = [*journey.live_prompts(), *journey.all_peer_prompts()]
        self.prompts: dict[str, Prompt] = {p.id: p for p in every}
        # A category's own copy of each phase 2 prompt: only the options that fit the pair.
        self.asked = {
            c.id: {p.id: p for p in journey.peer_prompts(c.id)} for c in journey.categories
        }
        self.peer_ids = {p.id for p in journey.all_peer_prompts()}
        self.categories = [c.id for c in journey.categories]
        self.persons: dict[int, Person] = {}

    def person(self, user_id: int) -> Person:
        return self.persons.setdefault(user_id, Person(user_id))

    # The order of the steps.

    def _sequence(self, person: Person) -> list[str]:
        return self.peers.get(person.category or "", [])

    def after(self, person: Person, state: str) -> str:
        if state == CONSENT:
            return CATEGORY
        if state == CATEGORY:
            return LANGUAGE
        if state == LANGUAGE:
            return self.phase1[0]
        if state in self.phase1:
            index = self.phase1.index(state)
            if index + 1 < len(self.phase1):
                return self.phase1[index + 1]
            return self._sequence(person)[0] if self.peers_open else PEERS_WAIT
        sequence = self._sequence(person)
        index = sequence.index(state)
        return sequence[index + 1] if index + 1 < len(sequence) else DONE

    def before(self, person: Person, state: str) -> str | None:
        if state in (CONSENT, CATEGORY):
            return None  # consent, once given, is not asked again
        if state == LANGUAGE:
            return CATEGORY
        if state in self.phase1:
            index = self.phase1.index(state)
            return self.phase1[index - 1] if index else LANGUAGE
        if state == PEERS_WAIT:
            return self.phase1[-1]
        sequence = self._sequence(person)
        if state == DONE:
            return sequence[-1]
        index = sequence.index(state)
        return sequence[index - 1] if index else self.phase1[-1]

    def _locked(self, person: Person) -> bool:
        """Phase 2 answered as this category: the way back to the category is closed."""
        made = any(person.statements.values())
        return made or any(question in self.peer_ids for question in person.answers)

    # Inputs. Each returns whether the bot records the update as handled (in its ledger,
    # with the move it made): a move of the journey, even one that changes nothing
    # stored (a step back, a double tap on an option). Anything else (a refusal, a stale
    # button, a join, an erasure) is handled afresh when Telegram delivers it again.

    def answer(self, user_id: int, value: str, *, button: bool, navigation: bool = False) -> bool:
        """A typed text, a journey button already checked as current, or /back and /skip."""
        person = self.person(user_id)
        if not person.joined:
            return False
        moved = self._answer(person, value, button=button, navigation=navigation)
        return moved or (REFUSALS_RECORDED and person.joined)  # not after declining

    def _answer(self, person: Person, value: str, *, button: bool, navigation: bool) -> bool:
        state, navigating = person.state, button or navigation
        prompt = self.asked.get(person.category or "", {}).get(state) or self.prompts.get(state)
        kind = prompt.kind if prompt is not None else state
        if navigating and value == SKIP and state == DONE:
            return False
        if navigating and value == BACK:
            target = self.before(person, state)
            if target is None or (state == LANGUAGE and self._locked(person)):
                return False
            person.state = target
            return True
        if state == PEERS_WAIT:
            if not self.peers_open:
                return False
            person.state = self._sequence(person)[0]
            return True
        if navigating and value == SKIP:
            if prompt is None or not prompt.optional:
                return False
            person.state = self.after(person, state)
            return True
        if state == DONE:
            return False
        value = value.strip()
        if kind == "multi":
            assert prompt is not None
            return self._multi(person, prompt, value, button)
        if kind == "list":
            assert prompt is not None
            return self._list(person, prompt, value, button)
        if kind == "text":
            return not button and _fits(value) and self._store(person, state, value)
        if kind == "scale":
            return value in ("1", "2", "3", "4", "5") and self._store(person, state, value)
        if not button:
            return False  # consent, category, language and choices take buttons only
        if kind == "choice":
            assert prompt is not None
            options = {o.id for o in prompt.options}
            return value in options and self._store(person, state, value)
        if state == CONSENT and value == "no":
            person.leave()  # declined: the participation and its answers are erased
            return False
        if state == CONSENT and value == "yes":
            person.state = CATEGORY
            return True
        if state == CATEGORY and value in self.categories:
            person.category, person.state = value, LANGUAGE
            return True
        if state == LANGUAGE and value in LANGUAGES:
            person.state = self.phase1[0]
            return True
        return False

    def _store(self, person: Person, state: str, value: str) -> bool:
        person.answers[state] = value
        person.state = self.after(person, state)
        return True

    def _multi(self, person: Person, prompt: Prompt, value: str, button: bool) -> bool:
        ticked = [v for v in person.answers.get(prompt.id, "").split(",") if v]
        other = person.answers.get(prompt.id + ".other")
        if not button:
            if not (prompt.other and _fits(value)):
                return False
            person.answers[prompt.id + ".other"] = value
            return True
        if value == FINISH:
            if not (ticked or other or prompt.optional):
                return False
            person.state = self.after(person, prompt.id)
            return True
        sign, option = value[:1], value[1:]
        if sign not in ("+", "-") or option not in {o.id for o in prompt.options}:
            return False
        chosen = set(ticked) - {option} | ({option} if sign == "+" else set())
        stored = ",".join(o.id for o in prompt.options if o.id in chosen)
        if stored:
            person.answers[prompt.id] = stored
        else:
            person.answers.pop(prompt.id, None)
        return True

    def _list(self, person: Person, prompt: Prompt, value: str, button: bool) -> bool:
        made = person.statements.get(prompt.id, [])
        if button:
            if value != FINISH or not (made or prompt.optional):
                return False
            person.state = self.after(person, prompt.id)
            return True
        if not _fits(value) or len(made) >= MAX_STATEMENTS:
            return False
        if value in made:  # the same statement sent again at its step: once is enough
            return False
        person.statements[prompt.id] = [*made, value]
        return True

    def press(self, user_id: int, data: str) -> bool:
        """Any callback query, by its data, as the bot routes it."""
        person = self.person(user_id)
        if data == "forget:yes":
            person.leave()
            return False
        parts = data.split(":")
        if len(parts) != 4 or parts[0] != "j" or not parts[1].isdecimal():
            return False  # not a journey button: a stale or forged one changes nothing here
        if not person.joined or int(parts[1]) != person.participant_id:
            return False  # another (or no) participation
        if parts[2] != person.state:
            return False  # a button of a step they have left
        return self.answer(user_id, parts[3], button=True)

    def command(self, user_id: int, text: str) -> bool:
        """A command message, as PTB splits it."""
        name, *args = text.split()
        name = name[1:].lower()  # PTB matches commands whatever their case
        person = self.person(user_id)
        if name in ("start", "join") and args:
            self.join(person, args[0])
        elif name in ("start", "resume"):
            if person.joined and person.state == PEERS_WAIT and self.peers_open:
                person.state = self._sequence(person)[0]
        elif name == "back":
            return self.answer(user_id, BACK, button=False, navigation=True)
        elif name == "skip":
            return self.answer(user_id, SKIP, button=False, navigation=True)
        return False

    def join(self, person: Person, code: str) -> None:
        if person.wrong_codes >= WRONG_CODES_PER_HOUR:
            return  # not even looked up
        if code != self.code:
            person.wrong_codes += 1
        elif not person.joined:
            person.joined, person.state = True, CONSENT

    def open_peers(self) -> None:
        self.peers_open = True
        for person in self.persons.values():
            if person.joined and person.state == PEERS_WAIT:
                person.state = self._sequence(person)[0]


def _has_data(message: SentMessage, prefix: str) -> bool:
    return any((data or "").startswith(prefix) for row in message.buttons for _, data in row)


def _fits(value: str) -> bool:
    return bool(value) and utf16(value) <= MAX_LENGTH


# -- what storage holds ------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    participant_id: int | None
    state: str
    category: str | None
    answers: dict[str, str]
    statements: dict[str, list[str]]


def read_stored(conn: sqlite3.Connection, user_id: int) -> Stored:
    """Everything of the user's participations that the model predicts (a leftover
    participation, or an answer of one, shows as a difference too)."""
    rows = conn.execute(
        "SELECT id, state, category FROM participants WHERE user_id = ?", (user_id,)
    ).fetchall()
    answers = dict(
        conn.execute(
            "SELECT a.question_id, a.value FROM answers a"
            " JOIN participants p ON p.id = a.participant_id WHERE p.user_id = ?",
            (user_id,),
        ).fetchall()
    )
    statements: dict[str, list[str]] = {}
    for question, text in conn.execute(
        "SELECT s.question_id, COALESCE(s.written, s.text) FROM statements s"
        " JOIN participants p ON p.id = s.participant_id WHERE p.user_id = ? ORDER BY s.id",
        (user_id,),
    ):
        statements.setdefault(question, []).append(text)
    if len(rows) > 1:
        return Stored(-len(rows), "several participations", None, answers, statements)
    if not rows:
        return Stored(None, "", None, answers, statements)
    (pid, state, category) = rows[0]
    return Stored(pid, state, category, answers, statements)


def peers_open(conn: sqlite3.Connection) -> bool:
    """Whether phase 2 of the (only) workshop is open."""
    row = conn.execute("SELECT peers_opened_at IS NOT NULL FROM workshops").fetchone()
    return bool(row[0])


def differences(model: JourneyModel, conn: sqlite3.Connection, users: Sequence[int]) -> list[str]:
    """Where storage and the model disagree, in words (empty: they agree). Learns each
    new participation's id on the way (the one thing the model cannot predict)."""
    found: list[str] = []
    for user_id in users:
        person, stored = model.person(user_id), read_stored(conn, user_id)
        if person.joined and person.participant_id is None and stored.participant_id:
            person.participant_id = stored.participant_id
        expected = Stored(
            person.participant_id if person.joined else None,
            person.state,
            person.category,
            person.answers,
            person.statements,
        )
        if stored != expected:
            found.append(f"user {user_id}: stored {_brief(stored)}, model {_brief(expected)}")
    return found


def _brief(stored: Stored) -> str:
    answers = {
        k: (v if len(v) < 40 else f"{v[:30]!r}…({utf16(v)})") for k, v in stored.answers.items()
    }
    statements = {k: [s[:30] for s in v] for k, v in stored.statements.items()}
    return (
        f"participant={stored.participant_id} state={stored.state} category={stored.category}"
        f" answers={answers} statements={statements}"
    )


# -- the traffic -------------------------------------------------------------------------


class Pick(Protocol):
    """Where the random choices come from: hypothesis in the test, a seeded
    `random.Random` in the soak benchmark."""

    def integer(self, low: int, high: int) -> int: ...

    def unicode_text(self) -> str:
        """A short text of any Unicode (no surrogates), not blank."""
        ...

    def data(self) -> str:
        """Forged callback data: any text of 1 to 64 UTF-8 bytes."""
        ...


def choose(pick: Pick, options: Sequence[T]) -> T:
    return options[pick.integer(0, len(options) - 1)]


# Pieces that make texts hard to handle: right-to-left scripts and marks, emoji built
# with zero-width joiners, flags, combining accents, invisible characters, HTML.
PIECES = (
    "مرحبا بالتعاون",  # Arabic
    "שיתוף פעולה",  # Hebrew
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u2066\u2069",  # isolates
    "👩\u200d👩\u200d👧\u200d👦",  # a family: four emoji joined by ZWJ
    "🧑🏽\u200d🌾",
    "🇫🇷",
    "e\u0301\u0327",  # combining marks
    "\u200b",  # zero-width space
    "\u200c\u200d",  # zero-width non-joiner and joiner
    "\ufeff",  # byte order mark
    "<b>",
    "</i>",
    "&amp;",
    " & ",
    "<",
    "Saint-Denis",
    "@someone",
    "jean.dupont@example.org",
    "+33 6 12 34 56 78",
    "https://example.org/x?y=1",
    "ﷺ",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\t",
    "\n",
    "\u3000",
    "Ⅻ",
    "٣",
)
LONG_LENGTHS = (MAX_LENGTH - 1, MAX_LENGTH, MAX_LENGTH + 1, TELEGRAM_LIMIT - 1, TELEGRAM_LIMIT)
MEDIA = ("sticker", "photo", "voice", "document", "location", "contact")
COMMANDS = (
    "back",
    "skip",
    "pause",
    "resume",
    "mydata",
    "help",
    "language",
    "whoami",
    "progress",
    "forget",
    "start",
    "join",
    "frobnicate",
    "open",
    "export",
    "Back",
)
FORGED = (
    "j:{pid}:{state}:{junk}",
    "j:{pid}:{state}:~back",
    "j:{pid}:{state}:~skip",
    "j:{pid}:{state}:~done",
    "j:{pid}:{old}:3",
    "j:{other}:{state}:1",
    "j:{pid}:{state}:+{junk}",
    "lang:{junk}",
    "lang:en",
    "v:{other}:a",
    "cv:{other}:d",
    "mod:{other}:a",
    "rv:{other}:e",
    "room:1:{other}:n",
    "res:{other}:x",
    "org:{junk}",
    "forget:no",
    "{junk}",
)


def fill(unit: str, length: int) -> str:
    """A text of exactly `length` UTF-16 code units, built by repeating `unit`."""
    pieces: list[str] = []
    size = 0
    while True:
        for char in unit:
            width = utf16(char)
            if size + width > length:
                return "".join(pieces) + "x" * (length - size)
            pieces.append(char)
            size += width


def draw_text(pick: Pick) -> str:
    """A text a participant could send: any Unicode, hard pieces, a number, a long one.
    Never blank (clients do not send those) and never a command."""
    kind = pick.integer(0, 9)
    if kind <= 2:
        text = pick.unicode_text()
    elif kind <= 4:
        text = "".join(choose(pick, PIECES) for _ in range(pick.integer(1, 6)))
    elif kind <= 6:
        text = choose(pick, ("1", "3", " 5 ", "4\n", "0", "6", "2.0", "٣", "５"))
    elif kind == 7:
        text = f"Réflexion n°{pick.integer(0, 999)} : plutôt d'accord"
    else:
        unit = pick.unicode_text() if pick.integer(0, 1) else choose(pick, PIECES)
        text = fill(unit, choose(pick, LONG_LENGTHS))
    if not text.strip() or text.startswith("/"):
        text = "·" + text
    if utf16(text) > TELEGRAM_LIMIT:
        text = fill(text, TELEGRAM_LIMIT)
    return text


@dataclass(frozen=True)
class Action:
    """One update to send (or, for `open_peers`, the facilitator's)."""

    # answer, press, text, oversize, stale, forged, command, edit, media, redeliver, open_peers
    kind: str
    user: int = 0  # the index of the participant
    text: str = ""  # what is typed, the command, the forged data's template, the media
    index: int = 0  # which button, message or update; a number for forged data
    junk: str = ""  # random text for forged data and commands' arguments


def draw_action(pick: Pick, users: int) -> Action:
    """The next update of random traffic: a quarter answers to the question shown, as a
    diligent participant gives them (so that people get deep into the journey), then
    every kind of input a participant (or a broken client) can send."""
    user = pick.integer(0, users - 1)
    roll = pick.integer(0, 99)
    if roll < 25:
        return Action("answer", user, index=pick.integer(0, 7))
    if roll < 40:
        return Action("press", user, index=pick.integer(0, 7))
    if roll < 55:
        return Action("text", user, draw_text(pick))
    if roll < 60:
        return Action("command", user, "/start {code}")
    if roll < 69:
        name = choose(pick, COMMANDS)
        args = choose(pick, ("", " {code}", " {junk}", " peers", " a b c", " {junk} {code}"))
        return Action("command", user, f"/{name}{args}", junk=pick.data())
    if roll < 70:
        return Action("command", user, "/join {junk}", junk=pick.data())
    if roll < 75:
        return Action("stale", user, index=pick.integer(0, 63))
    if roll < 81:
        template = choose(pick, FORGED)
        return Action("forged", user, template, index=pick.integer(0, 99), junk=pick.data())
    if roll < 85:
        return Action("edit", user, draw_text(pick))
    if roll < 89:
        return Action("media", user, choose(pick, MEDIA))
    if roll < 96:
        return Action("redeliver", user, index=pick.integer(0, 5))
    if roll < 97:
        return Action("oversize", user, index=pick.integer(1, 2000))
    if roll < 98:
        return Action("open_peers")
    return Action("press", user, text="forget", index=pick.integer(0, 7))


# -- playing it --------------------------------------------------------------------------


@dataclass
class Sent:
    """An update sent, to deliver again later, and what it does to the model if the bot
    handles it afresh (None: the bot recorded it as handled, it changes nothing more)."""

    update_id: int
    user: int
    query: str | None  # the callback query's id, for a button
    replay: Callable[[], bool] | None


def _nothing() -> bool:
    return False


class Driver:
    """Plays actions against the bot through the emulator and keeps the model in step."""

    def __init__(
        self,
        emulator: BotApiEmulator,
        model: JourneyModel,
        users: Sequence[EmulatedUser],
        facilitator: EmulatedUser,
        *,
        own_redeliveries: bool = False,
    ) -> None:
        self.emulator = emulator
        # Deliver again only the acting user's own updates: when several users' updates
        # are in flight at once (the soak), another chat's redelivered update would be
        # handled in an order the model cannot know.
        self.own_redeliveries = own_redeliveries
        self.model = model
        self.users = list(users)
        self.facilitator = facilitator
        self.sent: list[Sent] = []
        self.redelivered_queries: set[str] = set()
        self.snapshots: dict[int, list[SentMessage]] = {u.id: [] for u in users}
        self._seen: dict[int, set[tuple[int, str]]] = {u.id: set() for u in users}
        self.counts: dict[str, int] = {}
        self.too_long: list[tuple[int, int]] = []  # (user id, typed length) to check replies
        # Forged data of another kind (forget:no, lang:en) pressed on the live question
        # rewrites it without its buttons, and the bot, at the participant's next input,
        # asks Telegram to take them off again ("message is not modified"): that
        # refusal, on those messages, is let through (see `problems`).
        self.rewritten: set[tuple[int, int]] = set()
        self.tolerated = 0  # refusals let through (see `problems`)

    def remember_buttons(self, user: EmulatedUser) -> None:
        """Keep every version of every message with buttons, for stale presses later."""
        for message in user.messages:
            if message.buttons:
                key = (message.message_id, repr(message.buttons))
                if key not in self._seen[user.id]:
                    self._seen[user.id].add(key)
                    self.snapshots[user.id].append(message)

    async def play(self, action: Action) -> None:
        """Send the action's update and apply to the model what it should do."""
        self.counts[action.kind] = self.counts.get(action.kind, 0) + 1
        if action.kind == "open_peers":
            await self.facilitator.send("/open peers")
            self.model.open_peers()
            return
        user = self.users[action.user]
        replay: Callable[[], bool] = _nothing
        query = None
        if action.kind in ("text", "oversize"):
            text = action.text
            if action.kind == "oversize":
                text = fill("é🙂" if action.index % 2 else "a", TELEGRAM_LIMIT + action.index)
                update_id = self._raw_text(user, text)
            else:
                update_id = await user.send(text)
            replay = partial(self._typed, user, text)
        elif action.kind == "edit":
            if not any("text" in m for m in user.sent):
                update_id = await user.send_sticker()
            else:
                update_id = await user.edit_last_text(action.text)
        elif action.kind == "media":
            update_id = await getattr(user, f"send_{action.text}")()
        elif action.kind == "command":
            text = action.text.replace("{code}", self.model.code).replace("{junk}", action.junk)
            update_id = await user.send(text)
            replay = partial(self.model.command, user.id, text)
        elif action.kind == "answer" and not self.model.person(user.id).joined:
            text = f"/start {self.model.code}"  # the diligent join first
            update_id = await user.send(text)
            replay = partial(self.model.command, user.id, text)
        elif action.kind == "answer" and self._types_answer(user, action):
            text = f"Réponse {action.index} : coopérer, c'est d'abord se parler."
            update_id = await user.send(text)
            replay = partial(self._typed, user, text)
        elif action.kind in ("answer", "press", "stale", "forged"):
            update_id, query, replay = await self._press(user, action)
        else:
            assert action.kind == "redeliver"
            sent = self._redeliverable(action)
            if sent:
                earlier = sent[-1 - action.index % len(sent)]
                self.emulator.redeliver(earlier.update_id)
                if earlier.query is not None:
                    self.redelivered_queries.add(earlier.query)
                if earlier.replay is not None and earlier.replay():
                    earlier.replay = None  # handled afresh, and recorded this time
                return
            update_id = await user.send("/help")
        claimed = replay()
        self.sent.append(Sent(update_id, action.user, query, None if claimed else replay))

    def _types_answer(self, user: EmulatedUser, action: Action) -> bool:
        """Whether a diligent participant answers the current question by typing."""
        person = self.model.person(user.id)
        prompt = self.model.prompts.get(person.state) if person.joined else None
        if prompt is None:
            return False
        if prompt.kind == "multi":
            return prompt.other and action.index % 4 == 1
        return prompt.kind == "text" or (prompt.kind == "list" and action.index % 4 != 0)

    def _typed(self, user: EmulatedUser, text: str) -> bool:
        person = self.model.person(user.id)
        prompt = self.model.prompts.get(person.state) if person.joined else None
        checked = prompt is not None and prompt.kind in ("text", "multi", "list")
        if checked and utf16(text.strip()) > MAX_LENGTH:
            self.too_long.append((user.id, utf16(text.strip())))
        return self.model.answer(user.id, text, button=False)

    def _raw_text(self, user: EmulatedUser, text: str) -> int:
        """A text longer than Telegram lets a client send (a broken or hostile client)."""
        state = self.emulator.state
        message = {
            "message_id": state.next_message_id(user.id),
            "from": user.as_user(),
            "chat": user.as_chat(),
            "date": 0,
            "text": text,
        }
        return self.emulator.push_update({"message": message})

    async def _press(
        self, user: EmulatedUser, action: Action
    ) -> tuple[int, str | None, Callable[[], bool]]:
        """Press a button shown (the newest, or an older version of any message) or send
        forged data; returns the update, its query's id and what it does to the model."""
        with_buttons = [m for m in user.messages if m.buttons]
        if not user.messages:  # nothing to press on (Telegram always sends the message)
            return await user.send("/start"), None, partial(self.model.command, user.id, "/start")
        if action.kind == "forged" or not with_buttons:
            data = self._forged(user, action) if action.kind == "forged" else "garbage"
            message = with_buttons[-1] if with_buttons else user.last
            if not data.startswith("j:"):
                self.rewritten.add((user.id, message.message_id))
        else:
            if action.kind == "answer":  # a value, not back or skip (and done, now and then)
                message = with_buttons[-1]
                values = [d for row in message.buttons for _, d in row if d and ":~" not in d]
                finish = [d for row in message.buttons for _, d in row if d and d.endswith(FINISH)]
                if values and not (finish and action.index % 4 == 0):
                    data = values[action.index % len(values)]
                    update_id = await user.press_data(data, message=message)
                    query = next(reversed(self.emulator.state.callback_queries))
                    return update_id, query, partial(self.model.press, user.id, data)
            if action.kind == "stale" and self.snapshots[user.id]:
                snapshots = self.snapshots[user.id]
                message = snapshots[-1 - action.index % len(snapshots)]
            else:
                message = with_buttons[-1]
                if action.text == "forget":  # the confirmation of /forget, if shown
                    forget = [m for m in with_buttons if _has_data(m, "forget:")]
                    message = forget[-1] if forget else message
            buttons = [
                data
                for row in message.buttons
                for _, data in row
                if data and not data.startswith(("http://", "https://", "tg://"))
            ]
            data = buttons[action.index % len(buttons)] if buttons else "garbage"
        update_id = await user.press_data(data, message=message)
        # The query's id, to recognise the bot answering it a second time on redelivery.
        query = next(reversed(self.emulator.state.callback_queries))
        return update_id, query, partial(self.model.press, user.id, data)

    def _forged(self, user: EmulatedUser, action: Action) -> str:
        person = self.model.person(user.id)
        states = [CONSENT, CATEGORY, LANGUAGE, *self.model.phase1, DONE]
        data = action.text
        for name, value in (
            ("{pid}", str(person.participant_id or action.index)),
            ("{state}", person.state or CONSENT),
            ("{old}", states[action.index % len(states)]),
            ("{other}", str(action.index + 1000)),
            ("{junk}", action.junk),
        ):
            data = data.replace(name, value)
        while len(data.encode()) > 64:
            data = data[:-1]
        return data or "x"

    # What must hold after each step.

    def mark(self) -> tuple[int, int]:
        """Where the emulator's record stands before a step."""
        return len(self.emulator.calls), len(self.emulator.rejected)

    def problems(self, mark: tuple[int, int], action: Action) -> list[str]:
        """Calls Telegram would have refused, an update left without any reply, a text
        too long without a clear reply.

        Two refusals are let through (and counted in `tolerated`), because the bot takes
        them in its stride and nothing is lost: a redelivered button's query answered
        again, and an edit that changes nothing ("message is not modified") made for an
        outdated client (a stale button), a redelivered update, or forged data: the bot
        redoes an edit it made before. A fresh input from an up-to-date client must go
        through without any refusal."""
        calls, rejected = mark
        actor = self.actor(action)
        found = []
        for call in self.emulator.rejected[rejected:]:
            query = call.params.get("callback_query_id")
            if call.method == "answerCallbackQuery" and query in self.redelivered_queries:
                continue
            if "not modified" in (call.error or "") and (
                action.kind in ("stale", "redeliver", "forged")
                or (int(call.params["chat_id"]), int(call.params["message_id"])) in self.rewritten
            ):
                self.tolerated += 1
                continue
            found.append(f"refused: {call}")
        if not any(
            call.method == "answerCallbackQuery" or str(call.params.get("chat_id")) == str(actor)
            for call in self.emulator.calls[calls:]
        ):
            found.append(f"user {actor} got no reply")
        for user_id, length in self.too_long:
            user = next(u for u in self.users if u.id == user_id)
            shown = user.last.text or ""
            if str(MAX_LENGTH) not in shown.replace("\u202f", "").replace(",", ""):
                found.append(f"user {user_id}: no clear reply to {length} characters: {shown!r}")
        self.too_long.clear()
        return found

    def actor(self, action: Action) -> int | None:
        """Whose chat the step's reply goes to."""
        if action.kind == "open_peers":
            return self.facilitator.id
        sent = self._redeliverable(action)
        if action.kind == "redeliver" and sent:
            return self.users[sent[-1 - action.index % len(sent)].user].id
        return self.users[action.user].id

    def _redeliverable(self, action: Action) -> list[Sent]:
        if not self.own_redeliveries:
            return self.sent
        return [sent for sent in self.sent if sent.user == action.user]
