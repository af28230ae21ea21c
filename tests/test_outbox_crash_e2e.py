"""A broadcast to 200 with the bot killed (SIGKILL) half way and started again: everyone
still receives it, a second copy only for the messages in flight at the kill (at most
SENDS_AT_ONCE), and the final report counts every delivery that may have gone twice."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from bench.broadcast import confirm_broadcast, received
from bot.outbox import SENDS_AT_ONCE
from reports.text import number
from tests.outbox_helpers import (
    BLOCKED,
    CODE,
    EN,
    SIZE,
    TEXT,
    broadcast_setup,
    final_report,
    until,
)


async def test_a_broadcast_survives_a_kill_half_way(tmp_path: Path) -> None:
    # Telegram's round trip (50 ms) is longer than the pace's step (34 ms): some calls
    # are always on their way, as in production.
    async with broadcast_setup(tmp_path, latency=0.05) as setup:
        emulator, organiser = setup.emulator, setup.organiser
        setup.start()
        await emulator.wait_polling()
        await asyncio.sleep(1.2)
        since = len(emulator.calls)
        await confirm_broadcast(organiser, CODE, TEXT)
        await until(lambda: sum(received(emulator, setup.people, since).values()) >= SIZE // 2, 30)
        setup.stop(signal.SIGKILL)
        at_kill = received(emulator, setup.people, since)
        assert SIZE // 2 <= sum(at_kill.values()) < SIZE - len(BLOCKED)  # half way indeed
        in_flight = [row for row in setup.deliveries() if row["status"] == "sending"]
        assert 0 < len(in_flight) <= SENDS_AT_ONCE

        setup.start()
        await until(lambda: final_report(organiser) is not None, 60)
        await asyncio.sleep(1.5)  # a third copy would show by now
        setup.stop()

        copies = received(emulator, setup.people, since)
        reachable = setup.people - BLOCKED
        assert {chat for chat in reachable if copies[chat] == 0} == set()  # nobody missed it
        assert all(copies[chat] == 0 for chat in BLOCKED)
        twice = {chat for chat in reachable if copies[chat] == 2}
        assert all(copies[chat] <= 2 for chat in reachable)
        # A second copy only for what was in flight at the kill.
        assert twice <= {row["user_id"] for row in in_flight}
        assert len(twice) <= SENDS_AT_ONCE

        rows = setup.deliveries()
        doubled = {row["user_id"] for row in rows if row["doubled"] and row["status"] == "sent"}
        assert {row["user_id"] for row in rows if row["doubled"]} == {
            row["user_id"] for row in in_flight
        }
        assert twice <= doubled  # every chat that got two copies is counted
        assert {row["status"] for row in rows} == {"sent", "unreachable"}

        # The one progress message, edited by both runs, ends with the final report.
        report = final_report(organiser)
        assert report is not None
        assert (
            EN("Done: {sent} of {total} sent.").format(
                sent=number(SIZE - len(BLOCKED), "en"), total=number(SIZE, "en")
            )
            in report
        )
        assert EN("{count} unreachable (they blocked the bot).").format(count=5) in report
        twice_line = EN("{count} possibly received twice (in flight when the bot restarted).")
        if doubled:
            assert twice_line.format(count=len(doubled)) in report
        else:
            assert twice_line.split("{count}")[1] not in report
        reports = [m for m in organiser.messages if "📣" in (m.text or "")]
        assert len(reports) == 2  # the preview and the one progress message
        assert setup.errors() == []
        refused = [c for c in emulator.rejected if c.error_code not in (403, 429)]
        assert refused == [], [str(c) for c in refused]


async def test_a_clean_stop_half_way_doubles_nothing(tmp_path: Path) -> None:
    """Stopped the usual way (SIGINT, as systemd or Ctrl-C does) half way: the sends in
    flight are answered and recorded before the bot exits, so that after the restart
    everyone has the broadcast once and nothing counts as possibly received twice."""
    async with broadcast_setup(tmp_path, latency=0.05) as setup:
        emulator, organiser = setup.emulator, setup.organiser
        setup.start()
        await emulator.wait_polling()
        await asyncio.sleep(1.2)
        since = len(emulator.calls)
        await confirm_broadcast(organiser, CODE, TEXT)
        await until(lambda: sum(received(emulator, setup.people, since).values()) >= SIZE // 2, 30)
        setup.stop(signal.SIGINT)
        assert [row for row in setup.deliveries() if row["status"] == "sending"] == []
        assert sum(received(emulator, setup.people, since).values()) < SIZE - len(BLOCKED)

        setup.start()
        await until(lambda: final_report(organiser) is not None, 60)
        await asyncio.sleep(1.5)
        setup.stop()

        copies = received(emulator, setup.people, since)
        assert {chat: n for chat, n in copies.items() if chat not in BLOCKED and n != 1} == {}
        assert not any(row["doubled"] for row in setup.deliveries())
        report = final_report(organiser)
        assert report is not None
        twice_line = EN("{count} possibly received twice (in flight when the bot restarted).")
        assert twice_line.split("{count}")[1] not in report
        assert setup.errors() == []
