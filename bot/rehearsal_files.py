"""What the offline rehearsal leaves in its folder: each chat as Markdown, the files the bot
sent (the export, its charts, the report), the bot's own log, and a screenshot of the live
screen taken with the system's Chromium when there is one.

Apart from `bot/rehearsal.py`, which plays the workshop, so that the playing stays readable;
this module does not know the emulator: it reads its messages by their shape (`Shown`).
"""

from __future__ import annotations

import logging
import re
import shutil
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)

CHATS = "chats"
EXPORT = "export"
SCREENSHOT = "screen.png"
LOG = "coopbot.log"
# A projector's resolution: the screen as the room would see it.
SCREEN_SIZE = {"width": 1920, "height": 1080}
VOTE_DATA = re.compile(r"^v:\d+:")  # an agora vote's button
CAUCUS_DATA = re.compile(r"^cv:(\d+):[adp]$")  # a caucus vote's button


class Shown(Protocol):
    """A bot message as the person sees it (the emulator's `SentMessage`)."""

    @property
    def message_id(self) -> int: ...
    @property
    def text(self) -> str | None: ...
    @property
    def caption(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def file_name(self) -> str | None: ...
    @property
    def file_bytes(self) -> bytes | None: ...
    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]: ...


M = TypeVar("M", bound=Shown)


@dataclass(frozen=True)
class Transcript:
    """One person's chat: who they are, what the bot showed, what they wrote themselves."""

    file_stem: str  # organiser, facilitator, participant-01...
    title: str
    name: str
    shown: Sequence[Shown]
    written: Sequence[Mapping[str, Any]]  # their own messages, as Bot API Message objects


@dataclass
class Written:
    """Where the rehearsal left each thing, for its closing list."""

    folder: Path
    chats: list[Path] = field(default_factory=list)
    export: list[Path] = field(default_factory=list)
    report: Path | None = None
    screenshot: Path | None = None
    no_screenshot: str | None = None  # why there is none

    def listing(self) -> list[str]:
        """A short list of where each thing is."""
        charts = [p for p in self.export if p.suffix == ".png"]
        tables = [p for p in self.export if p.suffix != ".png"]
        lines = [f"  chats        {self.folder / CHATS}/ ({len(self.chats)} Markdown files)"]
        if tables:
            lines.append(f"  export       {self._names(tables)}")
        if charts:
            lines.append(f"  charts       {self._names(charts)}")
        lines.append(f"  report       {self.report or 'none: the bot sent no .docx report'}")
        lines.append(f"  screenshot   {self.screenshot or 'none: ' + (self.no_screenshot or '?')}")
        lines.append(f"  bot's log    {self.folder / LOG}")
        return lines

    @staticmethod
    def _names(paths: list[Path]) -> str:
        return f"{paths[0].parent}/{{{','.join(p.name for p in paths)}}}"


def clear_previous(folder: Path) -> None:
    """Remove what a previous rehearsal left, so that nothing stale is mistaken for new."""
    folder.mkdir(parents=True, exist_ok=True)
    for sub in (CHATS, EXPORT):
        shutil.rmtree(folder / sub, ignore_errors=True)
    for stale in [*folder.glob("*.docx"), folder / SCREENSHOT, folder / LOG]:
        stale.unlink(missing_ok=True)


@contextmanager
def logging_to(path: Path) -> Iterator[None]:
    """Send the log records (and Python's warnings) to `path` instead of the console while
    the rehearsal plays, so that they do not interleave with its progress lines; the
    handlers are put back after."""
    root = logging.getLogger()
    consoles = {sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__}
    taken = [
        handler
        for handler in root.handlers
        if type(handler) is logging.StreamHandler and handler.stream in consoles
    ]
    to_file = logging.FileHandler(path, mode="w", encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = root.level
    # As `coopbot run` sets them: one line per HTTP call would bury the bot's own.
    chatty = {name: logging.getLogger(name) for name in ("httpx", "apscheduler")}
    levels = {name: logger.level for name, logger in chatty.items()}
    for logger in chatty.values():
        logger.setLevel(max(logger.level, logging.WARNING))
    for handler in taken:
        root.removeHandler(handler)
    root.addHandler(to_file)
    if level == logging.NOTSET or level > logging.INFO:
        root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    try:
        with warnings.catch_warnings():
            yield
    finally:
        logging.captureWarnings(False)
        root.setLevel(level)
        for name, logger in chatty.items():
            logger.setLevel(levels[name])
        root.removeHandler(to_file)
        to_file.close()
        for handler in taken:
            root.addHandler(handler)


def write_chats(folder: Path, chats: Sequence[Transcript]) -> list[Path]:
    """Each chat as Markdown, one file per person."""
    place = folder / CHATS
    place.mkdir(parents=True, exist_ok=True)
    written = []
    for chat in chats:
        path = place / f"{chat.file_stem}.md"
        path.write_text(chat_markdown(chat), encoding="utf-8")
        written.append(path)
    return written


def chat_markdown(chat: Transcript) -> str:
    """The chat as its owner saw it at the end: the bot's messages (edits in place) and
    theirs, in order; buttons as `[label]`, pictures and documents named."""
    entries: list[tuple[int, str]] = [(m.message_id, _bot_entry(m)) for m in chat.shown]
    for own in chat.written:
        text = str(own.get("text") or own.get("caption") or "")
        if "document" in own or "photo" in own:
            text = f"[{'document' if 'document' in own else 'picture'}] {text}".strip()
        entries.append((int(own["message_id"]), f"**{chat.name}:** {_inline(text)}"))
    body = "\n\n".join(entry for _, entry in sorted(entries, key=lambda e: e[0]))
    return f"# {chat.title}\n\n{body}\n"


def _bot_entry(message: Shown) -> str:
    lines: list[str] = []
    if message.kind == "photo":
        lines.append("🖼️ *picture*")
    elif message.kind == "document":
        lines.append(f"📎 *document: {message.file_name or 'unnamed'}*")
    body = message.text if message.text is not None else message.caption
    if body:
        lines.extend(_escape(line) for line in body.splitlines())
    for row in message.buttons:
        lines.append(" ".join(f"`[{label}]`" for label, _ in row))
    # A quote per message; a backslash at a line's end keeps the bot's line breaks.
    quoted = [f"> {line}" if line else ">" for line in _hard_breaks(lines)]
    return "**coopbot:**\n" + "\n".join(quoted)


def _hard_breaks(lines: list[str]) -> list[str]:
    return [
        f"{line}\\" if line and index + 1 < len(lines) and lines[index + 1] else line
        for index, line in enumerate(lines)
    ]


def _escape(line: str) -> str:
    """What would be read as HTML or as a Markdown marker at a line's start."""
    line = line.replace("&", "&amp;").replace("<", "&lt;")
    return "\\" + line if line.startswith(("#", ">", "-", "+", "*")) else line


def _inline(text: str) -> str:
    return "\\\n".join(_escape(line) for line in text.splitlines()) or "—"


def save_documents(folder: Path, documents: Sequence[Shown]) -> list[Path]:
    """The documents the bot sent, written under their own names."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for message in documents:
        if message.file_name and message.file_bytes is not None:
            path = folder / Path(message.file_name).name
            path.write_bytes(message.file_bytes)
            saved.append(path)
    return saved


# Reading the phones: which button, which message.


def caucus_ballot(messages: Sequence[M]) -> tuple[M, int] | None:
    """The caucus message with its statement's buttons, and that statement, if any."""
    for message in reversed(messages):
        for row in message.buttons:
            for _, data in row:
                match = CAUCUS_DATA.match(data or "")
                if match:
                    return message, int(match.group(1))
    return None


def has_vote_buttons(message: Shown) -> bool:
    return any(VOTE_DATA.match(data or "") for row in message.buttons for _, data in row)


def room_control(messages: Sequence[M]) -> M:
    """The facilitator's room control: their latest message with a "next" button."""
    return next(m for m in reversed(messages) if labelled(m, "➡️", missing=""))


def labelled(message: Shown, icon: str, *, missing: str | None = None) -> str:
    """The label of the message's button that carries `icon` (the words are translated)."""
    found = next((label for row in message.buttons for label, _ in row if icon in label), None)
    if found is None and missing is None:
        raise LookupError(f"no {icon} button on message {message.message_id}")
    return found or ""


class ScreenCamera:
    """The system's Chromium, headless, following the live screen's page while the
    rehearsal plays, to take its picture during the agora. Playwright drives it (no
    browser of its own is downloaded); without either, there is no screenshot and the
    reason says why."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self._playwright: Any = None
        self._browser: Any = None
        self._page: Any = None

    async def open(self, url: str) -> None:
        """Launch Chromium and load the page; on any failure, record why and carry on."""
        executable = shutil.which("chromium")
        if executable is None:
            self.reason = "no chromium on this machine (Debian: apt-get install chromium)"
            return
        try:
            from playwright.async_api import async_playwright
        except ModuleNotFoundError:
            self.reason = "Playwright for Python is not installed (pip install playwright)"
            return
        try:
            self._playwright = await async_playwright().start()
            self._browser = await self._playwright.chromium.launch(
                executable_path=executable, headless=True
            )
            self._page = await self._browser.new_page(viewport=SCREEN_SIZE)
            await self._page.goto(url, wait_until="load")
        except Exception as error:  # a browser that fails must not fail the rehearsal
            log.warning("the live screen could not be opened in Chromium", exc_info=True)
            self.reason = f"Chromium could not open the live screen ({type(error).__name__})"
            await self.close()

    async def shoot(self, path: Path, *, ready: str) -> Path | None:
        """A screenshot once `ready` (a CSS selector) is on the page, or after 3 s anyway."""
        if self._page is None:
            return None
        try:
            with suppress(Exception):  # still a picture of what is there
                await self._page.wait_for_selector(ready, timeout=3000)
            await self._page.screenshot(path=str(path))
        except Exception as error:
            log.warning("the live screen's screenshot failed", exc_info=True)
            self.reason = f"the screenshot failed ({type(error).__name__})"
            return None
        return path

    async def close(self) -> None:
        for thing, closing in ((self._browser, "close"), (self._playwright, "stop")):
            if thing is not None:
                with suppress(Exception):
                    await getattr(thing, closing)()
        self._page = self._browser = self._playwright = None
