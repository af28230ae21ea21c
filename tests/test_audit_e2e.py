"""The audit end to end: what organisers and facilitators do to a workshop is recorded
once each (a redelivered update too), and `/audit <code>` shows it to the workshop's
organisers, in their time zone; a participant, a facilitator, and a facilitator of
another workshop are refused and see nothing of it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey
from reports.text import ngettext_for, translator, when_text
from storage.db import from_required_text
from tests import stored
from tests.conftest import ORGANISER_ID, create_workshop, facilitator_code
from tests.helpers import Plan, in_lockstep, plan_onboarding, plan_phase_one
from tests.test_review_e2e import batch_with, plan_phase_two_saying, watch_review
from tgemu import BotApiEmulator

FR = translator("fr")  # the organiser's language
FR_N = ngettext_for("fr")
NEW_YORK = ZoneInfo("America/New_York")
FACILITATOR_ID = 4100
OTHER_FACILITATOR_ID = 4200
A1 = "Ouvrir les salles de la mairie le samedi"
A2 = "Prêter notre camion deux fois par mois"
B2 = "Open the town hall rooms on saturdays too"
B3 = "Publish our calendar of events"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, review_delay=0.2)


def audit_rows(database: Path, code: str) -> list[tuple[int | None, str, str]]:
    """(actor, action, detail) of the workshop's audit, oldest first."""
    with stored.connect(database) as conn:
        return conn.execute(
            "SELECT a.actor_id, a.action, a.detail FROM audit a"
            " JOIN workshops w ON w.id = a.workshop_id WHERE w.code = ? ORDER BY a.id",
            (code,),
        ).fetchall()


def audit_times(database: Path, code: str) -> list[str]:
    with stored.connect(database) as conn:
        rows = conn.execute(
            "SELECT a.at FROM audit a JOIN workshops w ON w.id = a.workshop_id"
            " WHERE w.code = ? ORDER BY a.id DESC",
            (code,),
        ).fetchall()
    return [row[0] for row in rows]


def numbers(database: Path) -> dict[str, int]:
    with stored.connect(database) as conn:
        return dict(conn.execute("SELECT text, number FROM statements").fetchall())


async def test_actions_are_audited_once_and_shown_to_organisers(
    bot: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    watch_review(emulator, bot)
    database = settings.database
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    facilitator = emulator.user(FACILITATOR_ID, first_name="Fac", language_code="fr")
    await facilitator.send(f"/start {facilitator_code(organiser)}")
    await emulator.wait_idle()

    # Phase 2 made to wait, then opened, before anyone reaches it.
    await facilitator.send(f"/peers wait {code}")
    await emulator.wait_idle()
    await facilitator.send(f"/open peers {code}")
    await emulator.wait_idle()

    elu = journey.categories[0].id
    plans = []
    for user_id, language, requests, commitment in (
        (4001, "fr", [A1], A2),
        (4002, "en", [B2], B3),
    ):
        plan = Plan(emulator.user(user_id, language_code=language), language, elu)
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey)
        plan_phase_two_saying(plan, journey, requests=requests, commitment=commitment)
        plans.append(plan)
    await in_lockstep(emulator, plans)
    await emulator.wait_idle()
    number = numbers(database)
    assert set(number) == {A1, A2, B2, B3}

    # Review: an approval (delivered twice), a rejection, a merge by the buttons.
    approval = await facilitator.send(f"/approve {number[A1]} {code}")
    await emulator.wait_idle()
    emulator.redeliver(approval)
    await emulator.wait_idle()
    await organiser.send(f"/reject {number[A2]} {code}")
    await emulator.wait_idle()
    pressed = batch_with(facilitator, B2)
    await facilitator.press(f"🔀 {number[B2]}", message=pressed)
    await emulator.wait_idle()
    choosing = facilitator.bot_message(pressed.message_id)
    assert choosing is not None
    await facilitator.press(f"→ {number[A1]}", message=choosing)
    await emulator.wait_idle()

    # The agora, opened and closed; an export (delivered twice); a broadcast; a new
    # facilitator link (delivered twice); the workshop closed.
    await facilitator.send(f"/agora {code}")
    await emulator.wait_idle()
    await facilitator.send(f"/agora close {code}")
    await emulator.wait_idle()
    # A live screen link, asked for twice: the second gives the same one.
    for _ in range(2):
        await facilitator.send(f"/screen {code}")
        await emulator.wait_idle()
    export = await organiser.send(f"/export {code}")
    await emulator.wait_idle()
    emulator.redeliver(export)
    await emulator.wait_idle()
    await organiser.send(f"/broadcast {code} La salle change.")
    await emulator.wait_idle()
    preview = organiser.last
    send_label = next(label for label in preview.labels if label.startswith("📣"))
    await organiser.press(send_label, message=preview)
    await emulator.wait_idle()
    revoke = await organiser.send(f"/revoke {code}")
    await emulator.wait_idle()
    emulator.redeliver(revoke)
    await emulator.wait_idle()
    await organiser.send(f"/close {code}")
    await emulator.wait_idle()

    expected = [
        (ORGANISER_ID, "created", ""),
        (FACILITATOR_ID, "peers_wait", ""),
        (FACILITATOR_ID, "peers_opened", ""),
        (FACILITATOR_ID, "approved", str(number[A1])),
        (ORGANISER_ID, "rejected", str(number[A2])),
        (FACILITATOR_ID, "merged", f"{number[B2]}>{number[A1]}"),
        (FACILITATOR_ID, "agora_opened", "self"),
        (FACILITATOR_ID, "agora_closed", ""),
        (FACILITATOR_ID, "screen_link", ""),
        (ORGANISER_ID, "exported", ""),
        (ORGANISER_ID, "broadcast", "2"),
        (ORGANISER_ID, "revoked", ""),
        (ORGANISER_ID, "closed", ""),
    ]
    assert audit_rows(database, code) == expected

    # /audit, for the organiser, newest first, in their own time zone.
    await organiser.send("/timezone America/New_York")
    await emulator.wait_idle()
    await organiser.send(f"/audit {code}")
    await emulator.wait_idle()
    shown = organiser.last.text or ""
    assert FR("Audit · {title}").format(title="Atelier de la vallée") in shown
    facilitator_said = FR("a facilitator ({id})").format(id=FACILITATOR_ID)
    you = FR("you")
    said = [
        (you, FR("closed the workshop")),
        (you, FR("issued a new facilitator link")),
        (
            you,
            FR_N(
                "sent a broadcast to {count} participant",
                "sent a broadcast to {count} participants",
                2,
            ).format(count=2),
        ),
        (you, FR("exported the answers and the synthesis")),
        (facilitator_said, FR("issued a live screen link")),
        (facilitator_said, FR("closed the agora")),
        (facilitator_said, FR("opened the agora")),
        (
            facilitator_said,
            FR("merged statement {number} into {kept}").format(number=number[B2], kept=number[A1]),
        ),
        (you, FR("rejected statement {number}").format(number=number[A2])),
        (facilitator_said, FR("approved statement {number}").format(number=number[A1])),
        (facilitator_said, FR("opened phase 2")),
        (facilitator_said, FR("made phase 2 wait for /open peers")),
        (you, FR("created the workshop")),
    ]
    times = [
        when_text(from_required_text(at), NEW_YORK, "fr") for at in audit_times(database, code)
    ]
    lines = [line for line in shown.splitlines() if line.startswith("• ")]
    assert lines == [
        f"• {when} · {who}: {what}" for when, (who, what) in zip(times, said, strict=True)
    ]
    assert len(shown) < 4096

    # Nobody else reads it: a participant, the workshop's own facilitator (not an
    # organiser), and a facilitator of another workshop; what they do records nothing.
    other_code = await create_workshop(emulator, "Un autre atelier")
    other = emulator.user(OTHER_FACILITATOR_ID, first_name="Other", language_code="fr")
    await other.send(f"/start {facilitator_code(organiser)}")
    await emulator.wait_idle()
    refusal = FR("Only the organisers of that workshop can do that.")
    for outsider in (plans[0].user, facilitator, other):
        await outsider.send(f"/audit {code}")
        await emulator.wait_idle()
        assert outsider.last.text == refusal
        assert not any("Audit ·" in (m.text or "") for m in outsider.messages)
    assert audit_rows(database, code) == expected
    assert audit_rows(database, other_code) == [(ORGANISER_ID, "created", "")]
    # No entry names a participant.
    with stored.connect(database) as conn:
        actors = {row[0] for row in conn.execute("SELECT actor_id FROM audit")}
    assert actors == {ORGANISER_ID, FACILITATOR_ID}


async def test_a_facilitator_who_erases_their_data_leaves_no_id_in_the_audit(
    bot: Application, emulator: BotApiEmulator, settings: Settings
) -> None:
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    facilitator = emulator.user(FACILITATOR_ID, first_name="Fac", language_code="fr")
    await facilitator.send(f"/start {facilitator_code(organiser)}")
    await emulator.wait_idle()
    await facilitator.send(f"/peers wait {code}")
    await emulator.wait_idle()
    await facilitator.send("/forget")
    await emulator.wait_idle()
    await facilitator.press(FR("Erase everything"), message=facilitator.last)
    await emulator.wait_idle()
    assert audit_rows(settings.database, code) == [
        (ORGANISER_ID, "created", ""),
        (None, "peers_wait", ""),
    ]
    await organiser.send(f"/audit {code}")
    await emulator.wait_idle()
    assert FR("an erased account") in (organiser.last.text or "")
    assert str(FACILITATOR_ID) not in (organiser.last.text or "")


async def test_audit_needs_a_code(bot: Application, emulator: BotApiEmulator) -> None:
    organiser = emulator.user(ORGANISER_ID)
    await organiser.send("/audit")
    await emulator.wait_idle()
    assert organiser.last.text == FR(
        "Write the workshop's code: /audit <code> (/workshops lists them)."
    )
