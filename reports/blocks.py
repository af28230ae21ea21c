"""What a document of the synthesis is made of, in words but in no format: sections of
blocks that `reports.document` fills in and `reports.messages` and `reports.markdown` lay
out, the one as lines of a message, the other often as a table.

Every text here is HTML-safe (escaped; no tags), except what participants wrote (quotes,
statements) and the resolutions' texts, kept as written so that each format escapes and
cuts them its own way.
Figures are kept as numbers, for each format to write in the document's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.kinds import Phase
from flows.synthesis import ScaleSummary, Tally


@dataclass(frozen=True)
class Title:
    """A heading: `level` 2 for a part of the synthesis, 3 under it, 4 under that."""

    text: str
    level: int
    icon: str = ""  # shown before the words in a message
    detail: str = ""  # what was asked, after the words
    quiet: bool = False  # in a message, a plain line that belongs to the paragraph above


@dataclass(frozen=True)
class Heading:
    """The start of a part: its title, and maybe what the part is about."""

    titles: tuple[Title, ...]


@dataclass(frozen=True)
class CountRow:
    label: str
    total: int
    by_group: tuple[int, ...]  # in the order of `Counts.groups`


@dataclass(frozen=True)
class Counts:
    """How many people reached each row (a stage, a moment), in all and per group."""

    title: Title
    column: str  # what a row is
    everyone: str  # the name of the total
    groups: tuple[str, ...]
    rows: tuple[CountRow, ...]


@dataclass(frozen=True)
class Note:
    """A line that stands where the figures would: too few answered."""

    text: str


@dataclass(frozen=True)
class Scales:
    """A question answered from 1 to 5: per group (All last), how many gave each answer."""

    rows: tuple[tuple[str, ScaleSummary], ...]


@dataclass(frozen=True)
class Choices:
    """A question with one answer each: per group (All last), how many chose each option."""

    options: tuple[str, ...]
    groups: tuple[tuple[str, tuple[int, ...]], ...]  # counts in the order of `options`


@dataclass(frozen=True)
class Summary:
    """Free texts: how many, the themes they share, and the most typical of them."""

    title: Title | None
    count: str  # "12 answers"
    themes: str  # the themes line, or that no theme is shared
    themed: bool
    quotes: tuple[str, ...]  # as written

    @property
    def glance(self) -> str:
        """The summary in one line, without quotes: its themes, or how many there are."""
        return self.themes if self.themed else self.count


Figure = Scales | Choices | Summary | Note


@dataclass(frozen=True)
class Question:
    """A question of phase 1 and what the group answered."""

    moment: str  # "Moment 1 · Arrival" above the first question of a moment, else ""
    moment_number: int
    text: str
    figure: Figure


@dataclass(frozen=True)
class Questions:
    """Phase 1's questions, in the journey's order."""

    questions: tuple[Question, ...]


@dataclass(frozen=True)
class PairCell:
    source: int  # index in `Pairs.sources`
    target: int  # index in `Pairs.targets`
    name: str  # "Elected official → Officer"
    counts: tuple[int, ...]  # in the order of `Pairs.options`


@dataclass(frozen=True)
class Pairs:
    """A closed question every group answered about each other: per (from, to) pair, how
    many chose each option. With `single`, each answered with one option."""

    title: Title
    single: bool
    options: tuple[str, ...]
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    cells: tuple[PairCell, ...]  # by source, then target
    empty: str  # what to say when no pair has enough answers


@dataclass(frozen=True)
class Summaries:
    """One summary per group or pair (requests, commitments), or what to say if none."""

    title: Title
    empty: str
    items: tuple[Summary, ...]


@dataclass(frozen=True)
class Voted:
    """A statement of the agora and its votes."""

    number: int
    heading: str  # its kind and whom it comes from
    kind: str
    between: str  # its pair of groups, or the group it comes from
    text: str  # as written
    overall: Tally
    by_group: tuple[tuple[str, Tally], ...]
    consensus: bool
    divisive: bool
    uncertain: bool


@dataclass(frozen=True)
class Resolved:
    """A resolution the room recorded: what, who carries it, by when, and from which
    statement."""

    number: int
    text: str  # as the facilitator wrote it
    carrier: str  # a category's name or the name typed; "" if nobody carries it yet
    due: str  # the date in the document's language, or ""
    statement: int | None  # the number of the statement it came from


@dataclass(frozen=True)
class Agora:
    """The resolutions recorded, every statement with enough votes, and the three lists
    drawn from them."""

    title: Title
    everyone: str  # the name of the overall tally
    min_votes: int
    groups: tuple[str, ...]  # every group with a tally on some statement
    resolutions: tuple[Resolved, ...]  # recorded by the room, by number
    statements: tuple[Voted, ...]  # by number
    agreed: tuple[Voted, ...]  # the consensus statements, the most broadly agreed first
    divisive: tuple[Voted, ...]
    uncertain: tuple[Voted, ...]


Block = Heading | Counts | Questions | Summary | Pairs | Summaries | Agora


@dataclass(frozen=True)
class Section:
    """The blocks of one phase, so that a phase's synthesis can be sent on its own."""

    phase: Phase
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    language: str
    title: str
    notes: tuple[str, ...]  # said under the title: what the anonymity threshold hid
    sections: tuple[Section, ...]
