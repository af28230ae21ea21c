"""The report for elected officials end to end: /quotes answers with one message, the
questions with quotes to choose from, edited in place to a question's quotes a page at a
time (masked); a facilitator chooses one (that page re-rendered, the choice audited),
/report sends a .docx with exactly that quote; before any answer it says so; anyone else
is refused and changes nothing; a forged or stale button gets a clear answer; with forty
participants it is still one message, paged; `coopbot report` writes the same document
to a folder."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import docx
import pytest
from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey, Prompt
from tests import stored
from tests.conftest import ORGANISER_ID, create_workshop, facilitator_code
from tests.helpers import Plan, in_lockstep, plan_onboarding, plan_phase_one
from tgemu import BotApiEmulator
from tgemu.models import SentMessage

SECRET = "Camille Dupont, écrivez-moi : camille.dupont@example.org"
REFUSED = "Seule l'équipe d'animation"


def docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


def chosen_rows(database: Path) -> list[tuple[int, str]]:
    with stored.connect(database) as conn:
        return conn.execute("SELECT participant_id, question_id FROM chosen_quotes").fetchall()


def an_answer_id(database: Path) -> int:
    with stored.connect(database) as conn:
        return int(conn.execute("SELECT MIN(rowid) FROM answers").fetchone()[0])


async def three_answer_phase_one(
    emulator: BotApiEmulator, journey: Journey, code: str
) -> list[Plan]:
    """Three officers answer phase 1; the first writes their own name and e-mail address
    into their first reflection."""
    plans = []
    for index in range(3):
        user = emulator.user(
            7600 + index, first_name="Camille" if index == 0 else f"P{index}", language_code="fr"
        )
        user.last_name = "Dupont" if index == 0 else None
        plan = Plan(user, "fr", "agent")
        plan_onboarding(plan, journey, code)

        def write(prompt: Prompt, index: int = index) -> str:
            if index == 0 and prompt.id == "m1_intention":
                return SECRET
            return f"Réponse {index} à {prompt.id} : la confiance d'abord"

        plan_phase_one(plan, journey, write=write)
        plans.append(plan)
    await in_lockstep(emulator, plans)
    return plans


def listed(message: SentMessage | None) -> dict[int, str]:
    """The quotes a /quotes page lists, by their number."""
    found = {}
    for line in ((message.text or "") if message else "").splitlines():
        if match := re.match(r"^[⬜✅] (\d+)\. (.*)$", line):
            found[int(match[1])] = match[2]
    return found


def audit_of(database: Path) -> list[tuple[str, str]]:
    with stored.connect(database) as conn:
        return conn.execute(
            "SELECT action, detail FROM audit WHERE action LIKE 'quote_%' ORDER BY id"
        ).fetchall()


def answer_id_of(database: Path, user_id: int, question_id: str) -> int:
    with stored.connect(database) as conn:
        return int(
            conn.execute(
                "SELECT a.rowid FROM answers a JOIN participants p ON p.id = a.participant_id"
                " WHERE p.user_id = ? AND a.question_id = ?",
                (user_id, question_id),
            ).fetchone()[0]
        )


def joined_users(database: Path) -> list[int]:
    """The participants' user ids in the order they joined, which is the order of the
    quotes (people who join at once join in any order)."""
    with stored.connect(database) as conn:
        return [user for (user,) in conn.execute("SELECT user_id FROM participants ORDER BY id")]


def workshop_id_of(database: Path, code: str) -> int:
    with stored.connect(database) as conn:
        return int(conn.execute("SELECT id FROM workshops WHERE code = ?", (code,)).fetchone()[0])


def within_limits(message: SentMessage, user_ids: list[int]) -> None:
    """Under Telegram's length, each button's data under 64 bytes, naming no participant."""
    assert len((message.text or "").encode("utf-16-le")) // 2 <= 4096
    data = [str(d) for row in message.buttons for _, d in row]
    assert data and all(len(d.encode()) <= 64 and d.startswith("qt:") for d in data)
    named = {part for d in data for part in d.split(":")}
    assert not named & {str(user_id) for user_id in user_ids}


async def test_quotes_are_chosen_and_the_report_holds_exactly_them(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    plans = await three_answer_phase_one(emulator, journey, code)
    texts = [p for p in journey.live_prompts() if p.kind == "text"]
    users = [plan.user.id for plan in plans]

    before = len(organiser.messages)
    await organiser.send("/citations")
    await emulator.wait_idle()
    # One message: how to choose, and each question answered by three, with its counts.
    assert len(organiser.messages) == before + 1
    index = organiser.last
    within_limits(index, users)
    assert "Choisissez une question pour voir ses citations" in (index.text or "")
    assert "Citations choisies\u00a0: 0." in (index.text or "")
    assert len(index.labels) == len(texts)
    assert all(label.endswith(" (3)") for label in index.labels)
    assert "3 citations, 0 choisie" in (index.text or "")

    # A question's quotes, in place of the list: masked, the author's names and address gone.
    await organiser.press(index.labels[0], message=index)
    await emulator.wait_idle()
    page = organiser.bot_message(index.message_id)
    assert page is not None and len(organiser.messages) == before + 1
    within_limits(page, users)
    candidates = listed(page)
    assert sorted(candidates) == [1, 2, 3]
    everything = page.text or ""
    assert "Camille" not in everything and "Dupont" not in everything
    assert "example.org" not in everything
    assert "Page 1 sur 1" in everything
    assert "◀" not in page.labels and "▶" not in page.labels and "⬅ Questions" in page.labels

    # Choosing one: that page edited in place, its button and line marked, audited.
    number = 2
    chosen_text = candidates[number]
    await organiser.press(f"⬜ {number}", message=page)
    await emulator.wait_idle()
    assert organiser.callback_answers[-1]["text"] == (
        "Ajoutée au relevé. Citations choisies\u00a0: 1."
    )
    edited = organiser.bot_message(page.message_id)
    assert edited is not None and f"✅ {number}" in edited.labels
    assert f"✅ {number}. {chosen_text}" in (edited.text or "")
    assert "3 citations, 1 choisie" in (edited.text or "")
    assert len(organiser.messages) == before + 1  # edited, nothing sent
    assert len(chosen_rows(settings.database)) == 1
    # The second quote listed is the second to join's answer (they joined at once).
    joined = joined_users(settings.database)
    chosen_id = answer_id_of(settings.database, joined[number - 1], texts[0].id)
    assert audit_of(settings.database) == [("quote_chosen", str(chosen_id))]
    # A double tap on the old button changes nothing (and edits nothing: the room fixture
    # fails on any call Telegram would refuse, such as an edit to the same).
    await organiser.press(f"⬜ {number}", message=page)
    await emulator.wait_idle()
    assert len(chosen_rows(settings.database)) == 1
    assert len(audit_of(settings.database)) == 1

    # Choosing another, then taking it back.
    await organiser.press("⬜ 1")
    await emulator.wait_idle()
    assert organiser.callback_answers[-1]["text"].endswith("Citations choisies\u00a0: 2.")
    await organiser.press("✅ 1")
    await emulator.wait_idle()
    assert organiser.callback_answers[-1]["text"] == (
        "Retirée du relevé. Citations choisies\u00a0: 1."
    )
    assert len(chosen_rows(settings.database)) == 1
    first_id = answer_id_of(settings.database, joined[0], texts[0].id)
    assert audit_of(settings.database) == [
        ("quote_chosen", str(chosen_id)),
        ("quote_chosen", str(first_id)),
        ("quote_dropped", str(first_id)),
    ]

    # Back to the questions: the same message, the count updated.
    await organiser.press("⬅ Questions")
    await emulator.wait_idle()
    back = organiser.bot_message(index.message_id)
    assert back is not None and len(organiser.messages) == before + 1
    assert "Citations choisies\u00a0: 1." in (back.text or "")
    assert back.labels[0].endswith(" (3 · ✅ 1)")
    assert all(label.endswith(" (3)") for label in back.labels[1:])

    # /audit shows who chose what, by the answer's id.
    await organiser.send(f"/audit {code}")
    await emulator.wait_idle()
    shown = organiser.last.text or ""
    assert f"réponse {chosen_id} choisie comme citation du relevé" in shown
    assert f"réponse {first_id} retirée des citations du relevé" in shown

    # The report: a .docx with exactly the chosen quote.
    before = len(organiser.messages)
    await organiser.send("/releve")
    await emulator.wait_idle()
    documents = [m for m in organiser.messages[before:] if m.kind == "document"]
    assert len(documents) == 1
    # What it is, of which workshop, of which day: two reports side by side differ.
    assert re.fullmatch(
        r"releve-de-conclusions-atelier-de-la-vallee-\d{4}-\d{2}-\d{2}\.docx",
        documents[0].file_name or "",
    )
    assert "Citations choisies avec /citations\u00a0: 1." in (documents[0].caption or "")
    report = docx_text(documents[0].file_bytes or b"")
    assert report.startswith("Relevé de conclusions · Atelier de la vallée")
    assert f"«\u202f{chosen_text}\u202f»" in report
    assert [t for t in candidates.values() if t in report] == [chosen_text]
    assert "Camille" not in report and "example.org" not in report
    assert "Les agents de collectivité\u00a0: 3 sur 3 ont répondu" in report

    # Its author erases their data: the choice goes with their answer.
    # The second to join wrote it (they joined at once: in any order).
    author = next(plan.user for plan in plans if plan.user.id == joined[number - 1])
    # Camille's own reads masked (her names and address gone): she may have joined second.
    assert chosen_text.startswith("[…]" if author.id == 7600 else f"Réponse {author.id - 7600} ")
    await author.send("/oublier")
    await emulator.wait_idle()
    await author.press("Tout effacer")
    await emulator.wait_idle()
    assert chosen_rows(settings.database) == []
    before = len(organiser.messages)
    await organiser.send("/report")
    await emulator.wait_idle()
    document = next(m for m in organiser.messages[before:] if m.kind == "document")
    assert chosen_text not in docx_text(document.file_bytes or b"")
    # Two answers left to each question: under the threshold, nothing to quote, and a
    # button of the old list says so.
    await organiser.press(back.labels[0], message=back)
    await emulator.wait_idle()
    assert organiser.callback_answers[-1]["text"] == (
        "Cette question n'a plus de citation à choisir."
    )
    emptied = organiser.bot_message(index.message_id)
    assert emptied is not None and "n'a encore aucune réponse à citer" in (emptied.text or "")
    assert emptied.buttons == []


async def test_the_audit_of_quotes_reads_in_english(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    await three_answer_phase_one(emulator, journey, code)
    await organiser.send("/language")
    await emulator.wait_idle()
    await organiser.press("English")
    await emulator.wait_idle()
    await organiser.send("/quotes")
    await emulator.wait_idle()
    await organiser.press(organiser.last.labels[0])
    await emulator.wait_idle()
    await organiser.press("⬜ 3")
    await emulator.wait_idle()
    assert organiser.callback_answers[-1]["text"] == "Added to the report. Quotes chosen: 1."
    await organiser.press("✅ 3")
    await emulator.wait_idle()
    chosen = answer_id_of(settings.database, joined_users(settings.database)[2], "m1_intention")
    await organiser.send(f"/audit {code}")
    await emulator.wait_idle()
    shown = organiser.last.text or ""
    assert f"took answer {chosen} out of the report's quotes" in shown
    assert f"chose answer {chosen} as a quote for the report" in shown


async def test_the_report_before_any_answer_says_so(
    room: Application, emulator: BotApiEmulator
) -> None:
    await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    for command, said in (
        ("/report", "Personne n'a encore répondu dans «\u202fAtelier de la vallée\u202f»"),
        ("/quotes", "n'a encore aucune réponse à citer"),
    ):
        before = len(organiser.messages)
        await organiser.send(command)
        await emulator.wait_idle()
        answer = organiser.messages[before:]
        assert len(answer) == 1 and said in (answer[0].text or ""), command
        assert answer[0].kind == "text"


async def test_anyone_else_is_refused_and_changes_nothing(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    plans = await three_answer_phase_one(emulator, journey, code)
    participant = plans[1].user
    await create_workshop(emulator, "Autre atelier")
    other = emulator.user(7700, language_code="fr")
    await other.send(f"/start {facilitator_code(organiser)}")
    await emulator.wait_idle()
    for user in (participant, other):
        for command in (f"/report {code}", f"/quotes {code}", f"/releve {code}"):
            before = len(user.messages)
            await user.send(command)
            await emulator.wait_idle()
            assert REFUSED in (user.last.text or ""), (user.id, command)
            assert len(user.messages) == before + 1
            assert not any(m.kind == "document" for m in user.messages[before:])
    # A forged button naming a real answer of that workshop, or a page or the list of its
    # questions: refused, nothing chosen, nothing shown.
    answer_id = an_answer_id(settings.database)
    workshop_id = workshop_id_of(settings.database, code)
    forged = (f"qt:c:{answer_id}:1:0", f"qt:p:{workshop_id}:0:m1_intention:", f"qt:w:{workshop_id}")
    for user in (participant, other):
        for data in forged:
            before = len(user.messages)
            await user.press_data(data)
            await emulator.wait_idle()
            assert user.callback_answers[-1]["text"] == (
                "Seule l'équipe d'animation de cet atelier peut faire cela."
            ), (user.id, data)
            assert len(user.messages) == before
            assert not any("Citations pour le relevé" in m.shown for m in user.messages)
    # Naming no answer, from someone who facilitates nothing: the same refusal, which
    # says nothing of which answers exist.
    await participant.press_data("qt:c:999999:1:0")
    await emulator.wait_idle()
    assert participant.callback_answers[-1]["text"].startswith("Seule l'équipe d'animation")
    assert chosen_rows(settings.database) == []
    # The organiser's own list, then buttons unreadable, of the old format, naming no
    # answer or no question: said so, nothing chosen either.
    await organiser.send(f"/quotes {code}")
    await emulator.wait_idle()
    shown = organiser.last
    assert shown.labels
    for data, said in (
        ("qt:x:1", "n'est plus valable"),
        (f"qt:{answer_id}:1", "n'est plus valable"),
        ("qt:c:999999:1:0", "ne peut plus être"),
        (f"qt:p:{workshop_id}:0:nothing:", "n'a plus de citation à choisir"),
    ):
        await organiser.press_data(data, message=shown)
        await emulator.wait_idle()
        assert said in organiser.callback_answers[-1]["text"], data
    assert chosen_rows(settings.database) == []
    assert organiser.bot_message(shown.message_id) == shown  # the list, as it was
    # An answer that may not be quoted (a scale's): no choice made.
    with stored.connect(settings.database) as conn:
        scale = conn.execute(
            "SELECT rowid FROM answers WHERE question_id = 'm1_present'"
        ).fetchone()
    await organiser.press_data(f"qt:c:{scale[0]}:1:0", message=shown)
    await emulator.wait_idle()
    assert "ne peut plus être citée" in organiser.callback_answers[-1]["text"]
    assert chosen_rows(settings.database) == []
    assert audit_of(settings.database) == []


async def test_forty_participants_are_one_message_paged(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    """Forty participants: 280 candidate quotes, yet /quotes is one message; a question's
    quotes come eight to a page, and a quote chosen on the second page is counted."""
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    plans = []
    for index in range(40):
        user = emulator.user(8100 + index, first_name=f"Prénom{index}", language_code="fr")
        plan = Plan(user, "fr", journey.categories[index % 4].id)
        plan_onboarding(plan, journey, code)

        def write(prompt: Prompt, index: int = index) -> str:
            return f"Réponse n°{index} à {prompt.id} : " + "la confiance d'abord, " * 12

        plan_phase_one(plan, journey, write=write)
        plans.append(plan)
    await in_lockstep(emulator, plans)
    texts = [p for p in journey.live_prompts() if p.kind == "text"]
    users = [plan.user.id for plan in plans]

    before = len(organiser.messages)
    await organiser.send("/citations")
    await emulator.wait_idle()
    assert len(organiser.messages) == before + 1
    listing = organiser.last
    message_id = listing.message_id
    within_limits(listing, users)
    assert len(listing.labels) == len(texts)
    assert all(label.endswith(" (40)") for label in listing.labels)

    def shown() -> SentMessage:
        found = organiser.bot_message(message_id)
        assert found is not None
        within_limits(found, users)
        return found

    await organiser.press(listing.labels[0])
    await emulator.wait_idle()
    first = shown()
    assert sorted(listed(first)) == list(range(1, 9))
    assert "Page 1 sur 5" in (first.text or "") and "40 citations, 0 choisie" in (first.text or "")
    assert "◀" not in first.labels and "▶" in first.labels

    await organiser.press("▶")
    await emulator.wait_idle()
    second = shown()
    quotes = listed(second)
    assert sorted(quotes) == list(range(9, 17))
    assert "Page 2 sur 5" in (second.text or "")
    assert "◀" in second.labels and "▶" in second.labels
    # In the order people joined (they all joined at once): the tenth quote is the tenth
    # to join's.
    joined = joined_users(settings.database)
    tenth = joined[9] - 8100
    assert quotes[10].startswith(f"Réponse n°{tenth} à m1_intention")

    await organiser.press("⬜ 10")
    await emulator.wait_idle()
    assert organiser.callback_answers[-1]["text"] == (
        "Ajoutée au relevé. Citations choisies\u00a0: 1."
    )
    after = shown()
    assert "Page 2 sur 5" in (after.text or "") and "40 citations, 1 choisie" in (after.text or "")
    assert "✅ 10" in after.labels and f"✅ 10. {quotes[10]}" in (after.text or "")
    assert [question for _, question in chosen_rows(settings.database)] == ["m1_intention"]
    chosen_id = answer_id_of(settings.database, joined[9], "m1_intention")
    assert audit_of(settings.database) == [("quote_chosen", str(chosen_id))]

    # The last page, then back to the questions: counted there too.
    for _ in range(3):
        await organiser.press("▶")
        await emulator.wait_idle()
    last = shown()
    assert sorted(listed(last)) == list(range(33, 41)) and "Page 5 sur 5" in (last.text or "")
    assert "▶" not in last.labels
    await organiser.press("⬅ Questions")
    await emulator.wait_idle()
    back = shown()
    assert "Citations choisies\u00a0: 1." in (back.text or "")
    assert back.labels[0].endswith(" (40 · ✅ 1)")
    assert len(organiser.messages) == before + 1  # all along, the one message

    before = len(organiser.messages)
    await organiser.send("/releve")
    await emulator.wait_idle()
    document = next(m for m in organiser.messages[before:] if m.kind == "document")
    report = docx_text(document.file_bytes or b"")
    assert quotes[10].rstrip("…") in report
    assert f"Réponse n°{joined[10] - 8100} à m1_intention" not in report


async def test_the_report_from_the_command_line(
    room: Application,
    emulator: BotApiEmulator,
    settings: Settings,
    journey: Journey,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = await create_workshop(emulator)
    monkeypatch.setenv("COOPBOT_DB", str(settings.database))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    from bot.cli import main

    out = tmp_path / "report"
    # Nothing answered yet: said, nothing written.
    assert await asyncio.to_thread(main, ["report", code, "--out", str(out)]) == 2
    assert "nobody has answered" in capsys.readouterr().err and not out.exists()
    await three_answer_phase_one(emulator, journey, code)
    assert (
        await asyncio.to_thread(main, ["report", code, "--out", str(out), "--language", "en"]) == 0
    )
    path = Path(capsys.readouterr().out.strip())
    assert path.parent == out
    assert re.fullmatch(r"record-of-conclusions-atelier-de-la-vallee-[\d-]{10}\.docx", path.name)
    text = docx_text(await asyncio.to_thread(path.read_bytes))
    assert text.startswith("Record of conclusions · Atelier de la vallée")
    assert "Quotes" not in text.splitlines()  # none chosen
    assert await asyncio.to_thread(main, ["report", "Zz" * 8, "--out", str(out)]) == 2
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("x")
    assert await asyncio.to_thread(main, ["report", code, "--out", str(not_a_folder)]) == 2
