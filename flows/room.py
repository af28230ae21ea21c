"""The agora paced by the room: the facilitator walks the statements one at a time, the
whole room votes on the one shown, and nobody votes on another.

The order is the restitution by category: category after category (the journey's order,
or the one the facilitator set with `/agora order`), each category's requests (by the
order of the categories they are addressed to) then its commitments; the proposals made
during the agora come last, so that one approved late is still reached. The order is
computed from the statements in the agora each time, so that a statement approved
meanwhile slots in; the room's position is the statement it is on, stored with the
workshop, so that it survives a restart and two facilitators pressing "next" at once
move it once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from flows.caucus import approved_at, choose, enters_directly
from flows.engine import DONE, JourneyEngine
from flows.errors import NotAllowed
from flows.facilitation import FacilitationService, PhaseChange
from flows.journey import Journey
from flows.kinds import AgoraMode, StatementKind, StatementStatus
from flows.resolutions import Converged, ResolutionService
from storage import exports, participants, resolutions, statements, votes, workshops
from storage.db import Database
from storage.models import Participant, Resolution, Statement, Workshop

_LAST = 10_000  # the rank of a category the order does not name


def category_order(journey: Journey, workshop: Workshop) -> list[str]:
    """The categories in the order of restitution: those the facilitator named first,
    then the journey's others in the journey's order."""
    known = [c.id for c in journey.categories]
    named = [c for c in workshop.room_order if c in known]
    return named + [c for c in known if c not in named]


def sequence_key(statement: Statement, order: Sequence[str]) -> tuple[int, int, int, int, int]:
    """Where a statement comes in the room's walk (smaller first)."""
    rank = {category: index for index, category in enumerate(order)}
    if statement.kind == StatementKind.PROPOSAL:
        return (1, 0, 0, 0, statement.number)
    source = rank.get(statement.source_category, _LAST)
    if statement.kind == StatementKind.REQUEST:
        return (0, source, 0, rank.get(statement.target_category or "", _LAST), statement.number)
    return (0, source, 1, 0, statement.number)


def sequence(found: Sequence[Statement], order: Sequence[str]) -> list[Statement]:
    """The statements in the order the room takes them."""
    return sorted(found, key=lambda s: sequence_key(s, order))


def neighbour(
    found: Sequence[Statement], order: Sequence[str], current: Statement | None, *, forward: bool
) -> Statement | None:
    """The statement after (or before) `current` in the walk; `current` may have left the
    agora (withdrawn), it still marks the place. From nowhere, "next" is the first."""
    walk = sequence(found, order)
    if current is None:
        return walk[0] if forward and walk else None
    here = sequence_key(current, order)
    if forward:
        return next((s for s in walk if sequence_key(s, order) > here), None)
    return next((s for s in reversed(walk) if sequence_key(s, order) < here), None)


@dataclass(frozen=True)
class VoteTally:
    """A statement's votes by category, as the room may see them: only the categories with
    at least `min_group` voters, with their votes (the rule of the synthesis's agora). The
    others are neither shown nor counted, not even together, and the total is that of the
    groups shown: otherwise the total minus the groups shown would give a small one away."""

    shown: tuple[tuple[str, Counter[str]], ...] = ()
    hidden: bool = False  # some voters' groups are under the threshold (how many: never)
    min_group: int = 3

    @property
    def total(self) -> int:
        """The votes of the groups shown (no other figure may be derived from it)."""
        return sum(sum(counts.values()) for _, counts in self.shown)


def tally(
    cast: Sequence[tuple[str | None, str]], order: Sequence[str], min_group: int
) -> VoteTally:
    """Count (category, vote) pairs into a `VoteTally`."""
    by_category: dict[str | None, Counter[str]] = {}
    for category, value in cast:
        by_category.setdefault(category, Counter())[value] += 1
    shown = []
    hidden = False
    ranked = sorted(by_category, key=lambda c: order.index(c) if c in order else _LAST)
    for category in ranked:
        counts = by_category[category]
        if category and sum(counts.values()) >= min_group:
            shown.append((category, counts))
        else:
            hidden = True
    return VoteTally(tuple(shown), hidden, min_group)


@dataclass(frozen=True)
class RoomState:
    """Where the room stands: its statement, its place in the walk, its live tally."""

    workshop: Workshop
    statement: Statement | None
    position: int  # 1-based place of the statement in the walk (0: none)
    total: int  # statements in the walk
    tally: VoteTally = field(default_factory=VoteTally)
    resolution: Resolution | None = None  # the resolution recorded on this statement

    @property
    def running(self) -> bool:
        """The agora is open and paced by the room."""
        return self.workshop.agora_open and self.workshop.agora_mode == AgoraMode.ROOM

    @property
    def vote_open(self) -> bool:
        """Votes on the room's statement are taken now."""
        return (
            self.running
            and self.statement is not None
            and self.statement.in_agora
            and not self.workshop.room_vote_closed
        )


class RoomOutcome(Enum):
    OPENED = "opened"  # the agora opened now, paced by the room
    SWITCHED = "switched"  # an open self-paced agora is now paced by the room
    RESUMED = "resumed"  # it was paced by the room already
    EMPTY = "empty"  # nothing could be put to the room: nothing changed
    CLOSED = "closed"  # the agora is closed: it does not reopen
    MOVED = "moved"  # the room is on another statement now
    FIRST = "first"  # "previous" at the first statement: nothing changed
    LAST = "last"  # "next" after the last statement: nothing changed
    STALE = "stale"  # the control showed a statement the room has left: nothing changed
    VOTE_CLOSED = "vote_closed"  # the vote on the room's statement is closed now
    ALREADY_CLOSED = "already_closed"  # it was closed already
    NOT_RUNNING = "not_running"  # the agora is not open in room mode
    CONVERGED = "converged"  # a convergence marked on the room's statement


@dataclass(frozen=True)
class RoomChange:
    """What a facilitator's room action did, and the room as it stands after it."""

    outcome: RoomOutcome
    room: RoomState
    phase: PhaseChange | None = None  # when the agora was opened
    converged: Converged | None = None  # when a convergence was marked


@dataclass(frozen=True)
class Ordered:
    """`/agora order`: the order set, or what was not understood."""

    workshop: Workshop
    order: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()  # items that name no category, or name one twice
    room: RoomState | None = None


def parse_order(journey: Journey, text: str) -> tuple[list[str], list[str]]:
    """The category ids a comma-separated list names (by id, label or group name, in
    either language, any case), and the items that name none or repeat one."""
    names: dict[str, str] = {}
    for category in journey.categories:
        for name in (category.id, *category.label.values(), *category.group.values()):
            names[name.strip().casefold()] = category.id
    found: list[str] = []
    unknown: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        category_id = names.get(item.casefold())
        if category_id is None or category_id in found:
            unknown.append(item)
        else:
            found.append(category_id)
    return found, unknown


class RoomService:
    """The facilitator's side of the room, and what its phones and controls show."""

    def __init__(
        self,
        db: Database,
        engine: JourneyEngine,
        facilitation: FacilitationService,
        resolutions: ResolutionService,
    ) -> None:
        self.db = db
        self.engine = engine
        self.facilitation = facilitation
        self.resolutions = resolutions

    @property
    def min_group(self) -> int:
        return self.facilitation.min_group

    async def _facilitated(self, user_id: int, workshop_id: int) -> Workshop:
        """The workshop, if the user facilitates it (the role is checked at every press)."""
        workshop = await workshops.get(self.db, workshop_id=workshop_id)
        if workshop is None or not await workshops.is_facilitator(
            self.db, workshop_id=workshop_id, user_id=user_id
        ):
            raise NotAllowed
        return workshop

    async def state_of(self, workshop_id: int) -> RoomState | None:
        """The room of a workshop as it stands (None: no such workshop)."""
        workshop = await workshops.get(self.db, workshop_id=workshop_id)
        return await self._state(workshop) if workshop is not None else None

    async def _state(self, workshop: Workshop) -> RoomState:
        order = category_order(self.engine.journey, workshop)
        walk = sequence(await statements.in_agora(self.db, workshop_id=workshop.id), order)
        current = (
            await statements.get(self.db, statement_id=workshop.room_statement_id)
            if workshop.room_statement_id is not None
            else None
        )
        if current is None:
            return RoomState(workshop, None, 0, len(walk))
        here = sequence_key(current, order)
        position = sum(1 for s in walk if sequence_key(s, order) <= here)
        cast = await votes.on_statement(self.db, statement_id=current.id)
        resolution = next(
            (
                r
                for r in await resolutions.of_workshop(self.db, workshop_id=workshop.id)
                if r.statement_id == current.id
            ),
            None,
        )
        return RoomState(
            workshop,
            current,
            position,
            len(walk),
            tally(cast, order, self.min_group),
            resolution,
        )

    async def open(self, *, user_id: int, code: str | None) -> RoomChange:
        """`/agora room`: open the agora paced by the room (or switch an open one to it),
        on its first statement. Refused, changing nothing, when nothing would be put to
        the room, or when the agora is closed."""
        workshop = await self.facilitation.workshop_for(user_id=user_id, code=code)
        if workshop.agora_closed_at is not None:
            return RoomChange(RoomOutcome.CLOSED, await self._state(workshop))
        if not await self._has_statements(workshop):
            return RoomChange(RoomOutcome.EMPTY, await self._state(workshop))
        was_room = workshop.agora_open and workshop.agora_mode == AgoraMode.ROOM
        change = await self.facilitation.open_agora(
            user_id=user_id, code=workshop.code, mode=AgoraMode.ROOM
        )
        fresh = change.workshop
        if fresh.room_statement_id is None:
            first = neighbour(
                await statements.in_agora(self.db, workshop_id=fresh.id),
                category_order(self.engine.journey, fresh),
                None,
                forward=True,
            )
            if first is not None:
                await workshops.move_room(
                    self.db, workshop_id=fresh.id, statement_id=first.id, expected=None
                )
        if change.changed:
            outcome = RoomOutcome.OPENED
        else:
            outcome = RoomOutcome.RESUMED if was_room else RoomOutcome.SWITCHED
        room = await self.state_of(fresh.id)
        assert room is not None
        return RoomChange(outcome, room, change)

    async def _has_statements(self, workshop: Workshop) -> bool:
        """Whether opening the room would put anything to it: statements in the agora
        already, or approved ones the groups' choice or the rules would let in."""
        if await statements.in_agora(self.db, workshop_id=workshop.id):
            return True
        rows = await exports.workshop_rows(self.db, workshop_id=workshop.id)
        approved = [s for s in rows.statements if s.status == StatementStatus.APPROVED]
        if any(enters_directly(workshop, s.kind, approved_at(s)) for s in approved):
            return True
        if not workshop.caucus_open:
            return False
        chosen = choose(
            approved,
            rows.caucus_votes,
            rows.participants,
            keep=workshop.caucus_keep,
            commitments=workshop.caucus_commitments,
        )
        return bool(chosen)

    async def move(
        self, *, user_id: int, workshop_id: int, shown_id: int | None, forward: bool
    ) -> RoomChange:
        """ "Next" or "previous" from the statement the control showed (`shown_id`). A
        control that showed another statement than the room's moves nothing."""
        workshop = await self._facilitated(user_id, workshop_id)
        room = await self._state(workshop)
        if not room.running:
            return RoomChange(RoomOutcome.NOT_RUNNING, room)
        if workshop.room_statement_id != shown_id:
            return RoomChange(RoomOutcome.STALE, room)
        target = neighbour(
            await statements.in_agora(self.db, workshop_id=workshop_id),
            category_order(self.engine.journey, workshop),
            room.statement,
            forward=forward,
        )
        if target is None:
            return RoomChange(RoomOutcome.LAST if forward else RoomOutcome.FIRST, room)
        moved = await workshops.move_room(
            self.db, workshop_id=workshop_id, statement_id=target.id, expected=shown_id
        )
        fresh = await self.state_of(workshop_id)
        assert fresh is not None
        return RoomChange(RoomOutcome.MOVED if moved else RoomOutcome.STALE, fresh)

    async def press(
        self, *, user_id: int, workshop_id: int, shown_id: int | None, action: str
    ) -> RoomChange:
        """A control button: "next", "previous", "close" (the vote) or "converge"."""
        if action in ("next", "previous"):
            return await self.move(
                user_id=user_id,
                workshop_id=workshop_id,
                shown_id=shown_id,
                forward=action == "next",
            )
        if action == "close":
            return await self.close_vote(
                user_id=user_id, workshop_id=workshop_id, shown_id=shown_id
            )
        if action == "converge":
            return await self.converge(user_id=user_id, workshop_id=workshop_id, shown_id=shown_id)
        raise ValueError(f"not a room action: {action}")

    async def converge(self, *, user_id: int, workshop_id: int, shown_id: int | None) -> RoomChange:
        """Mark a convergence on the room's statement (the one the control showed): its
        resolution, recorded once."""
        workshop = await self._facilitated(user_id, workshop_id)
        room = await self._state(workshop)
        if room.statement is None or workshop.room_statement_id != shown_id:
            return RoomChange(RoomOutcome.STALE, room)
        converged = await self.resolutions.converge(
            user_id=user_id, workshop_id=workshop_id, statement_id=room.statement.id
        )
        fresh = await self.state_of(workshop_id)
        assert fresh is not None
        return RoomChange(RoomOutcome.CONVERGED, fresh, converged=converged)

    async def close_vote(
        self, *, user_id: int, workshop_id: int, shown_id: int | None
    ) -> RoomChange:
        """Close the vote on the room's statement (the one the control showed)."""
        workshop = await self._facilitated(user_id, workshop_id)
        room = await self._state(workshop)
        if not room.running or room.statement is None:
            return RoomChange(RoomOutcome.NOT_RUNNING, room)
        if workshop.room_statement_id != shown_id:
            return RoomChange(RoomOutcome.STALE, room)
        closed = await workshops.close_room_vote(
            self.db, workshop_id=workshop_id, statement_id=room.statement.id
        )
        fresh = await self.state_of(workshop_id)
        assert fresh is not None
        return RoomChange(RoomOutcome.VOTE_CLOSED if closed else RoomOutcome.ALREADY_CLOSED, fresh)

    async def set_order(self, *, user_id: int, words: Sequence[str]) -> Ordered | None:
        """`/agora order <categories> [code]`: the order of restitution. The last word is
        the workshop's code when the list is understood without it. None: no list given.
        Raises `NotAllowed` or `Ambiguous` before looking at the list."""
        journey = self.engine.journey
        found, unknown = parse_order(journey, " ".join(words))
        code = None
        if unknown and len(words) > 1:
            without = parse_order(journey, " ".join(words[:-1]))
            if not without[1]:
                (found, unknown), code = without, words[-1]
        workshop = await self.facilitation.workshop_for(user_id=user_id, code=code)
        if not found and not unknown:
            return None
        if unknown:
            return Ordered(workshop, unknown=tuple(unknown))
        await workshops.configure(self.db, workshop_id=workshop.id, room_order=",".join(found))
        fresh = await workshops.get(self.db, workshop_id=workshop.id)
        assert fresh is not None
        order = tuple(category_order(journey, fresh))
        return Ordered(fresh, order, room=await self._state(fresh))

    async def audience(self, workshop_id: int) -> list[Participant]:
        """The participants in the agora: those who have answered every question."""
        return [
            p
            for p in await participants.of_workshop(self.db, workshop_id=workshop_id)
            if p.state == DONE
        ]

    async def consented(self, workshop_id: int) -> list[Participant]:
        """Everyone who agreed to take part in the workshop (to be told it is over)."""
        return await participants.of_workshop(self.db, workshop_id=workshop_id)

    async def authors(self, statement_id: int) -> set[int]:
        """The participants whose statement it is (merged ones too): they are not asked."""
        return set(await statements.authors(self.db, statement_id=statement_id))

    async def votes_on(self, statement_id: int) -> dict[int, str]:
        """Each participant's vote on a statement (participant id -> vote)."""
        return await votes.of_statement(self.db, statement_id=statement_id)

    async def participant(self, participant_id: int) -> Participant | None:
        return await participants.get(self.db, participant_id=participant_id)

    async def remember_offers(self, offers: Sequence[tuple[int, int | None, int | None]]) -> None:
        """What many phones show now: (participant id, statement id, message id) each
        (None, None: nothing any more)."""
        await participants.set_offers(self.db, offers=offers)

    async def remember_control(
        self, *, workshop_id: int, chat_id: int, message_id: int
    ) -> int | None:
        """Keep a facilitator's new control message; returns the one it replaces."""
        before = dict(await workshops.room_controls(self.db, workshop_id=workshop_id))
        await workshops.add_room_control(
            self.db, workshop_id=workshop_id, chat_id=chat_id, message_id=message_id
        )
        previous = before.get(chat_id)
        return previous if previous != message_id else None

    async def controls(self, workshop_id: int) -> list[tuple[int, int]]:
        """(chat id, message id) of each facilitator's control message."""
        return await workshops.room_controls(self.db, workshop_id=workshop_id)

    async def statement_of(self, workshop_id: int) -> int | None:
        """The statement the room is on now (to stop bringing phones to one it has left)."""
        workshop = await workshops.get(self.db, workshop_id=workshop_id)
        return workshop.room_statement_id if workshop is not None else None

    async def running_rooms(self) -> list[int]:
        """The workshops whose open agora is paced by the room (to sync after a restart)."""
        return await workshops.in_room_mode(self.db)
