"""A participant who writes about themselves: their names, @handle, e-mail address, phone
number and link reach nobody else, in anything the bot sends (syntheses, the agora, the
review queue, /share, the export), except the answer column of answers.csv; they are
told once; their own data keeps their words; a place name stays."""

from __future__ import annotations

import csv
import io
import json
import re

from telegram.ext import Application

from bot.settings import Settings
from flows.journey import Journey, Prompt
from tests.conftest import ORGANISER_ID, create_workshop
from tests.helpers import Plan, in_lockstep, plan_onboarding, plan_phase_one, plan_phase_two
from tests.test_agora_e2e import db_rows, trusted, vote_until_caught_up
from tgemu import BotApiEmulator

FIRST, LAST, USERNAME = "Amandine", "Kervella", "akervella"
ABOUT_ME = (
    "Ici Amandine, de l'équipe Kervella (@akervella) : écrivez-moi à amandine.kervella@exemple.fr"
    " ou au 06 12 34 56 78, ou sur www.kervella-conseil.fr. Nous travaillons à Saint-Denis,"
    " à propos de gras."  # words the others' reflections share: a typical answer, quoted
)
REQUEST = "Kervella demande un guichet commun à Saint-Denis, appelez le +33 6 12 34 56 78"
PROPOSAL = "Amandine propose une permanence à Saint-Denis (contact : @amandine_k)"
# What must reach nobody but the author (compared without case).
SECRETS = (
    "amandine",
    "kervella",
    "akervella",
    "exemple.fr",
    "06 12 34 56 78",
    "+33 6",
    "kervella-conseil",
    "@amandine_k",
)


def leaked(text: str) -> list[str]:
    lowered = text.lower()
    return [secret for secret in SECRETS if secret in lowered]


async def test_a_participant_writing_their_own_details_reaches_nobody_with_them(
    room: Application, emulator: BotApiEmulator, settings: Settings, journey: Journey
) -> None:
    database = settings.database
    code = await create_workshop(emulator)
    organiser = emulator.user(ORGANISER_ID)
    await trusted(emulator, code)

    def about_me(prompt: Prompt) -> str:
        return ABOUT_ME

    def request(kind: str, number: int) -> str:
        return REQUEST if kind == "request" else f"Engagement de {FIRST} à Saint-Denis"

    plans = []
    for index in range(12):
        user = emulator.user(5000 + index, first_name=f"Prénom{index}", language_code="fr")
        plan = Plan(user, "fr", journey.categories[index % 4].id)
        if index == 0:  # the author: their names as Telegram gives them with each message
            user.first_name, user.last_name, user.username = FIRST, LAST, USERNAME
        plan_onboarding(plan, journey, code)
        plan_phase_one(plan, journey, write=about_me if index == 0 else None)
        plan_phase_two(plan, journey, write=request if index == 0 else None)
        plans.append(plan)
    await in_lockstep(emulator, plans)
    author = plans[0].user

    # Told once, kindly, although every reflection and statement of theirs was masked.
    told = [m for m in author.messages if (m.text or "").startswith("🔒")]
    assert len(told) == 1 and "[…]" in (told[0].text or "")
    assert not any((m.text or "").startswith("🔒") for p in plans[1:] for m in p.user.messages)

    # Stored: the words as written for the author and the export; masked for the others.
    stored = db_rows(
        database,
        "SELECT a.value, a.shown FROM answers a JOIN participants p ON p.id = a.participant_id"
        " WHERE p.user_id = ? AND a.value = ?",
        author.id,
        ABOUT_ME,
    )
    assert stored and all(shown and not leaked(shown) for _, shown in stored)
    assert "Saint-Denis" in stored[0][1]
    [(text,)] = db_rows(database, "SELECT text FROM statements WHERE written = ?", REQUEST)
    assert text == "[…] demande un guichet commun à Saint-Denis, appelez le […]"

    # The agora, with a proposal of theirs reviewed by a facilitator first.
    await organiser.send("/agora")
    await emulator.wait_idle()
    await vote_until_caught_up(emulator, plans, {})
    await organiser.send(f"/review on {code}")
    await emulator.wait_idle()
    await author.send(PROPOSAL)
    await emulator.wait_idle()
    [(number,)] = db_rows(database, "SELECT number FROM statements WHERE written = ?", PROPOSAL)
    await organiser.send(f"/approve {number}")
    await emulator.wait_idle()
    await vote_until_caught_up(emulator, plans, {})
    await organiser.send("/agora close")
    await emulator.wait_idle(timeout=30)
    for command in ("/synthesis", "/share", "/export"):
        await organiser.send(command)
        await emulator.wait_idle(timeout=30)

    # Nothing sent to anyone else holds a detail of theirs: not a message, an edit, a
    # caption nor a file (answers.csv aside, below).
    checked = 0
    for call in emulator.calls:
        if not call.ok or str(call.params.get("chat_id")) == str(author.id):
            continue
        for key in ("text", "caption"):
            value = call.params.get(key)
            if isinstance(value, str):
                checked += 1
                assert not leaked(value), (call.method, value)
    assert checked > 500
    files = {}
    for user in emulator.users.values():
        if user.id == author.id:
            continue
        for message in user.messages:
            if message.file_name and message.file_bytes is not None:
                files[message.file_name] = message.file_bytes
    assert {"answers.csv", "statements.csv", "synthesis.md"} <= set(files)
    for name, data in files.items():
        if name.endswith((".csv", ".md", ".json")) and name != "answers.csv":
            assert not leaked(data.decode("utf-8-sig")), name
    table = list(csv.DictReader(io.StringIO(files["answers.csv"].decode("utf-8-sig"))))
    for row in table:
        assert not leaked(" ".join(v for k, v in row.items() if k != "answer")), row
    raw = {row["answer"] for row in table}
    assert {ABOUT_ME, REQUEST, PROPOSAL} <= raw  # the author's words, where they are the point

    # What the others read keeps the place: the request in the agora, the synthesis.
    shown_to_others = "\n".join(
        str(call.params.get("text", ""))
        for call in emulator.calls
        if call.ok and str(call.params.get("chat_id")) == str(plans[1].user.id)
    )
    assert re.search(r"\[…\] demande un guichet commun à Saint-Denis", shown_to_others)
    assert "[…] propose une permanence à Saint-Denis" in shown_to_others
    assert "Saint-Denis" in files["statements.csv"].decode("utf-8-sig")

    # Their own data keeps their words.
    await author.send("/mydata")
    await emulator.wait_idle()
    data = json.loads(author.last.file_bytes or b"{}")
    mine = data["participations"][0]
    assert ABOUT_ME in {a["answer"] for a in mine["answers"]}
    assert {REQUEST, PROPOSAL} <= {s["text"] for s in mine["statements"]}
