"""The review queue's batches without Telegram: at most six statements, a message under
Telegram's limit, buttons under 64 bytes (flows/review.py, bot/views/review.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.keyboards import MAX_CALLBACK_BYTES, parse_review_data, review_data, review_keyboard
from bot.views.review import batch_text, merge_text
from flows.identifying import identifying
from flows.journey import Journey
from flows.review import (
    BATCH_SIZE,
    CANDIDATES_SHOWN,
    Batch,
    ReviewAction,
    alike,
    batches,
    may_merge,
)
from reports.text import MESSAGE_LIMIT, strip_tags, units
from storage.models import Statement, Workshop

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
WORKSHOP = Workshop(1, "c" * 16, "f" * 16, "Atelier <de> la vallée", "coop", 500, NOW, None)


def statement(number: int, text: str = "Ouvrir les salles", **changes: object) -> Statement:
    made = Statement(
        id=number,
        workshop_id=1,
        number=number,
        participant_id=number,
        kind="request",
        source_category="elu",
        target_category="agent",
        question_id="req_agent",
        text=text,
        status="pending",
        created_at=NOW,
    )
    return replace(made, **changes)


def test_batches_hold_six_statements_of_one_workshop_at_most() -> None:
    found = [statement(n) for n in range(1, 15)]
    found += [statement(n, workshop_id=2) for n in range(15, 18)]
    grouped = batches(found)
    assert [len(group) for group in grouped] == [6, 6, 2, 3]
    assert all(len({s.workshop_id for s in group}) == 1 for group in grouped)
    assert [s.number for group in grouped for s in group] == list(range(1, 18))


def test_long_statements_share_a_batch_only_while_it_fits_a_message(journey: Journey) -> None:
    longest = [statement(n, "😀" * 1000 + f" {n}") for n in range(1, 4)]  # 2,000 units each
    assert [len(group) for group in batches(longest)] == [1, 1, 1]
    medium = [statement(n, "Une demande assez longue " * 18) for n in range(1, 10)]
    grouped = batches(medium)
    assert len(grouped) > 1 and all(len(group) <= BATCH_SIZE for group in grouped)
    for group in batches(longest) + grouped:
        flags = {s.id: identifying(s.text) for s in group}
        for language in ("fr", "en"):
            text = batch_text(journey, Batch(WORKSHOP, group, flags), language)
            assert units(strip_tags(text)) <= MESSAGE_LIMIT
            assert "&lt;de&gt;" in text  # the title, escaped
    candidates = [statement(n, "😀" * 1000) for n in range(2, 2 + CANDIDATES_SHOWN)]
    for language in ("fr", "en"):
        choosing = merge_text(journey, longest[0], candidates, language)
        assert units(strip_tags(choosing)) <= MESSAGE_LIMIT


def test_buttons_stay_under_64_bytes_and_read_back() -> None:
    big = 10**12
    data = review_data(big, ReviewAction.INTO, big + 1)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    button = parse_review_data(data)
    assert button is not None and (button.statement_id, button.into_id) == (big, big + 1)
    for action in (ReviewAction.APPROVE, ReviewAction.REJECT, ReviewAction.MERGE):
        parsed = parse_review_data(review_data(7, action))
        assert parsed is not None and parsed.action is action
    for forged in ("rv:7", "rv:x:a", "rv:7:z", "rv:7:i", "rv:7:a:3", "rv:7:i:x", "mod:7:a"):
        assert parse_review_data(forged) is None
    keyboard = review_keyboard([statement(n) for n in range(1, 7)], "en")
    assert keyboard is not None
    rows = keyboard.inline_keyboard
    assert len(rows) == 7 and rows[-1][0].text == "✅ Approve all"
    assert review_keyboard([], "en") is None
    alone = review_keyboard([statement(1)], "en")  # no "approve all" for one
    assert alone is not None and len(alone.inline_keyboard) == 1


def test_a_statement_merges_only_into_one_alike_not_yet_put_to_everyone() -> None:
    merged = statement(1)
    assert may_merge(merged, statement(2, status="approved"))
    assert not may_merge(merged, statement(1))
    assert not may_merge(merged, statement(2, target_category="etat"))
    assert not may_merge(merged, statement(2, kind="commitment", target_category=None))
    assert not may_merge(merged, statement(2, source_category="agent"))
    assert not may_merge(merged, statement(2, workshop_id=2))
    assert not may_merge(merged, statement(2, status="rejected"))
    assert not may_merge(merged, statement(2, status="approved", in_agora_at=NOW))
    assert alike(merged, statement(2, status="rejected"))  # decided meanwhile, not forged
