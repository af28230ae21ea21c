"""Keeping the open screens up to date, cheaply.

Every update the bot handles, once done however it ended, nudges the hub (`nudge`,
through `PerChatUpdateProcessor.after_each`), and so does a slow tick (`REFRESH`, for
what changes without an update: a job). A nudge only marks the hub dirty: one task waits
`DEBOUNCE`, then recomputes each workshop that has a page open, once whatever the number
of its pages, renders it once per language, and pushes it only to the pages whose HTML
changed. Nudges that arrive meanwhile are folded into the next pass, which waits at
least `DEBOUNCE` again: with hundreds of voters a workshop is recomputed a few times a
second at most, not once per vote. A snapshot made with an older agora summary (not
`settled`: votes were still coming) gets one more pass `LATER` s on, which recomputes
the summary if the votes have stopped meanwhile: the last vote shows within a second.

Several workers on one database: the hub of each is nudged by the updates that worker
handled, and by the others' through the database (`Database.listen`: a NOTIFY on
PostgreSQL). Each worker tells the others with an `Announcer`, at most once per
`DEBOUNCE` whatever the number of updates: a burst of votes costs a handful of
notifications, not one per vote. One process on a SQLite file has no one to tell.

A page holds a `Watcher`: it keeps only the latest rendering (a slow client skips the
ones it missed, memory does not grow). A page open on a link revoked since is closed at
the next pass. `close` ends every stream, so that the server stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from flows.screen import Snapshot

log = logging.getLogger(__name__)

DEBOUNCE = 0.15  # seconds between a change and the pages' update (and between two passes)
REFRESH = 5.0  # seconds: the pages are looked at again even when nothing nudged
LATER = 0.5  # seconds: a snapshot not settled is looked at again this much later


@dataclass(frozen=True)
class Rendered:
    """One rendering of a workshop's page in one language: numbered, so a page knows."""

    version: int
    phase: str
    html: str  # the inner HTML of the page's <main>
    title: str  # the workshop's, as the document's title


@dataclass(eq=False)
class Watcher:
    """One open event stream: the latest rendering it has not sent yet."""

    workshop_id: int
    language: str
    token: str | None  # the link it came through (None: a Mini App, checked at the start)
    pending: Rendered | None = None
    closed: bool = False
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, rendered: Rendered | None) -> None:
        """Hand it the latest rendering (None: the stream ends)."""
        if rendered is None:
            self.closed = True
        else:
            self.pending = rendered
        self.ready.set()

    def sent(self, rendered: Rendered) -> None:
        """`rendered` went out already: not again."""
        if self.pending is not None and self.pending.version <= rendered.version:
            self.pending = None

    async def next(self, seconds: float) -> Rendered | None:
        """The next rendering to send, or None after `seconds` s without one (a
        keep-alive is due) or when the stream is to end (`closed`)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), seconds)
        self.ready.clear()
        rendered, self.pending = self.pending, None
        return None if self.closed else rendered


Compute = Callable[[int], Awaitable[Snapshot | None]]
Render = Callable[[Snapshot, str], str]
LiveTokens = Callable[[list[int]], Awaitable[set[str]]]


class ScreenHub:
    """The open pages, and the one task that brings them up to date."""

    def __init__(
        self,
        compute: Compute,
        render: Render,
        live_tokens: LiveTokens,
        *,
        forget: Callable[[int], None] = lambda _: None,
    ) -> None:
        self._compute = compute
        self._render = render
        self._live_tokens = live_tokens
        self._forget = forget
        self.watchers: dict[int, set[Watcher]] = {}
        self._shown: dict[tuple[int, str], Rendered] = {}
        self._lock = asyncio.Lock()
        self._dirty = False
        self._task: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._later: asyncio.TimerHandle | None = None
        self._closed = False
        self.passes = 0  # passes made (the benchmark reads it)

    def start(self) -> None:
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def watch(self, workshop_id: int, language: str, token: str | None) -> Watcher:
        watcher = Watcher(workshop_id, language, token)
        if self._closed:
            watcher.push(None)
        else:
            self.watchers.setdefault(workshop_id, set()).add(watcher)
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        found = self.watchers.get(watcher.workshop_id)
        if found is None:
            return
        found.discard(watcher)
        if not found:
            del self.watchers[watcher.workshop_id]
            self._forget(watcher.workshop_id)
            for key in [k for k in self._shown if k[0] == watcher.workshop_id]:
                del self._shown[key]

    def nudge(self) -> None:
        """Something may have changed: the open pages are looked at again shortly."""
        if self._closed or not self.watchers:
            return
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def now(self, workshop_id: int, language: str) -> Rendered | None:
        """The page as it is now (computed at once: a page being opened), pushed to the
        other pages too if it changed. None: no such workshop."""
        async with self._lock:
            snapshot = await self._compute(workshop_id)
            if snapshot is None:
                return None
            self._look_again(unsettled=not snapshot.settled)
            return self._update(snapshot, language)

    def _update(self, snapshot: Snapshot, language: str) -> Rendered:
        """Render in one language; number it and push it if it changed."""
        key = (snapshot.workshop_id, language)
        html = self._render(snapshot, language)
        shown = self._shown.get(key)
        if shown is not None and shown.html == html and shown.phase == snapshot.phase:
            return shown
        version = (shown.version if shown else 0) + 1
        rendered = Rendered(version, snapshot.phase, html, snapshot.title)
        self._shown[key] = rendered
        for watcher in self.watchers.get(snapshot.workshop_id, ()):
            if watcher.language == language:
                watcher.push(rendered)
        return rendered

    async def _run(self) -> None:
        while self._dirty and not self._closed:
            self._dirty = False
            await asyncio.sleep(DEBOUNCE)
            try:
                await self._pass()
            except Exception:  # a failed pass must not stop the next ones
                log.exception("the live screens could not be brought up to date")

    async def _pass(self) -> None:
        """Recompute each workshop with a page open, once, and close the pages whose
        link was revoked."""
        self.passes += 1
        unsettled = False
        async with self._lock:
            workshop_ids = list(self.watchers)
            live = await self._live_tokens(workshop_ids)
            for workshop_id in workshop_ids:
                watchers = list(self.watchers.get(workshop_id, ()))
                for watcher in watchers:
                    if watcher.token is not None and watcher.token not in live:
                        watcher.push(None)
                        self.unwatch(watcher)
                if workshop_id not in self.watchers:
                    continue
                snapshot = await self._compute(workshop_id)
                if snapshot is None:  # the workshop is gone
                    for watcher in watchers:
                        watcher.push(None)
                        self.unwatch(watcher)
                    continue
                unsettled |= not snapshot.settled
                for language in {w.language for w in self.watchers.get(workshop_id, ())}:
                    self._update(snapshot, language)
        self._look_again(unsettled=unsettled)

    def _look_again(self, *, unsettled: bool) -> None:
        """A snapshot made with an older summary: the pages are looked at again `LATER`
        s from now (once), so that the last change always shows soon after it."""
        if unsettled and self._later is None and not self._closed:
            self._later = asyncio.get_running_loop().call_later(LATER, self._look_later)

    def _look_later(self) -> None:
        self._later = None
        self.nudge()

    async def _tick(self) -> None:
        while not self._closed:
            await asyncio.sleep(REFRESH)
            self.nudge()

    async def close(self) -> None:
        """End every stream and the hub's tasks (the server is stopping)."""
        self._closed = True
        if self._later is not None:
            self._later.cancel()
        for task in (self._ticker, self._task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for watchers in list(self.watchers.values()):
            for watcher in list(watchers):
                watcher.push(None)
        self.watchers.clear()
        self._shown.clear()


class Announcer:
    """This worker's changes, told to the other workers sharing the database so that the
    pages open on them look again now: at most once per `DEBOUNCE`, and only after an
    update was handled (an idle worker tells nothing)."""

    def __init__(self, announce: Callable[[], Awaitable[None]]) -> None:
        self._announce = announce
        self._due = False
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.announced = 0  # announcements made (the tests read it)

    def changed(self) -> None:
        """An update was handled: the others are told shortly, with whatever else
        changes meanwhile."""
        if self._closed:
            return
        self._due = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._due and not self._closed:
            self._due = False
            await asyncio.sleep(DEBOUNCE)
            await self._tell()

    async def _tell(self) -> None:
        try:
            await self._announce()
        except Exception:  # the others see it at their next tick; the next one may pass
            log.warning("the other workers could not be told of a change", exc_info=True)
        else:
            self.announced += 1

    async def close(self) -> None:
        """Stop; a change still waiting for its announcement is announced now."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self._tell()
