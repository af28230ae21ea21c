"""The live screen: a read-only page of a workshop for the room, behind a secret link.

`ScreenService` issues and revokes the links (facilitators only, checked as for their
other commands) and computes a workshop's `Snapshot`: what the room may see of it now.
A snapshot is made of counts and of the statements' texts as everyone reads them: it
holds no name, no Telegram id, no participant id and no answer, and no figure of a group
under `min_group` (such a group's count is None; the room's tally hides it as
`flows.room.tally` does, and the consensus and divisive statements follow the synthesis's
rule).

Pages are recomputed while they are open, several times a second during a vote: the
agora's summary (`synthesise` over every vote) is reused while its inputs are unchanged,
and while votes keep coming it is recomputed at most once every `SUMMARY_EVERY` seconds;
a snapshot made with an older summary says so (`settled` is False), so the caller looks
again a moment later. As soon as a look finds the inputs as the previous look left them
(the votes have stopped), the summary is recomputed then: the last vote of a burst shows
one look later, not `SUMMARY_EVERY` seconds later.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from flows.board import Board, board_of
from flows.engine import DONE, JourneyEngine
from flows.errors import NotAllowed
from flows.facilitation import FacilitationService
from flows.kinds import AgoraMode, StatementKind, StatementStatus
from flows.room import RoomService, VoteTally
from flows.synthesis import StatementResult, Tally, group_by_threshold, synthesise
from storage import caucus, exports, participants, screens, statements, workshops
from storage.db import Database, utc_now
from storage.models import ScreenLink, Statement, Workshop

SUMMARY_EVERY = 2.0  # seconds between two computations of a workshop's agora summary
LISTED = 5  # consensus and divisive statements shown at most, each


class ScreenPhase(StrEnum):
    """What the page shows first: the stage the workshop's furthest participants are at."""

    JOINING = "joining"  # nobody has reached the first moment yet
    PHASE1 = "phase1"  # the nine moments
    PEERS = "peers"  # the exchange between peers
    CAUCUS = "caucus"  # the groups choosing their statements
    AGORA = "agora"
    CLOSED = "closed"  # the agora, or the workshop, is closed


@dataclass(frozen=True)
class ScreenStatement:
    """A statement as the room reads it: its number, kind, groups and text (never its
    author, nor the author's own words when masking changed them)."""

    number: int
    kind: str
    source_category: str
    target_category: str | None
    text: str

    @classmethod
    def of(cls, statement: Statement) -> ScreenStatement:
        return cls(
            statement.number,
            statement.kind,
            statement.source_category,
            statement.target_category,
            statement.text,
        )


@dataclass(frozen=True)
class ScreenResult:
    """A statement of the agora's summary with its tally per group counted."""

    statement: ScreenStatement
    overall: Tally
    by_group: Mapping[str, Tally]


@dataclass(frozen=True)
class ScreenResolution:
    """What the room converged on, and the category carrying it (a carrier named by the
    facilitator is a person: the screen does not show it)."""

    number: int
    text: str
    carrier_category: str | None
    due_on: str | None  # ISO date


@dataclass(frozen=True)
class GroupProgress:
    """A category's progress through phase 2 and its caucus; None where it is hidden."""

    category: str
    members: int | None
    in_peers: int | None = None  # answering phase 2 (or waiting for it to open)
    finished: int | None = None  # through phase 2
    caucus_share: float | None = None  # of the caucus votes its members may give, given


@dataclass(frozen=True)
class RoomView:
    """The statement the room is on, its place in the walk and its tally as shown."""

    statement: ScreenStatement
    position: int
    total: int
    tally: VoteTally
    vote_open: bool


@dataclass(frozen=True)
class AgoraSummary:
    """The agora so far, by the synthesis's rule: its consensus and divisive statements
    (the first `LISTED` of each), its resolutions, and how many statements and votes."""

    consensus: tuple[ScreenResult, ...] = ()
    divisive: tuple[ScreenResult, ...] = ()
    resolutions: tuple[ScreenResolution, ...] = ()
    statements: int = 0  # in the agora now
    votes: int = 0


@dataclass(frozen=True)
class Snapshot:
    """What the room may see of a workshop now."""

    workshop_id: int
    title: str
    code: str  # the join code (the facilitators' code is never on a screen)
    phase: ScreenPhase
    min_group: int
    categories: tuple[str, ...]  # the journey's, in order
    joined: Mapping[str, int | None]  # category -> how many joined (None: hidden)
    # Everyone who chose a group: the room's headcount, which the room sees anyway. A
    # group's own count is hidden under `min_group`; that a group has one or two people
    # in the room says nothing of what they answered, which is what the threshold guards.
    joined_total: int
    choosing: int  # joined, category not chosen yet
    at: Mapping[str, int]  # Board column (a moment's number, "peers"...) -> how many
    progress: tuple[GroupProgress, ...] = ()
    room: RoomView | None = None
    summary: AgoraSummary = field(default_factory=AgoraSummary)
    settled: bool = True  # False: made with an older agora summary; look again later

    @property
    def hidden(self) -> bool:
        """Some group is too small to be shown."""
        return any(count is None for count in self.joined.values())


@dataclass(frozen=True)
class LinkChange:
    """A link issued, kept or revoked, and its workshop."""

    workshop: Workshop
    link: ScreenLink | None  # the live link now (None: revoked)
    changed: bool


def new_token() -> str:
    """The secret of a link: 24 random bytes, URL-safe."""
    return secrets.token_urlsafe(24)


def phase_of(workshop: Workshop, board: Board) -> ScreenPhase:
    """Where the page stands: the furthest stage anyone has reached."""
    if workshop.closed_at is not None or workshop.agora_closed_at is not None:
        return ScreenPhase.CLOSED
    if workshop.agora_open:
        return ScreenPhase.AGORA
    columns: Counter[str] = Counter()
    for counts in board.by_category.values():
        columns.update(counts)
    if columns[Board.FINISHED] and workshop.caucus_open:
        return ScreenPhase.CAUCUS
    if columns[Board.FINISHED] or columns[Board.PEERS] or columns[Board.WAITING]:
        return ScreenPhase.PEERS
    if any(column.isdecimal() and count for column, count in columns.items()):
        return ScreenPhase.PHASE1
    return ScreenPhase.JOINING


class ScreenService:
    """The links to the live screen, and what it shows."""

    def __init__(
        self,
        db: Database,
        engine: JourneyEngine,
        facilitation: FacilitationService,
        room: RoomService,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.engine = engine
        self.facilitation = facilitation
        self.room = room
        self.clock = clock
        # workshop id -> (what the summary was made of, when, the summary)
        self._summaries: dict[int, tuple[tuple[object, ...], float, AgoraSummary]] = {}
        self._looked: dict[int, tuple[object, ...]] = {}  # the inputs at the last look

    @property
    def min_group(self) -> int:
        return self.facilitation.min_group

    # -- links ----------------------------------------------------------------------------

    async def link(self, *, user_id: int, code: str | None, language: str) -> LinkChange:
        """`/screen [code]`: the workshop's live link, issued (in `language`) if it has none.
        Raises `NotAllowed`, `Ambiguous` or `Erased`."""
        workshop = await self.facilitation.workshop_for(user_id=user_id, code=code)
        found, issued = await self._issue(workshop, user_id, language, replacing=None)
        return LinkChange(workshop, found, issued)

    async def renew(self, *, user_id: int, link_id: int, language: str) -> LinkChange:
        """A new link in place of the pressed one, if that is still the live one (changed:
        False, no link, when the button was under an older address: the one in use stays
        as it is)."""
        workshop = await self._facilitated(user_id, link_id)
        found, issued = await self._issue(workshop, user_id, language, replacing=link_id)
        return LinkChange(workshop, found, issued)

    async def revoke(self, *, user_id: int, link_id: int) -> LinkChange:
        """Revoke the pressed link: it answers 404 from now on (changed: False when it was
        no longer live; a newer link is never touched by an old message's button)."""
        workshop = await self._facilitated(user_id, link_id)
        revoked = await screens.revoke(self.db, link_id=link_id, by=user_id, now=self.clock())
        return LinkChange(workshop, None, revoked)

    async def _facilitated(self, user_id: int, link_id: int) -> Workshop:
        """The workshop of a link's button, if the user facilitates it (checked as for a
        command naming its code)."""
        link = await screens.get(self.db, link_id=link_id)
        workshop = (
            await workshops.get(self.db, workshop_id=link.workshop_id) if link is not None else None
        )
        if workshop is None:
            raise NotAllowed
        return await self.facilitation.workshop_for(user_id=user_id, code=workshop.code)

    async def _issue(
        self, workshop: Workshop, user_id: int, language: str, *, replacing: int | None
    ) -> tuple[ScreenLink | None, bool]:
        return await screens.issue(
            self.db,
            workshop_id=workshop.id,
            token=new_token(),
            language=language,
            by=user_id,
            now=self.clock(),
            replacing=replacing,
        )

    async def by_token(self, token: str) -> ScreenLink | None:
        """The live link behind an address (None: unknown or revoked)."""
        return await screens.by_token(self.db, token=token)

    async def live_tokens(self, workshop_ids: list[int]) -> set[str]:
        return await screens.live_tokens(self.db, workshop_ids=workshop_ids)

    async def may_watch(self, *, user_id: int, workshop_id: int) -> bool:
        """Whether a Mini App's user may see the workshop's screen: its facilitators."""
        return await workshops.is_facilitator(self.db, workshop_id=workshop_id, user_id=user_id)

    # -- the snapshot ---------------------------------------------------------------------

    async def snapshot(self, workshop_id: int) -> Snapshot | None:
        """What the room may see of the workshop now (None: no such workshop)."""
        workshop = await workshops.get(self.db, workshop_id=workshop_id)
        if workshop is None:
            return None
        tally = await statements.tally(self.db, workshop_id=workshop.id)
        rows = await participants.states_by_category(self.db, workshop_id=workshop.id)
        board = board_of(self.engine, workshop, tally, rows)
        order = tuple(c.id for c in self.engine.journey.categories)
        joined: Counter[str] = Counter()
        for category, counts in board.by_category.items():
            if category:
                joined[category] += sum(counts.values())
        grouping = group_by_threshold(joined, order, self.min_group)
        shown = {c: joined[c] for c in grouping.shown}
        at: Counter[str] = Counter()
        for counts in board.by_category.values():
            at.update(counts)
        phase = phase_of(workshop, board)
        snapshot = Snapshot(
            workshop_id=workshop.id,
            title=workshop.title,
            code=workshop.code,
            phase=phase,
            min_group=self.min_group,
            categories=order,
            joined={c: shown.get(c, 0 if not joined[c] else None) for c in order},
            joined_total=sum(joined.values()),
            choosing=sum(board.by_category.get(None, Counter()).values()),
            at=dict(at),
        )
        if phase in (ScreenPhase.PEERS, ScreenPhase.CAUCUS):
            snapshot = await self._with_progress(snapshot, workshop, board, set(grouping.shown))
        if phase in (ScreenPhase.AGORA, ScreenPhase.CLOSED) and workshop.agora_opened_at:
            snapshot = await self._with_agora(snapshot, workshop, board)
        return snapshot

    async def _with_progress(
        self, snapshot: Snapshot, workshop: Workshop, board: Board, shown: set[str]
    ) -> Snapshot:
        """Phase 2 and the caucus, per category shown: how many are in it, through it, and
        how far the caucus's votes have gone."""
        shares = await self._caucus_shares(workshop) if workshop.caucus_open else {}
        progress = []
        for category in snapshot.categories:
            counts = board.by_category.get(category, Counter())
            if category not in shown:
                progress.append(GroupProgress(category, None))
                continue
            progress.append(
                GroupProgress(
                    category,
                    sum(counts.values()),
                    counts[Board.PEERS] + counts[Board.WAITING],
                    counts[Board.FINISHED],
                    shares.get(category),
                )
            )
        return replace(snapshot, progress=tuple(progress))

    async def _caucus_shares(self, workshop: Workshop) -> dict[str, float]:
        """Per category, the share of the caucus votes its finished members may give
        (each on every statement of the group but their own) that they gave."""
        members = [
            p
            for p in await participants.of_workshop(self.db, workshop_id=workshop.id)
            if p.category and p.state == DONE
        ]
        choosing = [
            s
            for s in await statements.of_workshop(
                self.db, workshop_id=workshop.id, statuses=(StatementStatus.APPROVED,)
            )
            if s.in_agora_at is None and s.kind in (StatementKind.REQUEST, StatementKind.COMMITMENT)
        ]
        given = {
            (v.statement_id, v.participant_id)
            for v in await caucus.of_workshop(self.db, workshop_id=workshop.id)
        }
        possible: Counter[str] = Counter()
        done: Counter[str] = Counter()
        for statement in choosing:
            for member in members:
                if member.category != statement.source_category:
                    continue
                if member.id == statement.participant_id:
                    continue
                possible[member.category] += 1
                done[member.category] += (statement.id, member.id) in given
        return {c: done[c] / possible[c] for c in possible}

    async def _with_agora(self, snapshot: Snapshot, workshop: Workshop, board: Board) -> Snapshot:
        room = None
        if workshop.agora_open and workshop.agora_mode == AgoraMode.ROOM:
            state = await self.room.state_of(workshop.id)
            if state is not None and state.statement is not None:
                room = RoomView(
                    ScreenStatement.of(state.statement),
                    state.position,
                    state.total,
                    state.tally,
                    state.vote_open,
                )
        summary, settled = await self._summary(workshop, board)
        return replace(snapshot, room=room, summary=summary, settled=settled)

    async def _summary(self, workshop: Workshop, board: Board) -> tuple[AgoraSummary, bool]:
        """The consensus, divisive statements and resolutions: reused while nothing they
        are made of changed; while votes keep coming (the inputs changed since the last
        look), recomputed at most every `SUMMARY_EVERY` s; once they stop, at once."""
        made_of = await screens.summary_inputs(self.db, workshop_id=workshop.id)
        key = (board.votes, tuple(sorted(board.statements.items())), *made_of)
        cached = self._summaries.get(workshop.id)
        still = self._looked.get(workshop.id) == key
        self._looked[workshop.id] = key
        now = time.monotonic()
        if cached is not None and cached[0] == key:
            return cached[2], True
        if cached is not None and now - cached[1] < SUMMARY_EVERY and not still:
            return cached[2], False
        rows = await exports.workshop_rows(self.db, workshop_id=workshop.id, agora_only=True)
        synthesis = await asyncio.to_thread(
            synthesise,
            self.engine.journey,
            rows.participants,
            (),
            rows.statements,
            rows.votes,
            resolutions=rows.resolutions,
            min_group=self.min_group,
        )
        summary = AgoraSummary(
            consensus=tuple(_result(r) for r in synthesis.agreed[:LISTED]),
            divisive=tuple(_result(r) for r in synthesis.divisive[:LISTED]),
            resolutions=tuple(
                ScreenResolution(
                    r.resolution.number,
                    r.resolution.text,
                    r.resolution.carrier_category,
                    r.resolution.due_on.isoformat() if r.resolution.due_on else None,
                )
                for r in synthesis.resolutions
            ),
            statements=sum(1 for s in rows.statements if s.in_agora),
            votes=board.votes,
        )
        self._summaries[workshop.id] = (key, now, summary)
        return summary, True

    def forget(self, workshop_id: int) -> None:
        """No page is open on the workshop any more: its cached summary can go."""
        self._summaries.pop(workshop_id, None)
        self._looked.pop(workshop_id, None)


def _result(result: StatementResult) -> ScreenResult:
    return ScreenResult(ScreenStatement.of(result.statement), result.overall, result.by_group)
