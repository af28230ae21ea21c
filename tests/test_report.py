"""The synthesis as messages and as a Markdown document: under Telegram's length limit,
valid HTML with every participant's text escaped, filtered by phase, and the share for
participants without quotes."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest

from flows.engine import OTHER_SUFFIX
from flows.export import (
    COLUMNS,
    PHASE_ORDER,
    RESOLUTION_COLUMNS,
    STATEMENT_COLUMNS,
    pseudonym,
)
from flows.facilitation import Report
from flows.journey import Journey
from flows.journey_file import default_journey
from flows.kinds import Phase
from flows.synthesis import Synthesis, TextSummary, synthesise
from reports.document import summarised
from reports.files import export_files
from reports.markdown import markdown_report
from reports.messages import share_messages, summary_lines, synthesis_messages
from reports.text import messages_of, plain
from storage.exports import WorkshopRows
from storage.models import Answer, Participant, Resolution, Vote, Workshop
from tests.synthesis_data import (
    INTENTIONS_EN,
    INTENTIONS_FR,
    SCALE,
    SIZES,
    T0,
    authors_agree,
    participant,
    statement,
)

ALLOWED_TAGS = {"b", "i", "u", "code", "pre", "blockquote"}
HOSTILE = "<b>bold</b> & <script>alert(1)</script> la confiance d'abord"
LONG = ("La confiance 🤝 & les contraintes <b> " * 100)[:2999] + "!"  # 🤝 counts twice
LONG_WORD = "x" * 3000  # one "word" of 3,000 letters, in two commitments: a theme
OWN_ROLE = "Les élus portent la vision du territoire et la confiance des habitants"
OTHER_OBSTACLE = "Des calendriers électoraux trop courts pour la confiance"
REQUESTS = [
    "Simplifier les dossiers de subvention",
    "Des dossiers de subvention plus simples",
    "Payer les subventions plus vite",
]
COMMITMENTS = [
    "Ouvrir nos réunions techniques aux associations",
    "Inviter les associations aux réunions de service",
    "Présenter nos réunions techniques aux associations du quartier",
]
RESOLUTION = "Un comité commun élus-associations, réuni chaque trimestre"
CARRIER = "Camille <Martin> & co"  # a name the facilitator typed


def resolutions(*, hostile: bool = False) -> list[Resolution]:
    """Two resolutions the room recorded: one from statement 1, carried by the officers
    and due on a date; one reformulated, carried by a name the facilitator typed."""
    text = HOSTILE if hostile else RESOLUTION
    due = date(2027, 3, 15)
    return [
        Resolution(1, 1, 1, 1, text, "agent", None, due, 500, T0, T0),
        Resolution(2, 1, 2, 2, "Ouvrir les réunions", None, CARRIER, None, 500, T0, T0),
    ]


def build(journey: Journey, *, hostile: bool = False) -> Synthesis:
    """tests/test_synthesis.py's 40 participants, with phase 2 answers from enough people
    for every section to show; `hostile` adds answers and statements made of HTML, and
    texts of 3,000 characters."""
    people: list[Participant] = []
    for category, size in SIZES.items():
        for _ in range(size):
            people.append(participant(len(people) + 1, category))
    people[26] = participant(27, "socio_eco", state="m3_relation")
    people[27] = participant(28, "socio_eco", state="peers_wait")
    everyone = [
        *people,
        participant(41, "", state="consent", consented=False),
        participant(42, "", state="consent", consented=False),
    ]
    answers: list[Answer] = []
    index = dict.fromkeys(SIZES, 0)
    for p in people:
        category = p.category or ""
        answers.append(Answer(p.id, "m1_present", str(SCALE[category][index[category]]), T0, None))
        index[category] += 1
    intentions = [*INTENTIONS_FR] + ([HOSTILE, LONG] if hostile else [])
    for text, p in zip(intentions, people[:12], strict=False):
        answers.append(Answer(p.id, "m1_intention", text, T0, None))
    for text, p in zip(INTENTIONS_EN, people[12:14], strict=True):
        answers.append(Answer(p.id, "m1_intention", text, T0, None))
    for p in people[:12]:
        answers.append(Answer(p.id, "m3_relation", "partnership", T0, None))
        answers.append(Answer(p.id, "p2_role", LONG if hostile else OWN_ROLE, T0, None))
        answers.append(
            Answer(p.id, "rel_agent", "partnership" if p.id % 3 else "service", T0, None)
        )
        answers.append(Answer(p.id, "obs_agent", "procurement,knowledge", T0, None))
        answers.append(Answer(p.id, "lev_agent", "trust_time,knowing,comfort", T0, None))
        answers.append(
            Answer(
                p.id,
                f"obs_agent{OTHER_SUFFIX}",
                HOSTILE if hostile and p.id == 1 else OTHER_OBSTACLE,
                T0,
                None,
            )
        )
    for p in people[14:20]:
        answers.append(Answer(p.id, "rel_elu", "distant", T0, None))
    elu, agent, actors, officers = people[0], people[12], people[24:27], people[12:15]
    statements = [
        statement(1, elu, "request", HOSTILE if hostile else "Nous associer dès le début", "agent"),
        statement(2, agent, "commitment", "Ouvrir nos réunions techniques", None),
        statement(3, elu, "request", "Des marchés réservés pour l'ESS", "etat"),
    ]
    for number, (author, text) in enumerate(zip(actors, REQUESTS, strict=True), start=10):
        statements.append(statement(number, author, "request", text, "elu"))
    commitments = [LONG_WORD, LONG_WORD, LONG] if hostile else COMMITMENTS
    for number, (author, text) in enumerate(zip(officers, commitments, strict=True), start=20):
        statements.append(statement(number, author, "commitment", text, None))
    votes: list[Vote] = authors_agree(statements)  # writing a statement counts as agreeing
    for p in people:
        if p.id != elu.id:
            votes.append(Vote(1, p.id, "agree", T0 + timedelta(minutes=1)))
        if p.id != agent.id:
            votes.append(Vote(2, p.id, "disagree" if p.category == "elu" else "agree", T0))
        if p.id != elu.id:
            votes.append(Vote(3, p.id, "pass" if p.id % 4 else "agree", T0))
        if hostile and p.id != officers[2].id:  # the 3,000 characters: a consensus
            votes.append(Vote(22, p.id, "agree", T0))
    return synthesise(
        journey,
        everyone,
        answers,
        statements,
        votes,
        resolutions=resolutions(hostile=hostile),
        min_group=3,
    )


@pytest.fixture(scope="module")
def journey() -> Journey:
    return default_journey()


@pytest.fixture(scope="module")
def synthesis(journey: Journey) -> Synthesis:
    return build(journey)


@pytest.fixture(scope="module")
def hostile(journey: Journey) -> Synthesis:
    return build(journey, hostile=True)


class _TagChecker(HTMLParser):
    """Telegram's HTML: only a few tags, each closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS or attrs:
            self.problems.append(f"<{tag}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"</{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"<{tag}/>")


def assert_telegram_html(messages: list[str]) -> None:
    assert messages and all(messages)
    for message in messages:
        assert len(message.encode("utf-16-le")) // 2 <= 4096
        checker = _TagChecker()
        checker.feed(message)
        checker.close()
        assert checker.problems == [] and checker.open == [], message[:200]
        assert "<script>" not in message


def all_messages(journey: Journey, synthesis: Synthesis, language: str) -> list[str]:
    return [
        *synthesis_messages(journey, synthesis, language),
        *(
            message
            for phase in Phase
            for message in synthesis_messages(journey, synthesis, language, phase=phase)
        ),
        *share_messages(journey, synthesis, language),
    ]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_messages_are_valid_telegram_html(
    journey: Journey, synthesis: Synthesis, language: str
) -> None:
    assert_telegram_html(all_messages(journey, synthesis, language))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_participants_html_and_long_texts_are_escaped_and_cut(
    journey: Journey, hostile: Synthesis, language: str
) -> None:
    # The hostile texts are among the quotes and the statements shown.
    assert HOSTILE in hostile.others["obs"].quotes
    assert LONG in hostile.own["p2_role"]["elu"].quotes
    assert {r.statement.text for r in hostile.agreed} == {HOSTILE, LONG}
    assert hostile.resolutions[0].resolution.text == HOSTILE
    messages = all_messages(journey, hostile, language)
    assert_telegram_html(messages)
    text = "\n".join(messages)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;b&gt;bold&lt;/b&gt; &amp;" in text
    assert LONG[:200] not in text  # escaped and cut
    assert "x" * 300 not in text and f"{'x' * 39}… (2)" in text  # a long theme is cut too
    assert len(synthesis_messages(journey, hostile, language)) > 1


def test_the_synthesis_says_what_the_threshold_left_out(
    journey: Journey, synthesis: Synthesis
) -> None:
    for phase in (None, *Phase):
        first = synthesis_messages(journey, synthesis, "en", phase=phase)[0]
        state = plain(journey.categories[-1].group, "en")  # the State's, two of them
        assert f"Groups under 3 respondents are not shown on their own: {state} (left out)." in (
            first
        )


def test_phase_one(journey: Journey, synthesis: Synthesis) -> None:
    text = "\n".join(synthesis_messages(journey, synthesis, "en", phase="1"))
    assert "Joined: <b>42</b>" in text and "Finished: <b>38</b>" in text
    assert "Moment 1 · Arrival" in text or "Moment 1 · " in text
    assert (
        "Socio-economic and ESS actors: 7 of 14 answered 4 or 5; answers given: 2 (7) · 5 (7)"
    ) in text
    assert "confiance (4)" in text and "trust (2)" in text
    assert "<blockquote>" in text and "camille.martin" not in text  # anonymised quotes
    assert "Phase 2" not in text and "The agora" not in text
    french = "\n".join(synthesis_messages(journey, synthesis, "fr", phase="1"))
    assert "Les élus\u00a0: 12 sur 12 ont répondu 4 ou 5\u202f; réponses données\u00a0: " in french


def test_phase_two(journey: Journey, synthesis: Synthesis) -> None:
    text = "\n".join(synthesis_messages(journey, synthesis, "en", phase="2"))
    assert (
        "Elected officials → local-authority officers: mostly Partnership: we look for "
        "consensus (8 of 12)" in text
    )
    assert "Local-authority officers → elected officials: mostly Distant" in text
    assert "Public procurement rules (12) · We don&#x27;t know each other well (12)" in text
    assert OWN_ROLE in text  # the own-category quotes
    assert "elected officials play" in text  # the question, with {own} filled in
    assert "Socio-economic and ESS actors → elected officials" in text  # 3 authors of requests
    assert "3 requests" in text and "4 commitments" in text
    assert "calendriers" in text  # the typed "other" obstacles
    assert "Joined:" not in text and "The agora" not in text
    with pytest.raises(ValueError):
        synthesis_messages(journey, synthesis, "en", phase="3")


def test_agora(journey: Journey, synthesis: Synthesis) -> None:
    text = "\n".join(synthesis_messages(journey, synthesis, "en", phase="agora"))
    sections = ("Resolutions", "Consensus statements", "Divisive statements", "Uncertain")
    assert [text.index(f"<b>{section}") for section in sections] == sorted(
        text.index(f"<b>{section}") for section in sections
    )
    assert "Proposed resolutions" not in text  # consensus statements are no resolutions
    assert "Nous associer dès le début" in text
    assert "All: 38 of 38 agree, 0 disagree, 0 pass" in text  # its author's agreement counts
    assert "Elected officials: 0 of 12 agree, 12 disagree, 0 pass" in text  # 2, divisive
    assert "consensus: " not in text.lower()  # ranked by it, but no score is shown
    assert "only the groups of at least 3 voters count" in text
    assert "Joined:" not in text and "Themes:" not in text


def test_the_resolutions_recorded(journey: Journey, synthesis: Synthesis) -> None:
    english = "\n".join(synthesis_messages(journey, synthesis, "en", phase="agora"))
    assert f"<b>1.</b> “{RESOLUTION}”" in english
    assert "Carried by: local-authority officers · Due: March 15, 2027 · From statement 1" in (
        english
    )
    assert "Carried by: Camille &lt;Martin&gt; &amp; co · From statement 2" in english
    french = "\n".join(synthesis_messages(journey, synthesis, "fr", phase="agora"))
    assert "15 mars 2027" in french and "les agents de collectivité" in french
    shared = "\n".join(share_messages(journey, synthesis, "en"))
    assert RESOLUTION in shared and "March 15, 2027" in shared
    assert shared.index("Resolutions") < shared.index("Consensus statements")
    markdown = markdown_report(journey, synthesis, "en")
    assert "| No. | Resolution | Carried by | Due | Statement |" in markdown
    assert f"| 1 | {RESOLUTION} | local-authority officers | March 15, 2027 | 1 |" in markdown
    assert "| 2 | Ouvrir les réunions | Camille \\<Martin\\> & co | — | 2 |" in markdown
    assert markdown.index("### Resolutions") < markdown.index("### Consensus statements")


def test_no_resolution_yet(journey: Journey) -> None:
    empty = synthesise(journey, [], [], [], [], min_group=3)
    text = "\n".join(synthesis_messages(journey, empty, "en", phase="agora"))
    assert "No resolution was recorded." in text
    assert "No resolution was recorded." in markdown_report(journey, empty, "en")


def test_share_has_no_quote_but_the_consensus_statements(
    journey: Journey, synthesis: Synthesis
) -> None:
    messages = share_messages(journey, synthesis, "en")
    assert_telegram_html(messages)
    text = "\n".join(messages)
    assert "Nous associer dès le début" in text  # the consensus statement
    assert "Joined: 42" in text
    answers = [*INTENTIONS_FR, *INTENTIONS_EN, OWN_ROLE, OTHER_OBSTACLE, *REQUESTS, *COMMITMENTS]
    for answer in answers:
        assert answer not in text
    assert "<blockquote>" not in text
    assert "Local-authority officers: Themes: " in text.replace("<b>", "").replace("</b>", "")
    assert "Elected officials 12" not in text  # totals only, not per group


def test_the_markdown_document(journey: Journey, synthesis: Synthesis, hostile: Synthesis) -> None:
    markdown = markdown_report(journey, synthesis, "en")
    lines = markdown.splitlines()
    assert "| Stage | All | Elected officials | Local-authority officers | " in markdown
    assert any(line.startswith("| No. | Kind | From → to | Statement | Agree |") for line in lines)
    assert "| Joined | 42 | 12 | 12 | 14 |" in markdown
    assert "Question | Group | Answers | Answered 4 or 5 | 1 | 2 | 3 | 4 | 5 |" in markdown
    assert (
        "| Elected officials | — | mostly Partnership: we look for consensus (8 of 12) |"
        in markdown
    )
    assert "Elected officials agree" in markdown and "| 0 of 12 |" in markdown
    assert f"{plain(journey.categories[-1].group, 'en')} (left out)" in markdown
    # Every row of a table has as many cells as its header.
    tables: list[list[str]] = [[]]
    for line in lines:
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    for table in filter(None, tables):
        widths = {line.replace("\\|", "").count("|") for line in table}
        assert len(widths) == 1, table[0]
    odd = markdown_report(journey, hostile, "fr")
    assert "<script>" not in odd and "\\<script\\>" in odd
    assert LONG_WORD in odd  # nothing is cut in a document
    for line in odd.splitlines():
        if line.startswith("|"):
            assert line.replace("\\|", "").count("|") == lines_width(odd, line)


def lines_width(markdown: str, row: str) -> int:
    """The number of separators in the header of the table that holds `row`."""
    lines = markdown.splitlines()
    position = lines.index(row)
    while position > 0 and lines[position - 1].startswith("|"):
        position -= 1
    return lines[position].replace("\\|", "").count("|")


def test_a_paragraph_longer_than_a_message_is_cut_between_its_lines() -> None:
    """Three quotes of 3,000 quotation marks: each escaped quote is cut to 300 characters,
    six times longer once escaped, so that the three no longer fit in one message."""
    summary = TextSummary(respondents=3, quotes=('"' * 3000, "'" * 3000, "&" * 3000))
    lines = summary_lines(summarised(summary, "en"))
    assert sum(len(line) for line in lines) > 4096
    messages = messages_of([["<b>Heading</b>", *lines]])
    assert len(messages) == 2
    assert_telegram_html(messages)


def test_the_export_says_which_statements_reached_the_agora_and_the_resolutions(
    journey: Journey,
) -> None:
    people = [participant(pid, "socio_eco") for pid in (1, 2, 3)]
    statements = [
        statement(1, people[0], "request", "Simplifier les dossiers", "elu"),
        statement(2, people[1], "request", "=HYPERLINK(1)", "elu", in_agora=False),
        statement(
            3, people[2], "request", "Des dossiers simples", "elu", status="merged", in_agora=False
        ),
        statement(4, people[2], "request", "Refusé", "elu", status="rejected", in_agora=False),
    ]
    statements[2] = replace(statements[2], merged_into=statements[0].id)
    recorded = [
        Resolution(1, 1, 1, 1, "-1 dossier sur 2", "agent", None, date(2027, 3, 15), 500, T0, T0),
        Resolution(2, 1, 2, None, "Un guichet", None, "Camille", None, 500, T0, T0),
    ]
    rows = WorkshopRows(people, [], statements, authors_agree(statements), resolutions=recorded)
    workshop = Workshop(1, "C" * 16, "F" * 16, "Atelier", journey.id, 500, T0, None)
    synthesis = synthesise(
        journey, people, [], statements, rows.votes, resolutions=recorded, min_group=3
    )
    files = {f.name: f.data for f in export_files(journey, Report(workshop, synthesis, rows), "en")}

    def table(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(files[name].decode("utf-8-sig"))))

    written = table("statements.csv")
    assert tuple(written[0]) == STATEMENT_COLUMNS
    assert [(r["number"], r["status"], r["in_agora"], r["merged_into"]) for r in written] == [
        ("1", "approved", "yes", ""),
        ("2", "approved", "no", ""),  # the caucus did not keep it: still exported
        ("3", "merged", "no", "1"),
    ]
    assert written[1]["text"] == "'=HYPERLINK(1)"  # never run as a formula
    resolved = table("resolutions.csv")
    assert tuple(resolved[0]) == RESOLUTION_COLUMNS
    assert [tuple(r.values())[1:7] for r in resolved] == [
        ("1", "'-1 dossier sur 2", "Local-authority officer", "agent", "2027-03-15", "1"),
        ("2", "Un guichet", "Camille", "", "", ""),
    ]
    assert list(files)[:4] == ["answers.csv", "statements.csv", "resolutions.csv", "synthesis.md"]


@pytest.mark.parametrize(("language", "others"), [("en", "Others"), ("fr", "Autres")])
def test_the_export_names_only_categories_enough_people_share_and_times_to_the_minute(
    journey: Journey, language: str, others: str
) -> None:
    """The consent's promise: three officers keep their category; two elected officials
    and one State officer are written as the facilitator's "Others" (their group's name
    in the questions too), and no time has seconds."""
    people = [participant(pid, "agent") for pid in (1, 2, 3)]
    people += [participant(4, "elu"), participant(5, "elu"), participant(6, "etat")]
    when = T0 + timedelta(seconds=17, microseconds=345_000)
    answers = [Answer(p.id, "m1_present", "3", when, None) for p in people]
    answers += [Answer(p.id, "p2_role", "Un rôle", when, None) for p in people]
    written = [statement(1, people[3], "request", "Des dossiers simples", "agent")]
    written = [replace(written[0], created_at=when, question_id="req_agent")]
    rows = WorkshopRows(people, answers, written, authors_agree(written))
    workshop = Workshop(
        1, "C" * 16, "F" * 16, "Atelier", journey.id, 500, T0, None, export_key="k" * 32
    )
    synthesis = synthesise(journey, people, answers, written, rows.votes, min_group=3)
    report = Report(workshop, synthesis, rows)
    files = {f.name: f.data for f in export_files(journey, report, language)}
    table = list(csv.DictReader(io.StringIO(files["answers.csv"].decode("utf-8-sig"))))

    assert tuple(table[0]) == COLUMNS
    first = {row["participant"]: row["category"] for row in table if row["phase"] == "1"}
    assert sorted(first.values(), key=lambda name: name != "agent") == ["agent"] * 3 + [others] * 3
    # Phase 2 gives a group away (its questions are about the other groups): a folded
    # participant's phase 2 rows go under another pseudonym, not leading to their phase 1.
    second = {row["participant"]: row["category"] for row in table if row["phase"] == "2"}
    assert {p for p, c in first.items() if c == "agent"} == {
        p for p, c in second.items() if c == "agent"
    }
    assert not {p for p, c in second.items() if c == others} & set(first)
    assert len([c for c in second.values() if c == others]) == 3
    # Keyed with a secret nobody is shown: the facilitator code the readers of the export
    # hold does not give the pseudonyms away.
    from_codes = {pseudonym(replace(workshop, export_key=None), p.id) for p in people}
    assert not from_codes & (set(first) | set(second))
    # Phase by phase: a participant's two pseudonyms are never on neighbouring rows.
    assert [row["phase"] for row in table] == sorted(
        (row["phase"] for row in table), key=PHASE_ORDER.index
    )
    assert {row["category"] for row in table if row["step"] == "req_agent"} == {others}
    minute = (T0 + timedelta(seconds=17)).replace(second=0).isoformat(timespec="minutes")
    assert {row["answered_at"] for row in table} == {minute}  # "2026-11-27T09:00+00:00"
    groups = {category.id: category.group[language] for category in journey.categories}
    asked = {(row["category"], row["question"]) for row in table if row["step"] == "p2_role"}
    assert len(asked) == 2  # the officers' question names them; the others' names no one
    assert all((groups["agent"] in text) == (category == "agent") for category, text in asked)
    assert not any(groups[c] in question for _, question in asked for c in ("elu", "etat"))
    listed = list(csv.DictReader(io.StringIO(files["statements.csv"].decode("utf-8-sig"))))
    assert [row["created_at"] for row in listed] == [minute]
    # The same promise in statements.csv: the elected official's request, under « Others »
    # and the pseudonym of their phase 2 rows.
    request = next(row for row in table if row["step"] == "req_agent")
    assert [(row["category"], row["participant"]) for row in listed] == [
        (others, request["participant"])
    ]
    assert request["participant"] in second
