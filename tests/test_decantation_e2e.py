"""The décantation end to end: the last two moments come a few seconds after a participant
finished, with their commitments recalled; its answers are stored like any other, and
counted in its synthesis pushed to the facilitators and in the export; a reminder once;
nothing for whoever paused; /decantation and /followup refuse what they must; a
follow-up reaches the author of a commitment put to the agora.

Time is the bot's clock (`Runtime.clock`), held still and moved by the test: what is due
comes at the next look of the outbox, and nothing comes before its time."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.runtime import RUNTIME_KEY, Runtime
from bot.settings import Settings
from flows.journey import Journey
from flows.outbox import QuietHours
from reports.text import translator
from reports.wording import too_few
from storage import workshops
from storage.db import utc_now
from tests import stored
from tests.conftest import (
    ORGANISER_ID,
    bot_running,
    create_workshop,
    facilitator_code,
    participant_row,
    stored_answers,
)
from tests.helpers import Plan, in_lockstep, plan_onboarding, plan_phase_one, plan_phase_two
from tgemu import BotApiEmulator, EmulatedUser

FACILITATOR_ID = 700
OUTSIDER_ID = 701


@pytest.fixture
async def app(settings: Settings, emulator: BotApiEmulator) -> AsyncIterator[Application]:
    """The bot with no quiet hours (the clock is moved at will) and a threshold of two."""
    quiet = QuietHours(time(0, 0), time(0, 0))
    async with bot_running(replace(settings, quiet_hours=quiet, min_group=2), emulator) as bot:
        yield bot
    assert [call for call in emulator.rejected if call.method != "answerCallbackQuery"] == []


class Clock:
    """The bot's "now", held still until the test moves it."""

    def __init__(self, state: Runtime) -> None:
        self.now = utc_now()
        state.clock = lambda: self.now

    def move_to(self, moment: datetime) -> None:
        self.now = moment


async def with_short_decantation(app: Application, emulator: BotApiEmulator) -> tuple[Clock, str]:
    """The bot's clock held still, and a new workshop (its code) whose décantation comes
    three seconds after a participant finishes."""
    state: Runtime = app.bot_data[RUNTIME_KEY]
    clock = Clock(state)
    code = await create_workshop(emulator)
    assert state.database is not None
    found = await workshops.find_by_code(state.database, code=code)
    assert found is not None
    await workshops.configure(state.database, workshop_id=found[0].id, decantation_seconds=3)
    return clock, code


async def until(condition: Callable[[], bool], *, seconds: float = 20.0) -> None:
    """Wait for the outbox's next looks (a sweep every five seconds) to bring something."""
    for _ in range(int(seconds / 0.2)):
        if condition():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("nothing came in time")


def rows(database: Path, query: str, *params: object) -> list[sqlite3.Row]:
    with stored.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(query, params).fetchall()


def deliveries(database: Path, kind: str, user_id: int) -> list[str]:
    found = rows(
        database,
        "SELECT d.status FROM deliveries d JOIN mailings m ON m.id = d.mailing_id"
        " WHERE m.kind = ? AND d.user_id = ?",
        kind,
        user_id,
    )
    return [row["status"] for row in found]


def shown(user: EmulatedUser, after: int) -> list[str]:
    return [m.shown for m in user.messages[after:]]


async def finished_participants(
    emulator: BotApiEmulator, journey: Journey, code: str, specs: list[tuple[int, str, str]]
) -> list[Plan]:
    """Participants walked through both phases, each writing one commitment."""
    plans = []
    for user_id, category, language in specs:
        user = emulator.user(user_id, first_name=f"P{user_id}", language_code=language)
        plan = Plan(user, language, category)
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plan_phase_two(plan, journey)
        plans.append(plan)
    await in_lockstep(emulator, plans)
    return plans


async def test_the_last_moments_come_with_the_commitments_and_are_counted(
    app: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    clock, code = await with_short_decantation(app, emulator)
    database = settings.database
    organiser = emulator.user(ORGANISER_ID)

    plans = await finished_participants(
        emulator,
        journey,
        code,
        [(4101, "elu", "fr"), (4102, "agent", "en"), (4103, "socio_eco", "fr")],
    )
    answerer, pauser, silent = (plan.user for plan in plans)
    finished_at = {}
    for plan in plans:
        row = participant_row(database, plan.user.id)
        assert row is not None and row["state"] == "done" and row["finished_at"]
        finished_at[plan.user.id] = row["finished_at"]
    facilitator = emulator.user(FACILITATOR_ID, first_name="Fac", language_code="en")
    await facilitator.send(f"/start {facilitator_code(organiser)}")
    await emulator.wait_idle()
    seen = {plan.user.id: len(plan.user.messages) for plan in plans}

    # Not before its time: the clock still shows the moment before they finished.
    await asyncio.sleep(5.5)
    assert all(len(plan.user.messages) == seen[plan.user.id] for plan in plans)

    # Three seconds later, it comes: the moment's intro, their commitment recalled (escaped),
    # the first prompt with its buttons.
    clock.move_to(utc_now() + timedelta(seconds=4))
    stays = journey.prompt("m8_shifted")  # the nourishing feedback comes first
    assert stays is not None
    await until(lambda: all(stays.text[p.language] in (p.user.last.text or "") for p in plans))
    for plan in plans:
        first = plan.user.last
        text = first.text or ""
        commitment = next(t for kind, _, t in plan.statements if kind == "commitment")
        assert commitment.replace("<b>&", "") in text  # shown as written, escaped
        assert "<b>&" in text  # the raw characters, shown as text, not markup
        assert ("Moment 8 of 9" if plan.language == "en" else "Moment 8") in text
        assert len(shown(plan.user, seen[plan.user.id])) == 1  # once
        row = participant_row(database, plan.user.id)
        assert row is not None and row["state"] == "m8_shifted" and row["decantation_sent_at"]
        assert row["finished_at"] == finished_at[plan.user.id]
    assert all(
        status == "sent" for p in plans for status in deliveries(database, "decantation", p.user.id)
    )

    # The answerer goes through it with the journey's own buttons and messages: the
    # feedback on what was lived together, then the settling.
    await answerer.press("4")
    await emulator.wait_idle()
    await answerer.send("Un accord inattendu entre élus et associations")
    await emulator.wait_idle()
    await answerer.press("Passer")
    await emulator.wait_idle()
    await answerer.press("4")
    await emulator.wait_idle()
    commitments_prompt = journey.prompt("m9_commitments")
    assert commitments_prompt is not None
    asked = answerer.last.text or ""
    assert commitments_prompt.text["fr"] in asked
    mine = next(t for kind, _, t in plans[0].statements if kind == "commitment")
    assert mine.replace("<b>&", "") in asked
    await answerer.send("Tenu à moitié <i>ou presque</i>")
    await emulator.wait_idle()
    await answerer.send("Un contact repris avec la mairie")
    await emulator.wait_idle()
    assert "🌱" in (answerer.last.text or "")
    answers = stored_answers(database, answerer.id)
    assert answers["m8_shifted"] == answers["m9_stays"] == "4"
    assert answers["m8_lesson"] == "Un accord inattendu entre élus et associations"
    assert "m8_story" not in answers
    assert answers["m9_commitments"] == "Tenu à moitié <i>ou presque</i>"
    assert answers["m9_settled"] == "Un contact repris avec la mairie"
    row = participant_row(database, answerer.id)
    assert row is not None and row["state"] == "done" and row["settled_at"]
    assert row["finished_at"] == finished_at[answerer.id]

    # The pauser pauses in the middle; the silent one does nothing.
    await pauser.send("/pause")
    await emulator.wait_idle()
    before = {p.user.id: len(p.user.messages) for p in plans}

    # The reminder, 0.3 × the delay later: once to the silent one; nothing to whoever
    # paused, nor to whoever answered.
    clock.move_to(clock.now + timedelta(seconds=5))
    await until(lambda: len(silent.messages) > before[silent.id])
    await asyncio.sleep(6)  # another sweep and claim: nothing more comes
    reminder = shown(silent, before[silent.id])
    assert len(reminder) == 1 and "🔔" in reminder[0] and stays.text["fr"] in reminder[0]
    assert deliveries(database, "decantation_reminder", silent.id) == ["sent"]
    assert len(pauser.messages) == before[pauser.id]
    assert deliveries(database, "decantation_reminder", pauser.id) in ([], ["skipped"])
    assert len(answerer.messages) == before[answerer.id]
    assert deliveries(database, "decantation_reminder", answerer.id) in ([], ["skipped"])

    # The silent one answers (skipping the question on commitments): everyone who finished
    # and is not pausing has answered, so the synthesis goes to the facilitator, once.
    pushed = len(facilitator.messages)
    for tap in ("2", "Passer", "Passer", "2", "Passer"):
        await silent.press(tap)
        await emulator.wait_idle()
    assert len(facilitator.messages) == pushed  # not before the last answer
    await silent.send("Une idée qui a mûri")
    await emulator.wait_idle()
    received = "\n".join(shown(facilitator, pushed))
    # In the facilitator's language (the deployment's, as they chose none): the moment's
    # title; the scale, answered by two: its distribution (one 2, one 4); one answer on the
    # commitments, under the threshold of two: not shown, its text nowhere.
    assert received.startswith("📬") and journey.moment(9).title["fr"] in received
    assert "réponses données\u00a0: 2 (1) · 4 (1)" in received
    assert too_few(2, "fr") in received
    assert "Tenu à moitié" not in received
    # The pauser resumes and answers: stored, but no second push.
    after_first = len(facilitator.messages)
    await pauser.send("/resume")
    await emulator.wait_idle()
    for tap in ("5", "Skip", "Skip", "5", "Skip"):
        await pauser.press(tap)
        await emulator.wait_idle()
    await pauser.send("Nothing much <yet>")
    await emulator.wait_idle()
    assert stored_answers(database, pauser.id)["m9_settled"] == "Nothing much <yet>"
    assert len(facilitator.messages) == after_first

    # The export holds the ninth moment's answers, with their phase.
    before_export = len(facilitator.messages)
    await facilitator.send(f"/export {code}")
    await emulator.wait_idle(timeout=30)
    documents = {m.file_name: m.file_bytes or b"" for m in facilitator.messages[before_export:]}
    table = list(csv.DictReader(io.StringIO(documents["answers.csv"].decode("utf-8-sig"))))
    settled = [r for r in table if r["phase"] == "decantation"]
    assert {r["step"] for r in settled} == {
        *("m8_shifted", "m8_lesson"),
        *("m9_stays", "m9_commitments", "m9_settled"),
    }
    assert "Tenu à moitié <i>ou presque</i>" in {r["answer"] for r in settled}
    assert all(r["question"] for r in settled)


async def test_the_last_moments_wait_for_the_agora_to_close(
    app: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    """The nourishing feedback asks about what was lived together: with a delay shorter
    than the workshop, the deferred moments wait while the agora is open, and come the
    delay after it closes."""
    clock, code = await with_short_decantation(app, emulator)
    database = settings.database
    organiser = emulator.user(ORGANISER_ID)
    (plan,) = await finished_participants(emulator, journey, code, [(4301, "elu", "fr")])
    user = plan.user
    await organiser.send("/agora")
    await emulator.wait_idle()
    seen = len(user.messages)

    # Well past the delay after they finished, the agora still open: nothing comes.
    row = participant_row(database, user.id)
    assert row is not None and row["finished_at"]
    clock.move_to(datetime.fromisoformat(row["finished_at"]) + timedelta(seconds=10))
    await asyncio.sleep(6)  # a sweep and a claim
    await emulator.wait_idle()
    first = journey.prompt("m8_shifted")
    assert first is not None
    assert not any(first.text["fr"] in text for text in shown(user, seen))
    assert deliveries(database, "decantation", user.id) == ["pending"]
    row = participant_row(database, user.id)
    assert row is not None and row["state"] == "done" and not row["decantation_sent_at"]

    # The agora closes: the delay counts from then.
    await organiser.send("/agora close")
    await emulator.wait_idle()
    [workshop_row] = rows(database, "SELECT agora_closed_at FROM workshops")
    closed = datetime.fromisoformat(workshop_row["agora_closed_at"])
    [due] = rows(
        database,
        "SELECT d.due_at FROM deliveries d JOIN mailings m ON m.id = d.mailing_id"
        " WHERE m.kind = 'decantation' AND d.user_id = ?",
        user.id,
    )
    finished = datetime.fromisoformat(row["finished_at"])
    due_at = datetime.fromisoformat(due["due_at"])
    assert due_at == max(finished, closed) + timedelta(seconds=3) >= closed + timedelta(seconds=3)
    clock.move_to(due_at + timedelta(seconds=1))
    await until(lambda: first.text["fr"] in (user.last.text or ""))
    assert deliveries(database, "decantation", user.id) == ["sent"]


async def test_decantation_and_followup_refuse_what_they_must(
    app: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    state: Runtime = app.bot_data[RUNTIME_KEY]
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    found = await workshops.find_by_code(state.database, code=code)  # type: ignore[arg-type]
    assert found is not None
    workshop_id = found[0].id

    async def reply(user: EmulatedUser, text: str) -> str:
        count = len(user.messages)
        await user.send(text)
        await emulator.wait_idle()
        assert len(user.messages) == count + 1, shown(user, count)
        return user.last.text or ""

    def delay() -> int:
        stored = rows(
            settings.database,
            "SELECT decantation_seconds FROM workshops WHERE id = ?",
            workshop_id,
        )
        return int(stored[0]["decantation_seconds"])

    # Bad numbers, a missing one, an unknown code: refused, nothing changed.
    for bad in ("91", "-1", "deux", "1.5"):
        assert "0" in await reply(organiser, f"/decantation {code} {bad}")
    assert "/decantation" in await reply(organiser, f"/decantation {code}")
    assert "ZZZZZZZZ" in await reply(organiser, "/decantation ZZZZZZZZ 5")
    assert delay() == 864000
    # A participant, and a facilitator of another workshop: not theirs to set.
    participant = emulator.user(4201, first_name="P", language_code="en")
    await participant.send(f"/start {code}")
    await emulator.wait_idle()
    assert "organisers and facilitators" in await reply(participant, f"/decantation {code} 3")
    other_code = await create_workshop(emulator, "Autre atelier")
    other_facilitator = emulator.user(4202, first_name="F", language_code="en")
    await other_facilitator.send(f"/start {facilitator_code(organiser)}")
    await emulator.wait_idle()
    assert other_code != code
    assert "organisers and facilitators" in await reply(other_facilitator, f"/decantation {code} 3")
    assert "organisers and facilitators" in await reply(
        other_facilitator, f"/followup {code} in 6 weeks"
    )
    assert delay() == 864000
    # The organiser sets it: stored.
    assert "3" in await reply(organiser, f"/decantation {code} 3")
    assert delay() == 3 * 86400
    # /followup: an unreadable or past date, an unknown code.
    assert "/suivi" in await reply(organiser, f"/followup {code} n'importe quand")
    assert "/suivi" in await reply(organiser, f"/followup {code} 2020-01-01 9:00")
    assert "ZZZZZZZZ" in await reply(organiser, "/followup ZZZZZZZZ in 6 weeks")
    assert rows(settings.database, "SELECT id FROM mailings WHERE kind = 'followup'") == []
    # A closed workshop: nothing more is set for it.
    await workshops.close(state.database, workshop_id=workshop_id, now=utc_now())  # type: ignore[arg-type]
    assert "clos" in await reply(organiser, f"/decantation {code} 5")  # in French: « clos »
    assert "clos" in await reply(organiser, f"/followup {code} in 6 weeks")
    assert delay() == 3 * 86400
    assert rows(settings.database, "SELECT id FROM mailings WHERE kind = 'followup'") == []


async def test_a_followup_reaches_the_author_of_a_commitment_in_the_agora(
    app: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    state: Runtime = app.bot_data[RUNTIME_KEY]
    clock = Clock(state)
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    facilitator = emulator.user(FACILITATOR_ID, first_name="Fac", language_code="en")
    await facilitator.send(f"/start {facilitator_code(organiser)}")
    await emulator.wait_idle()
    # No review and no caucus: a commitment enters the agora as soon as it opens.
    found = await workshops.find_by_code(state.database, code=code)  # type: ignore[arg-type]
    assert found is not None
    await workshops.configure(state.database, workshop_id=found[0].id, review=0, caucus=0)  # type: ignore[arg-type]
    plans = await finished_participants(emulator, journey, code, [(4301, "elu", "fr")])
    author = plans[0].user
    await facilitator.send(f"/agora {code}")
    await emulator.wait_idle()
    commitment = next(t for kind, _, t in plans[0].statements if kind == "commitment")

    count = len(organiser.messages)
    await organiser.send(f"/followup {code} in 6 weeks")
    await emulator.wait_idle()
    assert "1" in (organiser.last.text or "") and len(organiser.messages) == count + 1
    before = len(author.messages)
    clock.move_to(clock.now + timedelta(weeks=6, minutes=1))
    await until(lambda: any("🧭" in m for m in shown(author, before)))
    asked = next(m for m in shown(author, before) if "🧭" in m)
    assert commitment.replace("<b>&", "") in asked and "<b>&" in asked
    statuses = deliveries(settings.database, "followup", author.id)
    assert statuses == ["sent"]
    # The organiser who asked gets the mailing's report.
    await until(lambda: len(organiser.messages) > count + 1)
    # Erased with them: the follow-up's answer is an answer of theirs (when one is typed).
    awaiting = rows(settings.database, "SELECT awaiting FROM users WHERE user_id = ?", author.id)
    assert awaiting[0]["awaiting"].startswith("followup:")
    assert datetime.now(UTC) < clock.now


async def test_a_decantation_the_network_kept_back_still_comes(
    tmp_path: Path, journey: Journey
) -> None:
    """Its first send fails three calls in a row (the connection closed, past the quick
    retries): the participant was already moved to the ninth moment, and the retry 30 s
    later shows them the question they are at, once."""
    async with BotApiEmulator(max_hold=0.3) as emulator:
        settings = Settings(
            token=emulator.token,
            api_base_url=emulator.base_url,
            database=str(tmp_path / "coopbot.sqlite3"),
            organisers=frozenset({ORGANISER_ID}),
            quiet_hours=QuietHours(time(0, 0), time(0, 0)),
        )
        async with bot_running(settings, emulator) as app:
            state: Runtime = app.bot_data[RUNTIME_KEY]
            clock = Clock(state)
            code = await create_workshop(emulator)
            found = await workshops.find_by_code(state.database, code=code)  # type: ignore[arg-type]
            assert found is not None
            await workshops.configure(
                state.database,  # type: ignore[arg-type]
                workshop_id=found[0].id,
                decantation_seconds=3,
            )
            (plan,) = await finished_participants(emulator, journey, code, [(4201, "elu", "fr")])
            user = plan.user
            seen = len(user.messages)
            emulator.time_out(user.id, times=3)
            clock.move_to(utc_now() + timedelta(seconds=4))
            await until(lambda: len(emulator.timed_out) == 3)
            await asyncio.sleep(2)
            await emulator.wait_idle()
            assert len(user.messages) == seen  # nothing reached them
            row = participant_row(settings.database, user.id)
            assert row is not None and row["state"] == "m8_shifted"  # moved all the same
            assert deliveries(settings.database, "decantation", user.id) == ["pending"]

            clock.move_to(utc_now() + timedelta(seconds=40))  # past the retry's 30 s
            stays = journey.prompt("m8_shifted")
            assert stays is not None
            await until(lambda: stays.text["fr"] in (user.last.text or ""))
            await asyncio.sleep(1)
            await emulator.wait_idle()
            gettext = translator("fr")
            intro = gettext(
                "Here are its last two moments, the nourishing feedback and the settling: a "
                "few questions, at your own pace."
            )
            assert len([t for t in shown(user, seen) if intro in t]) == 1  # the décantation, once
            assert deliveries(settings.database, "decantation", user.id) == ["sent"]
