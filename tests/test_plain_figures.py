"""The syntheses a facilitator or a participant reads speak plain figures, in French and
in English: "3 of 3 agree", "2 of 3 answered 4 or 5", groups named as groups ("Elected
officials → local-authority officers"), "mostly" said of a majority only, each theme
once, and no probability, median, quartile or score."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from flows.decantation import synthesise_decantation
from flows.journey import Prompt
from flows.journey_file import default_journey
from flows.synthesis import Synthesis, synthesise
from reports.charts import chart_labels
from reports.markdown import markdown_report
from reports.messages import decantation_messages, share_messages, synthesis_messages
from reports.text import plain, strip_tags
from storage.models import Answer, Participant, Vote
from tests.synthesis_data import T0, authors_agree, participant, statement

JOURNEY = default_journey()
LANGUAGES = ("fr", "en")
NBSP, NNBSP = "\u00a0", "\u202f"
# What a non-statistician does not read: a probability, a median, quartiles, a score.
JARGON = re.compile(
    r"p\(|quartile|m[ée]dian|score|group-aware|entre les groupes|\b0[.,]\d\d\b", re.IGNORECASE
)
ELUS, AGENTS = (1, 2, 3), (4, 5, 6)
# The same word from two people of each interface language: stemmed two ways, one theme.
THEME_ANSWERS = [
    "Coopérer avec les services",
    "Coopérer vraiment",
    "Coopérer au quotidien",
    "Coopérer sans attendre",
]
ENGLISH = (3, 4)  # they write in French with the bot in English


def group(category: str, language: str) -> str:
    """A category as a group, as the journey names it: "les élus"."""
    category_of = JOURNEY.category(category)
    assert category_of is not None
    return plain(category_of.group, language)


def opening(category: str, language: str) -> str:
    name = group(category, language)
    return name[:1].upper() + name[1:]


def gradient() -> Prompt:
    assert JOURNEY.peers is not None
    return next(p for p in JOURNEY.peers.about if p.gradient)


def scale(language: str) -> str:
    """The first scale of phase 1."""
    return next(p for p in JOURNEY.live_prompts() if p.kind == "scale").id


def first_text() -> str:
    return next(p for p in JOURNEY.live_prompts() if p.kind == "text").id


def people() -> list[Participant]:
    everyone = [participant(pid, "elu") for pid in ELUS]
    everyone += [participant(pid, "agent") for pid in AGENTS]
    return [replace(p, language="en") if p.id in ENGLISH else p for p in everyone]


def small() -> Synthesis:
    """Three elected officials and three officers: a scale, the relation gradient both
    ways, three intentions sharing a word, a statement all agree with and one that
    divides them."""
    everyone = people()
    rel = gradient()
    first, second, third = (option.id for option in rel.options[:3])
    answers = [
        Answer(pid, scale("fr"), str(value), T0, None)
        for pid, value in zip(ELUS + AGENTS, (4, 5, 2, 2, 2, 3), strict=True)
    ]
    answers += [
        Answer(pid, first_text(), text, T0, None)
        for pid, text in zip((*ELUS, AGENTS[0]), THEME_ANSWERS, strict=True)
    ]
    # The officials are divided about the officers; two officers of three see a partnership.
    answers += [
        Answer(pid, f"{rel.id}_agent", value, T0, None)
        for pid, value in zip(ELUS, (first, second, third), strict=True)
    ]
    answers += [
        Answer(pid, f"{rel.id}_elu", value, T0, None)
        for pid, value in zip(AGENTS, (first, first, second), strict=True)
    ]
    elu, agent = everyone[0], everyone[3]
    statements = [
        statement(1, elu, "request", "Nous associer dès le début des projets", "agent"),
        statement(2, agent, "commitment", "Ouvrir nos réunions techniques", None),
    ]
    votes = authors_agree(statements)
    votes += [Vote(1, pid, "agree", T0) for pid in (*ELUS[1:], *AGENTS)]
    votes += [Vote(2, pid, "disagree", T0) for pid in ELUS]
    votes += [Vote(2, pid, "agree", T0) for pid in AGENTS[1:]]
    return synthesise(JOURNEY, everyone, answers, statements, votes)


def lines(messages: list[str]) -> list[str]:
    return [strip_tags(line) for message in messages for line in message.split("\n")]


@pytest.fixture(scope="module")
def synthesis() -> Synthesis:
    return small()


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_jargon_in_any_synthesis(synthesis: Synthesis, language: str) -> None:
    texts = [
        *synthesis_messages(JOURNEY, synthesis, language),
        *share_messages(JOURNEY, synthesis, language),
        markdown_report(JOURNEY, synthesis, language),
    ]
    for text in texts:
        assert not JARGON.search(text), JARGON.search(text)
    labels = chart_labels(JOURNEY, language)
    for title in (labels.profile_title, labels.profile_axis, labels.agora_title):
        assert not JARGON.search(title), title


def test_scales_say_how_many_answered_what(synthesis: Synthesis) -> None:
    french = lines(synthesis_messages(JOURNEY, synthesis, "fr"))
    assert (
        f"{opening('elu', 'fr')}{NBSP}: 2 sur 3 ont répondu 4 ou 5{NNBSP}; réponses "
        f"données{NBSP}: 2 (1) · 4 (1) · 5 (1)"
    ) in french
    officers = f"{opening('agent', 'fr')}{NBSP}: 0 sur 3 a répondu 4 ou 5{NNBSP}; réponses "
    assert any(line.startswith(officers) for line in french)
    english = lines(synthesis_messages(JOURNEY, synthesis, "en"))
    assert (
        f"{opening('elu', 'en')}: 2 of 3 answered 4 or 5; answers given: 2 (1) · 4 (1) · 5 (1)"
    ) in english


def test_votes_read_as_so_many_agree(synthesis: Synthesis) -> None:
    french = lines(synthesis_messages(JOURNEY, synthesis, "fr", phase="agora"))
    assert f"{opening('elu', 'fr')}{NBSP}: 3 sur 3 d'accord, 0 pas d'accord, 0 sans avis" in french
    assert f"Ensemble{NBSP}: 6 sur 6 d'accord, 0 pas d'accord, 0 sans avis" in french
    english = lines(synthesis_messages(JOURNEY, synthesis, "en", phase="agora"))
    assert f"{opening('elu', 'en')}: 0 of 3 agree, 3 disagree, 0 pass" in english
    assert f"{opening('agent', 'en')}: 3 of 3 agree, 0 disagree, 0 pass" in english


@pytest.mark.parametrize("language", LANGUAGES)
def test_groups_are_named_as_groups(synthesis: Synthesis, language: str) -> None:
    text = "\n".join(lines(synthesis_messages(JOURNEY, synthesis, language)))
    pair = f"{opening('elu', language)} → {group('agent', language)}"
    assert pair in text  # the request's heading and the relation pairs
    for category in JOURNEY.categories:
        label = plain(category.label, language)
        assert f"{label} →" not in text and f"→ {label}" not in text
        assert f"\n{label}{NBSP}:" not in text and f"\n{label}:" not in text
    document = markdown_report(JOURNEY, synthesis, language)
    agree = "d'accord" if language == "fr" else "agree"
    assert f"{opening('elu', language)} {agree}" in document  # a column of the agora
    assert "3 sur 3" in document if language == "fr" else "3 of 3" in document
    labels = chart_labels(JOURNEY, language)
    assert labels.categories["elu"] == opening("elu", language)


def test_mostly_is_said_of_a_majority_only(synthesis: Synthesis) -> None:
    rel = gradient()
    first, second, third = (plain(option.label, "en") for option in rel.options[:3])
    english = lines(synthesis_messages(JOURNEY, synthesis, "en", phase="2"))
    officials = f"{opening('elu', 'en')} → {group('agent', 'en')}: "
    officers = f"{opening('agent', 'en')} → {group('elu', 'en')}: "
    assert (
        f"{officials}views divided between {first} (1 of 3) · {second} (1 of 3) · {third} (1 of 3)"
        in english
    )
    assert f"{officers}mostly {first} (2 of 3)" in english
    french = "\n".join(lines(synthesis_messages(JOURNEY, synthesis, "fr", phase="2")))
    assert "surtout" in french and not re.search(r"surtout [^\n]*\(1 sur 3\)", french)
    assert "avis partagés entre " in french


def test_each_theme_once_as_a_word(synthesis: Synthesis) -> None:
    for language in LANGUAGES:
        themes = [
            line
            for line in lines(synthesis_messages(JOURNEY, synthesis, language, phase="1"))
            if line.startswith(("Thèmes", "Themes"))
        ]
        assert themes and themes[0].endswith(": coopérer (4)"), themes


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_settling_moment_speaks_plain_figures(language: str) -> None:
    deferred = next(p for p in JOURNEY.deferred_prompts() if p.kind == "scale")
    everyone = [replace(p, decantation_sent_at=T0, settled_at=T0) for p in people()]
    answers = [
        Answer(pid, deferred.id, str(value), T0, None)
        for pid, value in zip(ELUS + AGENTS, (5, 5, 1, 4, 2, 2), strict=True)
    ]
    settling = synthesise_decantation(JOURNEY, everyone, answers)
    shown = lines(decantation_messages(JOURNEY, settling, language))
    start = {
        "fr": f"{opening('elu', 'fr')}{NBSP}: 2 sur 3 ont répondu 4 ou 5{NNBSP}; réponses ",
        "en": f"{opening('elu', 'en')}: 2 of 3 answered 4 or 5; answers given: ",
    }[language]
    assert any(line.startswith(start) for line in shown), shown
    assert not JARGON.search("\n".join(shown))
