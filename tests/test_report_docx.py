"""The report for elected officials as a `.docx`, built from the synthesis tests' data set
and read back with python-docx: its headings, its figures (the synthesis's own), the
resolutions, only the chosen quotes, and nothing of a group under the threshold."""

from __future__ import annotations

import io
import re
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import docx
import pytest
from docx.oxml.ns import qn

from flows.decantation import synthesise_decantation
from flows.facilitation import Report
from flows.journey import Journey
from flows.journey_file import default_journey
from flows.quotes import Candidate, Conclusions, candidates_of, quotable
from flows.synthesis import ALL, Synthesis, synthesise
from reports.conclusions import group_words, report_docx, report_file
from reports.conclusions_words import Words, contracted, slug
from reports.wording import votes_words
from storage.exports import WorkshopRows
from storage.models import Answer, QuotedAnswer, Resolution, Session, Workshop
from tests.synthesis_data import INTENTIONS_FR, T0, Rows, forty

PARIS = ZoneInfo("Europe/Paris")
RESOLVED = "Un comité <commun> & trimestriel"


@pytest.fixture(scope="module")
def journey() -> Journey:
    return default_journey()


def workshop() -> Workshop:
    return Workshop(
        1, "C" * 16, "F" * 16, "Atelier de la vallée", "cooperation", 500, T0, None,
        territory="Nord Caraïbe",
    )  # fmt: skip


def made(journey: Journey, rows: Rows) -> tuple[Synthesis, WorkshopRows]:
    resolution = Resolution(1, 1, 1, 1, RESOLVED, "agent", None, date(2027, 3, 15), 500, T0, T0)
    stored = WorkshopRows(
        rows.participants, rows.answers, rows.statements, rows.votes, resolutions=[resolution]
    )
    synthesis = synthesise(
        journey,
        rows.participants,
        rows.answers,
        rows.statements,
        rows.votes,
        resolutions=[resolution],
        min_group=3,
    )
    return synthesis, stored


def conclusions(journey: Journey, chosen: Collection[str] = (), *, settled: int = 0) -> Conclusions:
    """The forty's conclusions, the quotes whose text starts with one of `chosen` chosen;
    the first `settled` elected officials sent the deferred moments and answering them."""
    rows = forty()
    for index, person in enumerate(rows.participants[:settled]):
        rows.participants[index] = replace(person, decantation_sent_at=T0, settled_at=T0)
        for question, value in (("m8_shifted", 4 + index % 2), ("m9_stays", 1 + index % 3)):
            rows.answers.append(Answer(person.id, question, str(value), T0, None))
    synthesis, stored = made(journey, rows)
    ids = [
        QuotedAnswer(index, 1, a.participant_id, a.question_id, False)
        for index, a in enumerate(rows.answers, start=1)
    ]
    candidates = candidates_of(journey, rows.participants, rows.answers, ids, 3)
    picked = tuple(c for c in candidates if any(c.text.startswith(s) for s in chosen))
    session = Session(
        1, 1, 1, datetime(2026, 11, 27, 8, 30, tzinfo=UTC), None, "Salle des fêtes", 500, T0
    )
    settling = synthesise_decantation(journey, rows.participants, rows.answers, min_group=3)
    report = Report(workshop(), synthesis, stored)
    return Conclusions(report, settling, (session,), picked)


def read(data: bytes) -> tuple[list[tuple[str, str]], str]:
    """The document's headings (style, text) and its whole text."""
    document = docx.Document(io.BytesIO(data))
    headings = [
        (p.style.name, p.text)
        for p in document.paragraphs
        if p.style is not None and p.style.name.startswith(("Heading", "Title"))
    ]
    return headings, "\n".join(p.text for p in document.paragraphs)


def section(text: str, heading: str, following: str) -> str:
    """The text between two headings."""
    return text[text.index(heading) : text.index(following)]


def test_conclusions_come_first_and_the_moments_in_appendix(journey: Journey) -> None:
    headings, text = read(report_docx(journey, conclusions(journey), "fr", PARIS))
    assert headings == [
        ("Title", "Relevé de conclusions · Atelier de la vallée"),
        ("Heading 1", "Résolutions"),
        ("Heading 1", "Points de consensus"),
        ("Heading 1", "Points de désaccord"),
        ("Heading 1", "Ce que chaque groupe demande et s'engage à faire"),
        ("Heading 2", "Les élus"),
        ("Heading 3", "Demandes"),
        # Their request has its author's vote only: no group counted, not in the report.
        ("Heading 2", "Les agents de collectivité"),
        ("Heading 3", "Engagements"),
        ("Heading 1", "Qui a participé"),
        ("Heading 1", "Annexe · Les neuf moments de la coopération"),
    ]
    # The header: when, where, on which territory, how many took part.
    header = text[: text.index("Résolutions")]
    assert "Date\u00a0: 27 novembre 2026" in header and "Lieu\u00a0: Salle des fêtes" in header
    assert "Territoire\u00a0: Nord Caraïbe" in header
    assert "Participation\u00a0: 40 personnes sur 42 inscrites ont répondu" in header
    # No quartile, median or probability: figures as people count them.
    assert "médiane" not in text and "quartile" not in text and "%" not in text
    # A quotation in French has narrow no-break spaces inside its marks.
    assert "«\u202fNous associer dès le début des projets\u202f»" in text
    assert "« " not in text and " »" not in text


def test_the_report_in_english(journey: Journey) -> None:
    file = report_file(journey, conclusions(journey), "en", PARIS)
    headings, text = read(file.data)
    assert file.name == "record-of-conclusions-atelier-de-la-vallee-2026-11-27.docx"
    assert headings[0] == ("Title", "Record of conclusions · Atelier de la vallée")
    assert [h for style, h in headings if style == "Heading 1"] == [
        "Resolutions",
        "Common ground",
        "Where opinions split",
        "What each group asks and commits to",
        "Who took part",
        "Appendix · The nine moments of cooperation",
    ]
    assert "To local-authority officers: “Nous associer dès le début des projets”" in text


def test_the_file_says_its_language_and_its_name_the_workshop_and_day(journey: Journey) -> None:
    for language, tag in (("fr", "fr-FR"), ("en", "en-GB")):
        file = report_file(journey, conclusions(journey), language, PARIS)
        document = docx.Document(io.BytesIO(file.data))
        defaults = document.styles.element.find(qn("w:docDefaults"))
        assert defaults is not None
        lang = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}")
        assert lang is not None and lang.get(qn("w:val")) == tag, language
        assert document.core_properties.language == tag
        properties = document.core_properties
        assert "python-docx" not in properties.author + properties.comments
    french = report_file(journey, conclusions(journey), "fr", PARIS)
    assert french.name == "releve-de-conclusions-atelier-de-la-vallee-2026-11-27.docx"
    assert workshop().code.lower() not in french.name.lower()  # it travels: no way in
    assert slug("Atelier « Cœur de ville » : 2027 ?") == "atelier-coeur-de-ville-2027"
    assert len(slug("mot " * 40)) <= 40 and slug("🤝") == ""


def test_french_contracts_a_group_after_a_preposition() -> None:
    assert contracted("Demande de les élus à les agents", "fr") == "Demande des élus aux agents"
    assert contracted("À les agents de l'État", "fr") == "Aux agents de l'État"
    assert contracted("Engagement de le conseil", "fr") == "Engagement du conseil"
    assert contracted("Request from les élus", "en") == "Request from les élus"


def test_a_statement_from_a_group_not_shown_is_not_said_to_come_from_it(
    journey: Journey,
) -> None:
    rows = forty()
    words = Words(journey, "fr", made(journey, rows)[0])
    request = rows.statements[0]  # the elected officials' to the officers
    assert words.origin(request, shown=True) == "Demande des élus aux agents de collectivité"
    assert words.origin(request, shown=False) == "Demande aux agents de collectivité"
    commitment = rows.statements[1]
    assert words.origin(commitment, shown=False) == "Engagement"
    assert words.addressed("etat") == "Aux agents de l'État territorial"


def test_its_figures_are_the_synthesis_s(journey: Journey) -> None:
    found = conclusions(journey)
    synthesis = found.report.synthesis
    _, text = read(report_docx(journey, found, "fr", PARIS))
    funnel = synthesis.funnel.counts
    # Participation per group shown, from the funnel: 12 elected officials joined.
    for group in ("elu", "socio_eco"):
        name = group_words(journey, group, "fr")
        active, joined = funnel["active"][group], funnel["joined"][group]
        finished = funnel["finished"][group]
        line = (
            f"{name}\u00a0: {active} sur {joined} ont répondu, {finished} ont terminé le parcours"
        )
        assert line in text, line
    assert (
        f"Ensemble\u00a0: {funnel['active'][ALL]} sur {funnel['joined'][ALL]} ont répondu" in text
    )
    # The votes on each statement, per group and in all, as the synthesis counted them.
    for result in synthesis.statements:
        for tally in (*result.by_group.values(), result.overall):
            assert votes_words(tally, "fr") in text
    # The first moment's self-assessment, in all, after what its ends mean.
    summary = synthesis.scales["m1_present"][ALL]
    low = summary.distribution[0] + summary.distribution[1]
    assert (
        "De 1 (« Encore ailleurs ») à 5 (« Pleinement disponible »)\u00a0: "
        f"{summary.high} personnes sur {summary.count} ont répondu 4 ou 5, "
        f"{low} ont répondu 1 ou 2."
    ).replace("« ", "«\u202f").replace(" »", "\u202f»") in text
    # Through the first moment: as many as the synthesis says; the question itself is not
    # quoted (the moment's title says what it is about).
    assert f"{synthesis.moments[1][ALL]} personnes sont passées par ce moment." in text
    assert "disponible pour cet atelier" not in text
    assert "Trop peu de réponses pour être présentées (moins de 3)." in text


def test_consensus_and_disagreement_come_from_the_synthesis(journey: Journey) -> None:
    found = conclusions(journey)
    synthesis = found.report.synthesis
    _, text = read(report_docx(journey, found, "fr", PARIS))
    agreed = section(text, "Points de consensus", "Points de désaccord")
    divided = section(text, "Points de désaccord", "Ce que chaque groupe")
    assert [r.statement.number for r in synthesis.agreed] == [1]
    assert [r.statement.number for r in synthesis.divisive] == [2]
    assert "Nous associer dès le début des projets" in agreed
    assert (
        "Demande des élus aux agents de collectivité\u00a0: "
        + votes_words(synthesis.agreed[0].overall, "fr")
    ) in agreed
    assert "Ouvrir nos réunions" not in agreed and "Des marchés réservés" not in agreed
    assert "Ouvrir nos réunions techniques aux associations" in divided
    assert "Engagement des agents de collectivité" in divided
    assert (
        "Majoritairement d'accord\u00a0: les agents de collectivité et les acteurs "
        "socio-économiques (ESS)\nMajoritairement pas d'accord\u00a0: les élus"
    ) in divided
    # In the detail: to whom a request is addressed, in words; each verdict.
    assert "Aux agents de collectivité\u00a0: «\u202fNous associer" in text
    assert "Consensus\u00a0: chaque groupe est majoritairement d'accord." in text
    assert (
        "Point de désaccord\u00a0: un groupe est majoritairement d'accord, un autre "
        "majoritairement pas d'accord." in text
    )


def test_a_small_group_s_figures_are_absent(journey: Journey) -> None:
    found = conclusions(journey)
    assert "etat" in found.report.synthesis.categories.left_out  # two State officers
    _, text = read(report_docx(journey, found, "fr", PARIS))
    state = journey.category("etat")
    assert state is not None
    name = state.group["fr"]
    title = name[:1].upper() + name[1:]
    assert not re.search(rf"{re.escape(title)}\u00a0: \d", text)  # no figures of theirs
    assert (
        "Pour que personne ne soit reconnaissable, les groupes où moins de 3 personnes ont "
        f"accepté de participer ne sont pas détaillés\u00a0: {name}." in text
    )  # named as hidden: a missing group is never taken for a silent one


def test_the_deferred_moments_once_answered(journey: Journey) -> None:
    asked = "Questions posées quelques jours après l'atelier."
    # Not sent to anyone yet: said when they are asked, no figure, no participation line.
    _, text = read(report_docx(journey, conclusions(journey), "fr", PARIS))
    later = section(text, "Moment 8", "Auto-évaluations")
    assert later.count(asked) == 2 and "répondu" not in later
    assert "Moments proposés après l'atelier" not in text
    # Four elected officials answered them: their figures, as the décantation's synthesis
    # counts them.
    found = conclusions(journey, settled=4)
    settling = found.settling
    assert (settling.sent, settling.settled) == (4, 4)
    _, text = read(report_docx(journey, found, "fr", PARIS))
    assert "Moments proposés après l'atelier\u00a0: 4 des 4 personnes qui les ont reçus" in text
    eighth = section(text, "Moment 8 · Retour nourrissant", "Moment 9")
    summary = next(iter(settling.synthesis.scales["m8_shifted"].values()))
    assert asked in eighth and "(la décantation)" not in eighth
    assert f"{summary.high} personnes sur {summary.count} ont répondu 4 ou 5" in eighth
    ninth = section(text, "Moment 9 · Décantation", "Auto-évaluations")
    stays = next(iter(settling.synthesis.scales["m9_stays"].values()))
    low = stays.distribution[0] + stays.distribution[1]
    assert f"sur {stays.count} a répondu 4 ou 5, {low} ont répondu 1 ou 2." in ninth


def test_the_resolutions_with_who_carries_them_and_by_when(journey: Journey) -> None:
    _, text = read(report_docx(journey, conclusions(journey), "fr", PARIS))
    assert RESOLVED in text  # as written, not escaped: a document is no HTML
    assert "Portée par\u00a0: les agents de collectivité · Échéance\u00a0: 15 mars 2027" in text


def test_only_the_chosen_quotes(journey: Journey) -> None:
    headings, text = read(report_docx(journey, conclusions(journey), "fr", PARIS))
    assert "Citations" not in [h for _, h in headings]  # none by default
    assert not any(intention in text for intention in INTENTIONS_FR)
    chosen = conclusions(journey, {INTENTIONS_FR[1][:20]})
    assert len(chosen.quotes) == 1
    headings, text = read(report_docx(journey, chosen, "fr", PARIS))
    assert ("Heading 1", "Citations") in headings
    assert f"«\u202f{INTENTIONS_FR[1]}\u202f»" in text
    assert [i for i in INTENTIONS_FR if i in text] == [INTENTIONS_FR[1]]


def test_quotes_are_masked_and_only_where_the_synthesis_quotes(journey: Journey) -> None:
    rows = forty()
    found = quotable(journey, rows.participants, rows.answers, 3)
    # Seven intentions: a question answered by enough people; an e-mail address masked.
    assert {q.question_id for q in found} == {"m1_intention"}
    assert len(found) == 7 and all(q.category is None for q in found)
    assert not any("@" in q.text for q in found)
    # Under the threshold, nothing: two answers only.
    assert quotable(journey, rows.participants, rows.answers[:0] + rows.answers, 8) == []
    masked = Answer(1, "m1_intention", "Moi, Camille Martin", T0, None, shown="Moi, [nom]")
    others = [
        a for a in rows.answers if not (a.participant_id == 1 and a.question_id == "m1_intention")
    ]
    texts = {q.text for q in quotable(journey, rows.participants, [*others, masked], 3)}
    assert "Moi, [nom]" in texts and not any("Camille" in t for t in texts)


def test_a_candidate_without_a_stored_row_is_not_offered(journey: Journey) -> None:
    rows = forty()
    assert candidates_of(journey, rows.participants, rows.answers, [], 3) == ()
    first = next(a for a in rows.answers if a.question_id == "m1_intention")
    stored = [QuotedAnswer(42, 1, first.participant_id, first.question_id, True)]
    assert candidates_of(journey, rows.participants, rows.answers, stored, 3) == (
        Candidate(42, "m1_intention", None, INTENTIONS_FR[0], True),
    )


def test_characters_a_document_cannot_hold_are_left_out(journey: Journey) -> None:
    """A control character typed in a title, a territory, a place, a statement, a
    resolution or a quote would make python-docx refuse the whole report."""
    found = conclusions(journey)
    report = found.report
    synthesis = report.synthesis
    bad = "\x0b\x1b\x00\ufffe"
    workshop = replace(report.workshop, title=f"Atelier{bad} de la vallée", territory=f"Nord{bad}")
    first = synthesis.resolutions[0]
    resolution = replace(first.resolution, text=f"Un comité{bad} commun", carrier_name=f"A{bad}")
    statement = replace(synthesis.statements[0].statement, text=f"Nous associer{bad} tôt")
    synthesis = replace(
        synthesis,
        resolutions=[replace(first, resolution=resolution)],
        statements=[
            replace(synthesis.statements[0], statement=statement),
            *synthesis.statements[1:],
        ],
    )
    quote = Candidate(1, "m1_intention", None, f"Une citation{bad} choisie", True)
    session = replace(found.sessions[0], place=f"Salle{bad} des fêtes")
    found = replace(
        found,
        report=replace(report, workshop=workshop, synthesis=synthesis),
        sessions=(session,),
        quotes=(quote,),
    )
    _, text = read(report_docx(journey, found, "fr", PARIS))
    for written in (
        "Atelier de la vallée",
        "Nord",
        "Salle des fêtes",
        "Un comité commun",
        "Nous associer tôt",
        "Une citation choisie",
    ):
        assert written in text
