"""Themes and typical quotes of free-text answers, anonymised: what the synthesis says of
what people wrote, without a name, a link or a phone number in it."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import snowballstemmer
from stop_words import get_stop_words

TOP_THEMES = 5
QUOTES = 3

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_HANDLE = re.compile(r"(?<!\w)@\w{3,}")
# A link's last character is not the punctuation that ends the sentence around it.
_URL = re.compile(r"(?:\bhttps?://|\bwww\.|\bt\.me/)\S*[^\s.,;:!?)\]»\"'’]", re.IGNORECASE)
_PHONE = re.compile(r"(?<!\w)(?:\+\d{1,3}[\s./-]?)?(?:\(?\d\)?[\s./-]?){8,}\d(?!\w)")
# A person's name as people write it: a title and a capitalised word, or two capitalised
# words in a row that do not start the sentence ("Marie Dupont", "Mme Durand").
_TITLED = re.compile(r"\b(?:M\.|Mme|Mlle|Monsieur|Madame|Mr\.?|Mrs\.?|Ms\.?)\s+[A-ZÀ-Ý][\w'-]+")
_FULL_NAME = re.compile(r"(?<=[\w,;:)] )[A-ZÀ-Ý][a-zà-ÿ'-]+ [A-ZÀ-Ý][a-zà-ÿ'-]+")
_STEMMERS = {"fr": "french", "en": "english"}


@cache
def _stemmer(language: str) -> snowballstemmer.Stemmer:
    return snowballstemmer.stemmer(_STEMMERS.get(language, "french"))


@cache
def _stop_words(language: str) -> frozenset[str]:
    return frozenset(get_stop_words(language if language in _STEMMERS else "fr"))


def anonymise(text: str) -> str:
    """A text without e-mail addresses, links, @handles, phone numbers, or what reads as a
    person's name (a title and a name, or a first and last name within a sentence)."""
    text = _EMAIL.sub("[e-mail]", text)
    text = _URL.sub("[lien]", text)
    text = _HANDLE.sub("@…", text)
    text = _PHONE.sub("[tél.]", text)
    text = _TITLED.sub("[nom]", text)
    return _FULL_NAME.sub("[nom]", text)


def stems(text: str, language: str) -> dict[str, str]:
    """The significant words of a text, by stem (stop words dropped), each with the form
    it took first."""
    stop = _stop_words(language)
    found: dict[str, str] = {}
    for word in _WORD.findall(text.lower()):
        if word not in stop:
            found.setdefault(_stem(word, language), word)
    return found


@cache
def _stem(word: str, language: str) -> str:
    """Words recur across answers: each is stemmed once."""
    return str(_stemmer(language).stemWord(word))


@dataclass(frozen=True)
class Theme:
    word: str  # the most frequent form of the stem
    count: int  # answers in which it appears


@dataclass(frozen=True)
class TextSummary:
    respondents: int
    themes: tuple[Theme, ...] = ()
    quotes: tuple[str, ...] = ()


def _most_frequent(counts: Counter[str]) -> str:
    """The most frequent of `counts`, the first in the alphabet among equals."""
    return min(counts, key=lambda item: (-counts[item], item))


def summarise_texts(
    texts: Sequence[tuple[str, str]], *, quotes: int = QUOTES, every: bool = False
) -> TextSummary:
    """Themes (words found in the most answers, at least two) and the most typical answers
    (those whose words are the most shared), anonymised. `texts` holds (text, language).

    A theme is shown as the form its stem took most often ("coopérer", never "coop"),
    and once: stems that read as the same word (one word stemmed in two languages, when
    someone writes in a language other than their interface's) are one theme. With
    `every`, every distinct answer is quoted, the most typical first."""
    texts = [(anonymise(text), language) for text, language in texts]
    per_text = [stems(text, language) for text, language in texts]
    frequency: Counter[str] = Counter()
    forms: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for found in per_text:
        frequency.update(found.keys())
        for stem, form in found.items():
            forms[stem][form] += 1
    # The form a stem took most often, the first in the alphabet among equals: never the
    # order the answers came in, which people answering at once do not set.
    shown = {stem: _most_frequent(found) for stem, found in forms.items()}
    answers: defaultdict[str, set[int]] = defaultdict(set)  # word shown -> answers with it
    for index, found in enumerate(per_text):
        for stem in found:
            answers[shown[stem]].add(index)
    themes = tuple(
        Theme(word, len(found))
        for word, found in sorted(answers.items(), key=lambda item: (-len(item[1]), item[0]))
        if len(found) >= 2
    )[:TOP_THEMES]

    # How typical an answer is: how many other answers share its words, per word (its
    # length softened by a square root, so that a long answer does not win by size).
    typicality = [
        sum(frequency[stem] - 1 for stem in found) / math.sqrt(len(found)) if found else 0.0
        for found in per_text
    ]
    # Equals by typicality and length are ranked by their text, not by when they came: the
    # same answers give the same quotes in whatever order they were stored.
    ranked = sorted(
        range(len(texts)), key=lambda i: (-typicality[i], len(texts[i][0]), texts[i][0], i)
    )
    chosen: list[str] = []
    for index in ranked:
        quote = texts[index][0].strip()
        if quote and quote not in chosen and (every or typicality[index] > 0):
            chosen.append(quote)
        if len(chosen) == quotes and not every:
            break
    return TextSummary(len(texts), themes, tuple(chosen))
