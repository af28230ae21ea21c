"""French text: the right no-break spaces, and no masculine-only word for the people who
use the bot, over the whole catalog and the journey file. Each failure lists every offence,
so that a translator can fix them all in one pass."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from babel.messages.pofile import read_po

from flows.journey_file import default_journey
from locales import CATALOG_DIR

NBSP = "\u00a0"  # before ":"
NNBSP = "\u202f"  # before ";", "?", "!", and inside « »

# Text the rules do not apply to, blanked out before checking (each replaced by "x", so
# that what surrounds it is still checked):
# - format placeholders, {like_this}: code, not prose;
# - URLs: "https://" and a "?" in a query string are not French punctuation;
# - a colon with a digit on either side: times (17:30, 2026-12-03 09:00) in examples.
# Command examples ("/synthese [1|2|agora]") carry none of these marks, and an ellipsis or
# an emoji before a mark still takes the space: neither needs an exception.
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_URL = re.compile(r"https?://\S+")
_CLOCK = re.compile(r"(?<=\d):(?=\d)")

# A "?" or "!" right after another one ("?!") takes no space: the pair is one mark.
_HIGH_PUNCTUATION = re.compile(r"(?<![?!])([;?!])")


def _excerpt(text: str, start: int, end: int) -> str:
    """The offence with a few characters around it, spaces made visible."""
    piece = text[max(0, start - 12) : end + 12]
    return repr(piece)


def _blanked(text: str) -> str:
    for pattern in (_PLACEHOLDER, _URL):
        text = pattern.sub(lambda m: "x" * len(m.group()), text)
    return _CLOCK.sub("·", text)


def spacing_offences(text: str) -> list[str]:
    """Every missing (narrow) no-break space in a French text, as excerpts."""
    checked = _blanked(text)
    found: list[str] = []

    def refuse(index: int, what: str) -> None:
        found.append(f"{what}: {_excerpt(text, index, index + 1)}")

    for index, char in enumerate(checked):
        before = checked[index - 1] if index else ""
        if char == ":" and before != NBSP:
            refuse(index, "no-break space (U+00A0) before ':'")
        elif char == "«" and checked[index + 1 : index + 2] != NNBSP:
            refuse(index, "narrow no-break space (U+202F) after '«'")
        elif char == "»" and before != NNBSP:
            refuse(index, "narrow no-break space (U+202F) before '»'")
    for match in _HIGH_PUNCTUATION.finditer(checked):
        index = match.start(1)
        if not index or checked[index - 1] != NNBSP:
            refuse(index, f"narrow no-break space (U+202F) before '{match.group(1)}'")
    return found


# Masculine-only role nouns for people who use the bot, and the epicene way to say it.
# A noun is accepted in a doublet with its feminine form (« animatrices et animateurs »).
# Category group names (« les élus », « les agents ») are not here: the journey names the
# groups that way and the syntheses must use those very names.
ROLE_NOUNS: dict[str, tuple[str, str]] = {
    # Facilitators: « l'équipe d'animation », « une personne de l'équipe d'animation ».
    "animateur": ("animatrice", "l'équipe d'animation"),
    # The bot's administrator: « la personne qui administre le bot ».
    "administrateur": ("administratrice", "la personne qui administre le bot"),
    # Organisers and co-organisers: « l'équipe d'organisation ».
    "organisateur": ("organisatrice", "l'équipe d'organisation"),
    # Participants, as a noun: « les personnes participantes », « chaque personne ».
    "participant": ("participante", "les personnes participantes"),
    # Users of the bot: « les personnes qui utilisent le bot ».
    "utilisateur": ("utilisatrice", "les personnes qui utilisent le bot"),
    # Moderators: « l'équipe de modération ».
    "modérateur": ("modératrice", "l'équipe de modération"),
    # Respondents and voters in the figures: « personnes qui ont répondu », « qui votent ».
    "répondant": ("répondante", "les personnes qui ont répondu"),
    "votant": ("votante", "les personnes qui votent"),
    # Authors of statements: « les personnes qui l'ont écrit ».
    "auteur": ("autrice", "les personnes qui l'ont écrit"),
}

# "participant" is also an adjective: after a masculine noun for a thing it is no role noun.
_ADJECTIVE_AFTER = ("groupe", "groupes", "territoire", "territoires")


def _role_pattern(masculine: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-])(?:co-)?{masculine}s?(?![\w-])", re.IGNORECASE)


_ROLE_PATTERNS = {noun: _role_pattern(noun) for noun in ROLE_NOUNS}


def _in_doublet(text: str, start: int, end: int, feminine: str) -> bool:
    """« animatrice ou animateur », « animateurs et animatrices »: the pair names everyone."""
    around = text[max(0, start - len(feminine) - 8) : end + len(feminine) + 8].lower()
    return re.search(rf"\b{feminine}s?\b", around) is not None


def role_noun_offences(text: str) -> list[str]:
    """Every masculine-only role noun in a French text, as excerpts with the alternative."""
    found: list[str] = []
    checked = _PLACEHOLDER.sub(lambda m: "x" * len(m.group()), text)
    for noun, (feminine, instead) in ROLE_NOUNS.items():
        for match in _ROLE_PATTERNS[noun].finditer(checked):
            if _in_doublet(text, match.start(), match.end(), feminine):
                continue
            previous = text[: match.start()].split()[-1:] or [""]
            if noun == "participant" and previous[0].lower() in _ADJECTIVE_AFTER:
                continue
            excerpt = _excerpt(text, match.start(), match.end())
            found.append(f"{match.group()!r} (say {instead!r}): {excerpt}")
    return found


def french_offences(text: str) -> list[str]:
    return spacing_offences(text) + role_noun_offences(text)


def _catalog_texts() -> Iterator[tuple[str, str]]:
    with (CATALOG_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale="fr")
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, (tuple, list)) else message.id
        strings = message.string
        forms = strings if isinstance(strings, (tuple, list)) else (strings,)
        for form in forms:
            yield str(msgid), form or ""


def _journey_texts() -> Iterator[tuple[str, str]]:
    for key, texts in default_journey().all_texts():
        yield key, texts["fr"]


def _report(entries: Iterator[tuple[str, str]]) -> list[str]:
    return [f"{name!r}: {offence}" for name, text in entries for offence in french_offences(text)]


def test_the_french_catalog_is_well_spaced_and_inclusive() -> None:
    offences = _report(_catalog_texts())
    assert offences == [], "\n" + "\n".join(offences)


def test_the_journey_french_texts_are_well_spaced_and_inclusive() -> None:
    offences = _report(_journey_texts())
    assert offences == [], "\n" + "\n".join(offences)


@pytest.mark.parametrize(
    "good",
    [
        f"Lieu{NBSP}: Mairie",
        f"Prêt{NNBSP}? Oui{NNBSP}; merci{NNBSP}!",
        f"Touchez «{NNBSP}Passer ➡️{NNBSP}»",
        f"Vraiment{NNBSP}?!",
        "Rendez-vous à 17:30, ou le 2026-12-03 09:00.",
        "Voir https://example.org/a?b=1 pour la suite.",
        f"{{label}}{NBSP}: {{value:>3}}",
        "/synthesis [1|2|agora]",
        f"En attente…{NNBSP}?",
    ],
)
def test_the_spacing_check_accepts_good_french(good: str) -> None:
    assert spacing_offences(good) == []


@pytest.mark.parametrize(
    ("bad", "mark"),
    [
        ("Lieu : Mairie", "':'"),
        ("Lieu: Mairie", "':'"),
        (f"Lieu{NNBSP}: Mairie", "':'"),
        ("Vraiment ?", "'?'"),
        (f"Vraiment{NBSP}?", "'?'"),
        ("Oui; merci", "';'"),
        ("Merci !", "'!'"),
        (f"Touchez « Passer{NNBSP}»", "after '«'"),
        (f"Touchez «{NNBSP}Passer»", "before '»'"),
        ("Le vote à {time}: ouvert", "':'"),
    ],
)
def test_the_spacing_check_refuses_bad_french(bad: str, mark: str) -> None:
    offences = spacing_offences(bad)
    assert len(offences) == 1 and mark in offences[0], offences


@pytest.mark.parametrize(
    "good",
    [
        "L'équipe d'animation a ouvert la deuxième phase.",
        "Chaque animatrice ou animateur voit les résultats.",
        "Les participantes et participants votent.",
        "Les personnes participantes votent.",
        "Il reprend les votes, les autrices et auteurs.",
        "Les élus → les agents de collectivité",
        "Les groupes participants à l'agora.",
        "Il en reste : {participants} personnes participantes.",
    ],
)
def test_the_role_noun_check_accepts_inclusive_french(good: str) -> None:
    assert role_noun_offences(good) == []


@pytest.mark.parametrize(
    ("bad", "noun"),
    [
        ("Seuls les animateurs peuvent faire cela.", "animateurs"),
        ("Un administrateur peut vous ajouter.", "administrateur"),
        ("Ajouter un co-organisateur", "co-organisateur"),
        ("Envoyer à 3 participants", "participants"),
        ("Participants", "Participants"),
        ("Les utilisateurs du bot", "utilisateurs"),
        ("Un modérateur relit", "modérateur"),
        ("Groupes de moins de 3 votants", "votants"),
        ("Il reprend les votes et les auteurs.", "auteurs"),
    ],
)
def test_the_role_noun_check_refuses_masculine_only_nouns(bad: str, noun: str) -> None:
    offences = role_noun_offences(bad)
    assert len(offences) == 1 and offences[0].startswith(repr(noun)), offences
