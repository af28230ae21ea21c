"""What in a statement seems to point at a person: a name, an @handle, an e-mail address,
a phone number or a link. The review queue flags it so that the facilitator looks twice
before everyone reads it; nothing is refused on these guesses alone. `mask` hides, in
what others read, the author's own names and every handle, address, number and link.

Pure and cautious: a flag is a question to a human, so a few false alarms are fine, but
the common places and institutions of a workshop ("Saint-Denis", "Pôle Emploi", "Conseil
Départemental") must not drown the real ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise


class Identifying(StrEnum):
    """A kind of detail that may identify someone, in the order they are reported."""

    NAME = "name"
    HANDLE = "handle"
    EMAIL = "email"
    PHONE = "phone"
    LINK = "link"


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TLDS = "fr|com|org|net|eu|io|info|be|ch|ca|de|uk|es|it|app|dev|me|co|coop|bzh|paris"
_LINK = re.compile(
    # A link's last character is not the punctuation that follows it in a sentence.
    r"(?i)(?:\bhttps?://|\bwww\.|\bt\.me/)\S*[^\s.,;:!?)\]»\"'’]"
    rf"|(?<![\w@.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:{_TLDS})\b(?:/\S*)?"
)
_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z][A-Za-z0-9_]{2,31}\b")
_PHONE = re.compile(
    # French: 06 12 34 56 78, 06.12.34.56.78, 0612345678.
    r"(?<![\d+])0[1-9](?:[ .\-]?\d{2}){4}(?!\d)"
    # International: +33 6 12 34 56 78, +33 (0)6 12…, 0033 6 12…, +1 415-555-0132.
    r"|(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[ .\-]?\(0\))?(?:[ .\-]?\d){6,13}(?!\d)"
)
_TITLED = re.compile(
    r"(?<![\w.])(?:M\.|MM\.|Mme|Mmes|Mlle|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Pr\.?|Madame|Monsieur"
    r"|Mademoiselle|Docteur|Maître|Professeur)\s+[A-ZÀ-ÖØ-Þ][\w'’-]+"
)
_UPPER, _LOWER = "A-ZÀ-ÖØ-Þ", "a-zß-öø-ÿ"
_CAPITALISED = re.compile(
    rf"(?<![\w'’-])[{_UPPER}][{_LOWER}]+(?:[-'’][{_UPPER}{_LOWER}][{_LOWER}]*)*(?![\w])"
)
_BULLET = re.compile(r"(?:^|\n)[ \t]*[-–•*]$")
_SENTENCE_END = ".!?…\n"
_PARTS = re.compile(r"[-'’]")

# Capitalised words that name places, institutions and titles rather than people: a pair
# holding one of them is not a name (lower case; compared part by part: "Saint-Denis").
_COMMON = """
    le la les l de du des d un une et en au aux à a sur sous pour par dans avec chez
    the of and for in on at to by new
    saint sainte st ste seine marne oise loire rhône rhone garonne val vallée vallee mont
    monts haut haute hauts bas basse nord sud est ouest centre grand grande petit petite
    île ile côte cote pays pôle pole emploi france travail europe européenne europeenne
    union république republique état etat nation nations unies united kingdom states
    paris lyon marseille lille toulouse bordeaux nantes rennes strasbourg montpellier
    nice grenoble rouen brest dijon bretagne normandie provence alpes azur occitanie
    aquitaine bourgogne champagne ardenne alsace lorraine picardie corse auvergne
    limousin savoie vendée vendee gironde calvados
    mairie maire ville commune communes communauté communaute agglomération
    agglomeration métropole metropole région region régional regional régionale
    regionale département departement départemental departemental départementale
    departementale conseil conseils général general générale generale municipal
    municipale préfecture prefecture sous-préfecture ministère ministere ministre
    assemblée assemblee sénat senat parlement gouvernement président presidente
    président president caisse allocations familiales sécurité securite sociale social
    sociales sociaux solidaire solidaires solidarité solidarite économie economie
    économique economique action actions maison maisons association associations
    fondation fonds banque crédit credit mutuel mutuelle coopérative cooperative
    chambre commerce industrie métiers metiers artisanat agriculture office offices
    agence agences service services public publique publics publiques centre centres
    hôpital hopital école ecole collège college lycée lycee université universite
    institut tiers lieu lieux quartier quartiers rue avenue boulevard place parc gare
    zéro zero chômeur chomeur chômeurs chomeurs longue durée duree territoire
    territoires territoriale territoriales collectivité collectivite collectivités
    collectivites habitat logement insertion mission missions locale locales jeunes
    restos cœur coeur croix rouge secours populaire catholique emmaüs emmaus poste
    city council county town hall street road university school department national
    chamber bank fund social services health care centre center community trust
    lundi mardi mercredi jeudi vendredi samedi dimanche janvier février fevrier mars
    avril mai juin juillet août aout septembre octobre novembre décembre decembre
    monday tuesday wednesday thursday friday saturday sunday january february march
    april may june july august september october november december
"""
COMMON_WORDS = frozenset(_COMMON.split())


def identifying(text: str) -> tuple[Identifying, ...]:
    """The kinds of identifying details `text` seems to hold, each once, in a fixed order."""
    found: set[Identifying] = set()
    rest = text
    for kind, pattern in (
        (Identifying.EMAIL, _EMAIL),
        (Identifying.LINK, _LINK),
        (Identifying.HANDLE, _HANDLE),
        (Identifying.PHONE, _PHONE),
    ):
        if pattern.search(rest):
            found.add(kind)
            rest = pattern.sub(" ", rest)  # an e-mail's domain is not a link as well
    if _TITLED.search(rest) or _has_full_name(rest):
        found.add(Identifying.NAME)
    return tuple(kind for kind in Identifying if kind in found)


def _has_full_name(text: str) -> bool:
    """Two capitalised words in a row, not opening a sentence, neither of them a common
    word of places and institutions: "on a vu Jean Dupont", not "à Saint-Denis"."""
    words = list(_CAPITALISED.finditer(text))
    for first, second in pairwise(words):
        between = text[first.end() : second.start()]
        if between not in (" ", "\u00a0") or _opens_sentence(text[: first.start()]):
            continue
        if not (_is_common(first.group()) or _is_common(second.group())):
            return True
    return False


def _opens_sentence(before: str) -> bool:
    stripped = before.rstrip(" \t\u00a0")
    return not stripped or stripped[-1] in _SENTENCE_END or bool(_BULLET.search(stripped))


def _is_common(word: str) -> bool:
    return any(part.lower() in COMMON_WORDS for part in _PARTS.split(word) if part)


# What stands in the place of a detail that others must not read.
MASK = "[…]"
_JOINED = "\\w'’-"  # a name inside a longer word ("Saint-Denis" for Denis) is not it


@dataclass(frozen=True)
class Masked:
    """A text as others may read it, and the kinds of details taken out of it."""

    text: str
    kinds: tuple[Identifying, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


def mask(text: str, names: Sequence[str | None] = ()) -> Masked:
    """`text` with the author's own `names` (first name, last name, username, as Telegram
    gives them with the message) and every e-mail address, link, @handle and phone number
    replaced by MASK. Place names and other capitalised words stay: only the author's
    names are known to be theirs. A name matches as a whole word, whatever its case."""
    found: set[Identifying] = set()
    masked = text
    for kind, pattern in (
        (Identifying.EMAIL, _EMAIL),
        (Identifying.LINK, _LINK),
        (Identifying.HANDLE, _HANDLE),
        (Identifying.PHONE, _PHONE),
    ):
        masked, count = pattern.subn(MASK, masked)
        if count:
            found.add(kind)
    for name in _own_names(names):
        own = re.compile(rf"(?<![{_JOINED}]){_loose(name)}(?![{_JOINED}])", re.IGNORECASE)
        masked, count = own.subn(MASK, masked)
        if count:
            found.add(Identifying.NAME)
    return Masked(masked, tuple(kind for kind in Identifying if kind in found))


def _own_names(names: Sequence[str | None]) -> list[str]:
    """The author's names, longest first: each as given ("Marie Dupont" in the first-name
    field, as many write it) and each of its words of two letters or more that is not a
    common word of places and institutions."""
    found: set[str] = set()
    for name in names:
        whole = (name or "").strip().lstrip("@")
        if len(whole) >= 2:
            found.add(whole)
        for word in re.split(r"[\s_.]+", whole):
            if len(word) >= 2 and not _is_common(word):
                found.add(word)
    return sorted(found, key=len, reverse=True)


# The letters a name may be written with, with or without their accents ("Hélène" is
# "Helene" to someone who types without them).
_ACCENTED = {
    "a": "aàâäáãå",
    "c": "cç",
    "e": "eéèêë",
    "i": "iîïíì",
    "n": "nñ",
    "o": "oôöóòõ",
    "u": "uùûüú",
    "y": "yÿý",
}


def _loose(name: str) -> str:
    """A pattern for `name` that ignores accents (whatever case: used with IGNORECASE)."""
    parts = []
    for char in name:
        base = unicodedata.normalize("NFKD", char.lower())[:1]
        parts.append(f"[{_ACCENTED[base]}]" if base in _ACCENTED else re.escape(char))
    return "".join(parts)
