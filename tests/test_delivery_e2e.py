"""The delivery policy end to end: a participant whose chat times out in the middle of an
announcement costs the others nothing, and is served again when the facilitator asks."""

from __future__ import annotations

from dataclasses import replace

from telegram.request import HTTPXRequest

from bot.app import build_application, is_handling_updates, running
from bot.settings import Settings
from flows.journey import Journey
from tests.conftest import ORGANISER_ID, create_workshop
from tests.test_agora_e2e import offered, room_at_the_end_of_phase_two
from tgemu import BotApiEmulator

INTRO = {"fr": "L'agora est ouverte", "en": "The agora is open"}


async def test_a_timeout_on_one_participant_does_not_stop_the_agora_announcement(
    emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    # A short read timeout, so that a call the emulator holds fails fast as TimedOut.
    application = build_application(
        replace(settings, messages_per_second=1000), request=HTTPXRequest(read_timeout=1.0)
    )
    unwatch = emulator.watch(lambda: is_handling_updates(application))
    try:
        async with running(application):
            code = await create_workshop(emulator)
            organiser = emulator.user(ORGANISER_ID)
            plans = await room_at_the_end_of_phase_two(emulator, journey, code, 6, 7000)
            lost, late = plans[2], plans[4]  # in the middle of the announcement
            before = {plan.user.id: len(plan.user.messages) for plan in plans}
            emulator.time_out(lost.user.id, times=3)  # every try times out
            emulator.time_out(late.user.id, times=1)  # the first try only
            await organiser.send("/agora")
            await emulator.wait_idle(timeout=30)

            assert "agora" in (organiser.last.text or "")
            for plan in plans:
                new = plan.user.messages[before[plan.user.id] :]
                if plan is lost:
                    assert new == []
                    continue
                # Everyone else got the introduction once, then a statement to vote on.
                intros = [m for m in new if INTRO[plan.language] in (m.text or "")]
                assert len(intros) == 1, plan.user.id
                assert offered(plan.user.last) is not None
            assert len(emulator.timed_out) == 4  # three tries for one, one for the other

            # Asked again, the facilitator's /agora serves whoever was left without one.
            await organiser.send("/agora")
            await emulator.wait_idle(timeout=30)
            assert offered(lost.user.last) is not None
            assert all(offered(plan.user.last) is not None for plan in plans)
    finally:
        unwatch()
    assert emulator.rejected == []
