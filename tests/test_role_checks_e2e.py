"""Every facilitator and organiser command and button, tried by people who have no right to
it: a participant of the workshop, a facilitator of another workshop, an organiser of
another workshop (named in COOPBOT_ORGANISERS, as organisers are), and, for what only
organisers may do, a facilitator of the workshop itself. Each gets a refusal, nothing
stored changes, nobody else is sent anything, and nothing of the workshop (its
facilitator code, what its participants wrote) is in the reply.

Commands name the workshop by its join code (what a participant has, and what anyone who
saw the link has); buttons are forged with the real ids of the workshop's statements,
mailings and of the workshop itself. The existing checks are in `test_roles_e2e.py`
(/newsession, /progress, /review by a facilitator of another workshop) and
`test_abuse_e2e.py` (flood, wrong codes); this file covers the rest, command by command."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.runtime import RUNTIME_KEY
from bot.settings import Settings
from flows.errors import NotAllowed
from flows.facilitation import Decision
from flows.journey import Journey
from tests import stored
from tests.conftest import ORGANISER_ID, bot_running, facilitator_code, join_code
from tests.helpers import Plan, in_lockstep, plan_onboarding, plan_phase_one, plan_phase_two
from tgemu import BotApiEmulator, EmulatedUser

OTHER_ORGANISER = 501
TITLE = "Atelier Zèbre 7731"
# What a refused update may touch without anything of the workshop changing: the ledger of
# handled updates, in the users' rows their language and when they were last seen, and the
# workers alive (each says so every few seconds).
UNWATCHED = frozenset({"processed_updates", "users", "sqlite_sequence", "workers"})
PARTICIPANT, OTHER_FACILITATOR, OTHER_ORGANISER_ROLE, OWN_FACILITATOR = (
    "participant",
    "facilitator of another workshop",
    "organiser of another workshop",
    "facilitator of the workshop",
)
INTRUDERS = (PARTICIPANT, OTHER_FACILITATOR, OTHER_ORGANISER_ROLE)
REFUSALS = ("Only the", "Only organisers")


@dataclass
class Workshop:
    """The workshop under attack, as it stands when each attempt is made."""

    code: str
    ids: dict[str, int | str]  # what forged buttons name: {workshop}, {statement}...
    secrets: list[str]  # what only its facilitators may read


@dataclass(frozen=True)
class Attempt:
    name: str
    command: str | None = None  # with {code} for the workshop's join code
    data: str | None = None  # a forged button, with {workshop}, {statement}, {reminder}...
    who: tuple[str, ...] = INTRUDERS
    refused: bool = True  # the reply says no (else: it shows the user's own things only)

    def text(self, target: Workshop) -> str:
        template = self.command if self.command is not None else self.data
        assert template is not None
        return template.format(code=target.code, **target.ids)


ORGANISERS_ONLY = (*INTRUDERS, OWN_FACILITATOR)

ATTEMPTS = [
    # Facilitators' commands (`FacilitationService.workshop_for`, the board's check).
    Attempt("/progress", "/progress {code}"),
    Attempt("/open peers", "/open peers {code}"),
    Attempt("/peers follow", "/peers follow {code}"),
    Attempt("/agora", "/agora {code}"),
    Attempt("/agora room", "/agora room {code}"),
    Attempt("/agora order", "/agora order etat, agent, elu, socio_eco {code}"),
    Attempt("/caucus off", "/caucus off {code}"),
    Attempt("/caucus keep", "/caucus keep 3 {code}"),
    Attempt("/caucus", "/caucus {code}"),
    Attempt("/statements", "/statements {code}"),
    Attempt("/approve", "/approve 1 {code}"),
    Attempt("/reject", "/reject 1 {code}"),
    Attempt("/withdraw", "/withdraw 1 {code}"),
    Attempt("/review", "/review {code}"),
    Attempt("/review off (participant)", "/review off {code}", who=(PARTICIPANT,)),
    Attempt("/resolutions", "/resolutions {code}"),
    Attempt("/synthesis", "/synthesis {code}"),
    Attempt("/synthesis 1", "/synthesis 1 {code}"),
    Attempt("/synthesis at", "/synthesis at 18:00 {code}"),
    Attempt("/export", "/export {code}"),
    Attempt("/share", "/share {code}"),
    # Organisers' and facilitators' mailings (`flows.mailings` `_check_role`).
    Attempt("/remind", "/remind {code} 3/6/2030 10:01 Venez tous"),
    Attempt("/reminders", "/reminders {code}"),
    Attempt("/broadcast", "/broadcast {code} La salle change."),
    Attempt("/annonce", "/annonce {code} La salle change."),
    Attempt("/decantation", "/decantation {code} 3"),
    Attempt("/followup", "/followup {code} in 6 weeks"),
    # Organisers only (`OrganiserService._checked`).
    Attempt("/session", "/session {code} 2030-06-03 10:00 Salle des fêtes", who=ORGANISERS_ONLY),
    Attempt("/close", "/close {code}", who=ORGANISERS_ONLY),
    Attempt("/revoke", "/revoke {code}", who=ORGANISERS_ONLY),
    Attempt("/coorganiser", f"/coorganiser {{code}} {OTHER_ORGANISER}", who=ORGANISERS_ONLY),
    # An organiser of another workshop is shown theirs only (no refusal, nothing of A).
    Attempt("/workshops", "/workshops", who=(PARTICIPANT, OTHER_FACILITATOR, OWN_FACILITATOR)),
    Attempt("/workshops (theirs)", "/workshops", who=(OTHER_ORGANISER_ROLE,), refused=False),
    # Forged buttons with the workshop's real ids.
    Attempt("moderation approve", data="mod:{statement}:a"),
    Attempt("moderation reject", data="mod:{statement}:r"),
    Attempt("review approve", data="rv:{statement}:a"),
    Attempt("review reject", data="rv:{statement}:r"),
    Attempt("review merge", data="rv:{statement}:m"),
    Attempt("review merge into", data="rv:{statement}:i:{other}"),
    Attempt("review approve all", data="rv:{statement}:e"),
    Attempt("reminder target", data="ml:t:{reminder}:1"),
    Attempt("reminder schedule", data="ml:s:{reminder}"),
    Attempt("reminder cancel", data="ml:x:{reminder}"),
    Attempt("broadcast send", data="ml:b:{broadcast}"),
    Attempt("broadcast cancel", data="ml:x:{broadcast}"),
    Attempt("workshop link", data="org:link:{workshop}", who=ORGANISERS_ONLY),
    Attempt("workshop sessions", data="org:sessions:{workshop}", who=ORGANISERS_ONLY),
    Attempt("workshop new link", data="org:revoke:{workshop}:{replaced}", who=ORGANISERS_ONLY),
    Attempt("workshop close", data="org:close:{workshop}", who=ORGANISERS_ONLY),
    Attempt("workshop close yes", data="org:closeyes:{workshop}", who=ORGANISERS_ONLY),
    Attempt("question skip", data="org:skip:{workshop}:territory", who=ORGANISERS_ONLY),
]


@pytest.fixture
async def guarded(settings: Settings, emulator: BotApiEmulator) -> AsyncIterator[Application]:
    """The bot with a second organiser, and no flood limit in the way of the attempts."""
    changed = replace(
        settings,
        organisers=frozenset({ORGANISER_ID, OTHER_ORGANISER}),
        flood_limit=100_000,
        messages_per_second=1000,
        review_delay=0.1,
    )
    async with bot_running(changed, emulator) as application:
        yield application


def snapshot(database: Path) -> dict[str, list[tuple]]:
    """Every row of every table but the unwatched ones."""
    with stored.connect(database) as conn:
        tables = [name for name in stored.tables(database) if name not in UNWATCHED]
        found = {
            table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in tables
        }
        found["users"] = conn.execute(
            "SELECT user_id, current_participant_id, awaiting, timezone, unreachable_at"
            " FROM users ORDER BY user_id"
        ).fetchall()
        return found


def changes(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> dict[str, object]:
    return {
        table: {"gone": set(rows) - set(after[table]), "new": set(after[table]) - set(rows)}
        for table, rows in before.items()
        if rows != after.get(table)
    }


def count(database: Path, table: str) -> int:
    with stored.connect(database) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


async def until(check: Callable[[], bool], limit: float) -> None:
    async with asyncio.timeout(limit):
        while not check():  # noqa: ASYNC110 (a condition on the bot's database)
            await asyncio.sleep(0.05)


async def command(emulator: BotApiEmulator, user: EmulatedUser, text: str) -> None:
    await user.send(text)
    await emulator.wait_idle()


async def prepare(
    emulator: BotApiEmulator, database: Path, journey: Journey
) -> tuple[Workshop, dict[str, EmulatedUser], list[EmulatedUser]]:
    """Workshop A (reviewed statements pending, phase 2 set to wait, a reminder and a
    broadcast drafted), its facilitator, two participants; workshop B, with an organiser
    and a facilitator of its own."""
    organiser = emulator.user(ORGANISER_ID, language_code="en")
    await command(emulator, organiser, f"/newsession {TITLE}")
    code, facilitator_link = join_code(organiser), facilitator_code(organiser)
    other_organiser = emulator.user(OTHER_ORGANISER, language_code="en")
    await command(emulator, other_organiser, "/newsession Atelier B")
    other_link = facilitator_code(other_organiser)
    for creator in (organiser, other_organiser):  # no question after /newsession pending
        await command(emulator, creator, "/cancel")
    own_facilitator = emulator.user(601, language_code="en")
    await command(emulator, own_facilitator, f"/start {facilitator_link}")
    other_facilitator = emulator.user(602, language_code="en")
    await command(emulator, other_facilitator, f"/start {other_link}")

    plans = []
    for index, language in enumerate(("en", "fr")):
        user = emulator.user(3500 + index, language_code=language)
        plan = Plan(user, language, journey.categories[index].id)
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plan_phase_two(plan, journey)
        plans.append(plan)
    await in_lockstep(emulator, plans)
    # The review queue is shown to the facilitators, and the décantation planned for
    # those who finished (by the outbox, every second), before anyone tries anything.
    await until(lambda: count(database, "deliveries") == len(plans), 10)
    await emulator.wait_idle()
    assert any(plans[1].statements[0][2] in (m.text or "") for m in own_facilitator.messages)
    await command(emulator, organiser, f"/peers wait {code}")
    await command(emulator, organiser, f"/remind {code} 3/6/2030 10:01 Apportez vos notes")
    await command(emulator, organiser, f"/broadcast {code} La salle change.")

    with stored.connect(database) as conn:
        workshop_id, facilitator = conn.execute(
            "SELECT id, facilitator_code FROM workshops WHERE code = ?", (code,)
        ).fetchone()
        pending = [
            sid
            for (sid,) in conn.execute(
                "SELECT id FROM statements WHERE workshop_id = ? AND status = 'pending'"
                " ORDER BY id",
                (workshop_id,),
            )
        ]
        mailings = dict(
            conn.execute(
                "SELECT kind, id FROM mailings WHERE workshop_id = ?", (workshop_id,)
            ).fetchall()
        )
    assert len(pending) == 4
    # What the participant under test has no right to read: the other's words, and the
    # facilitator code (the join code is theirs already).
    other = plans[1]
    secrets = [facilitator, *(text for _, _, text in other.statements)]
    secrets += [value for value in other.answers.values() if len(value) > 20]
    ids: dict[str, int | str] = {
        "workshop": workshop_id,
        "statement": pending[0],
        "other": pending[1],
        "reminder": mailings["reminder"],
        "broadcast": mailings["broadcast"],
        "replaced": facilitator[:8],
    }
    target = Workshop(code, ids, secrets)
    attackers = {
        PARTICIPANT: plans[0].user,
        OTHER_FACILITATOR: other_facilitator,
        OTHER_ORGANISER_ROLE: other_organiser,
        OWN_FACILITATOR: own_facilitator,
    }
    everyone = [organiser, *(p.user for p in plans), *attackers.values()]
    return target, attackers, list({user.id: user for user in everyone}.values())


def replies_since(user: EmulatedUser, messages: int, answers: int) -> list[str]:
    texts = [m.text or m.shown or f"<{m.kind}>" for m in user.messages[messages:]]
    texts += [str(a.get("text") or "") for a in user.callback_answers[answers:]]
    return texts


async def attempts_fail(
    emulator: BotApiEmulator,
    database: Path,
    target: Workshop,
    attempts: list[Attempt],
    attackers: dict[str, EmulatedUser],
    bystanders: list[EmulatedUser],
    title: str,
) -> list[str]:
    """Every attempt by every role it names; what went wrong, one line each."""
    failures: list[str] = []
    for attempt in attempts:
        for role in attempt.who:
            user = attackers[role]
            before = snapshot(database)
            shown = len(user.messages), len(user.callback_answers)
            others = {b: len(b.messages) for b in bystanders if b.id != user.id}
            calls = len(emulator.calls)
            if attempt.command is not None:
                await user.send(attempt.text(target))
            else:
                await user.press_data(attempt.text(target))
            await emulator.wait_idle()
            label = f"{attempt.name} by a {role}"
            replies = replies_since(user, *shown)
            changed = changes(before, snapshot(database))
            if changed:
                failures.append(f"{label} changed {changed}")
            leaked = [s for s in target.secrets if any(s in r for r in replies)]
            if role != PARTICIPANT and any(title in r for r in replies):
                leaked.append(title)
            if leaked:
                failures.append(f"{label} showed {leaked}: {replies}")
            if any(m.kind != "text" for m in user.messages[shown[0] :]):
                failures.append(f"{label} was sent a file: {replies}")
            if attempt.refused and not any(refusal in r for r in replies for refusal in REFUSALS):
                failures.append(f"{label} got no refusal: {replies}")
            told = {b.id: len(b.messages) - n for b, n in others.items()}
            if any(told.values()):
                failures.append(f"{label} made the bot write to others: {told}")
            elsewhere = [
                c.method
                for c in emulator.calls[calls:]
                if c.ok and "chat_id" in c.params and int(c.params["chat_id"]) != user.id
            ]
            if elsewhere:
                failures.append(f"{label} made the bot call {elsewhere} in others' chats")
    return failures


async def test_no_one_without_the_role_changes_or_reads_a_workshop(
    guarded: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    target, attackers, bystanders = await prepare(emulator, database, journey)
    failures = await attempts_fail(
        emulator, database, target, ATTEMPTS, attackers, bystanders, TITLE
    )
    assert failures == [], "\n".join(failures)

    # The decision itself checks the role again, behind the review's check that every
    # button and command meets first: asked directly, it refuses too.
    facilitation = guarded.bot_data[RUNTIME_KEY].facilitation
    before = snapshot(database)
    for role in INTRUDERS:
        with pytest.raises(NotAllowed):
            await facilitation.moderate(
                user_id=attackers[role].id,
                statement_id=int(target.ids["statement"]),
                decision=Decision.APPROVE,
            )
    assert changes(before, snapshot(database)) == {}


ROOM_TITLE = "Atelier Girafe 4410"
ROOM_ATTEMPTS = [
    # The room's controls (`RoomService._facilitated`) and the resolutions' cards
    # (`ResolutionService`), on a workshop whose agora the room paces.
    Attempt("room next", data="room:{workshop}:{statement}:n"),
    Attempt("room previous", data="room:{workshop}:{statement}:p"),
    Attempt("room close the vote", data="room:{workshop}:{statement}:x"),
    Attempt("room convergence", data="room:{workshop}:{statement}:r"),
    Attempt("resolution reformulate", data="res:{resolution}:t"),
    Attempt("resolution carriers", data="res:{resolution}:c"),
    Attempt("resolution carried by a group", data="res:{resolution}:k:elu"),
    Attempt("resolution name", data="res:{resolution}:w"),
    Attempt("resolution due date", data="res:{resolution}:d"),
    Attempt("resolution done", data="res:{resolution}:x"),
    Attempt("/resolutions", "/resolutions {code}"),
    Attempt("/agora close", "/agora close {code}"),
    Attempt("/withdraw", "/withdraw 1 {code}"),
    Attempt("/statements", "/statements {code}"),
]


async def test_no_one_without_the_role_moves_the_room_or_edits_a_resolution(
    guarded: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    organiser = emulator.user(ORGANISER_ID, language_code="en")
    await command(emulator, organiser, f"/newsession {ROOM_TITLE}")
    code, link = join_code(organiser), facilitator_code(organiser)
    other_organiser = emulator.user(OTHER_ORGANISER, language_code="en")
    await command(emulator, other_organiser, "/newsession Atelier B")
    other_link = facilitator_code(other_organiser)
    for creator in (organiser, other_organiser):
        await command(emulator, creator, "/cancel")
    own_facilitator = emulator.user(601, language_code="en")
    await command(emulator, own_facilitator, f"/start {link}")
    other_facilitator = emulator.user(602, language_code="en")
    await command(emulator, other_facilitator, f"/start {other_link}")
    for line in (f"/review off {code}", f"/caucus off {code}"):
        await command(emulator, organiser, line)
    plans = []
    for index, language in enumerate(("en", "fr")):
        user = emulator.user(3600 + index, language_code=language)
        plan = Plan(user, language, journey.categories[index].id)
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plan_phase_two(plan, journey)
        plans.append(plan)
    await in_lockstep(emulator, plans)
    await until(lambda: count(database, "deliveries") == len(plans), 10)
    await command(emulator, organiser, f"/agora room {code}")
    control = organiser.last
    await organiser.press("🤝 Mark a convergence", message=control)
    await emulator.wait_idle()
    with stored.connect(database) as conn:
        workshop_id, statement_id = conn.execute(
            "SELECT id, room_statement_id FROM workshops WHERE code = ?", (code,)
        ).fetchone()
        (resolution_id,) = conn.execute("SELECT id FROM resolutions").fetchone()
    assert statement_id is not None
    other = plans[1]
    secrets = [text for _, _, text in other.statements]
    target = Workshop(
        code,
        {"workshop": workshop_id, "statement": statement_id, "resolution": resolution_id},
        secrets,
    )
    attackers = {
        PARTICIPANT: plans[0].user,
        OTHER_FACILITATOR: other_facilitator,
        OTHER_ORGANISER_ROLE: other_organiser,
    }
    everyone = [organiser, own_facilitator, *(p.user for p in plans), *attackers.values()]
    bystanders = list({user.id: user for user in everyone}.values())
    failures = await attempts_fail(
        emulator, database, target, ROOM_ATTEMPTS, attackers, bystanders, ROOM_TITLE
    )
    assert failures == [], "\n".join(failures)
