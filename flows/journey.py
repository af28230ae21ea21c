"""The workshop content as the rest of the code reads it: moments, prompts, categories and
the peer exchange, in both languages. `flows.journey_file` loads it from its TOML file."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from flows.kinds import StatementKind

LANGUAGES = ("fr", "en")
RESERVED_STATES = frozenset({"consent", "category", "language", "peers_wait", "done"})
PromptKind = Literal["scale", "text", "choice", "multi", "list"]
# What each message of a "list" prompt can become (proposals come only from the agora).
STATEMENT_KINDS = (StatementKind.REQUEST, StatementKind.COMMITMENT)
# Phase 2 texts name categories through these placeholders, filled in at display time;
# a phase 1 text may name the participant's three other categories ("{others}").
OWN, GROUP, OTHERS = "own", "group", "others"
# Which pairs of categories an option of a [peers.about] prompt is offered to: some
# relations exist only between a public body and a private actor (a public contract), and
# between two public bodies the relation is vertical, from one level to another.
BETWEEN = ("public-private", "public-public")


@dataclass(frozen=True)
class Option:
    id: str
    label: Mapping[str, str]
    between: str | None = None  # one of BETWEEN; None: offered to every pair

    def offered(self, one: Category, other: Category) -> bool:
        """Whether the option is offered to `one` answering about `other`."""
        if self.between is None:
            return True
        if one.public and other.public:
            return self.between == "public-public"
        return self.between == "public-private" and (one.public or other.public)


@dataclass(frozen=True)
class Prompt:
    id: str
    kind: PromptKind
    optional: bool
    text: Mapping[str, str]
    moment_number: int  # 0 for a phase 2 prompt
    low: Mapping[str, str] = field(default_factory=dict)
    high: Mapping[str, str] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    other: bool = False  # a "multi" prompt also takes a typed answer of the participant's own
    statement: StatementKind | None = None  # what each message of a "list" prompt becomes
    about: str | None = None  # phase 2: the other category this prompt asks about
    template_id: str | None = None  # phase 2: the prompt of the "about" block it was made from
    # Phase 2 "about" prompts only: how the synthesis names the question for a reader who
    # does not have the questionnaire in mind, and whether its options are the relation
    # gradient (from the most distant relation to the closest), which the charts draw.
    synthesis_title: Mapping[str, str] = field(default_factory=dict)
    gradient: bool = False
    # A deferred moment's prompt may recall the participant's own statements of one kind
    # above its text (their commitments, days later); `text_none` is its text for a
    # participant who wrote none, so that nobody is asked about commitments they never made.
    recall: StatementKind | None = None
    text_none: Mapping[str, str] = field(default_factory=dict)
    # No longer asked: kept so that answers stored under its id are still named (a prompt
    # whose meaning changes gets a new id, and the old one is retired, never deleted).
    retired: bool = False
    # A text whose every answer the facilitators read in full (anonymised), not only its
    # themes and typical quotes: the rules the group proposes for its own frame.
    listed: bool = False

    @property
    def phase(self) -> int:
        return 1 if self.moment_number else 2

    def option(self, option_id: str) -> Option | None:
        return next((option for option in self.options if option.id == option_id), None)


@dataclass(frozen=True)
class Moment:
    id: str
    number: int
    title: Mapping[str, str]
    intro: Mapping[str, str]
    deferred: bool
    prompts: tuple[Prompt, ...]  # asked, in order
    retired: tuple[Prompt, ...] = ()  # asked by an earlier version of the journey
    in_file_order: tuple[Prompt, ...] = ()  # both, as the file lists them


@dataclass(frozen=True)
class Category:
    id: str
    label: Mapping[str, str]
    group: Mapping[str, str]  # the category as a group, as phase 2 texts name it
    public: bool = False  # a public body (elected officials, officers), not a private actor


@dataclass(frozen=True)
class Peers:
    """Phase 2: questions about one's own category, a block asked about each of the three
    others (its prompt ids get the category's id appended), then closing questions."""

    title: Mapping[str, str]
    intro: Mapping[str, str]
    about_intro: Mapping[str, str]
    own: tuple[Prompt, ...]
    about: tuple[Prompt, ...]
    closing: tuple[Prompt, ...]
    retired: tuple[Prompt, ...] = ()  # own or closing prompts of an earlier version

    def prompts_for(self, category_id: str, categories: tuple[Category, ...]) -> list[Prompt]:
        """The phase 2 prompts a participant of `category_id` is asked, in order, each
        "about" prompt with the options that fit the pair of categories."""
        asked = list(self.own)
        one = next((c for c in categories if c.id == category_id), None)
        for other in categories:
            if other.id != category_id:
                for template in self.about:
                    prompt = about_prompt(template, other.id)
                    if one is not None:
                        kept = tuple(o for o in prompt.options if o.offered(one, other))
                        prompt = replace(prompt, options=kept)
                    asked.append(prompt)
        return asked + list(self.closing)


def thin_pair(template: Prompt, categories: tuple[Category, ...]) -> str | None:
    """A pair of categories ("elu → agent") offered fewer than two of the "about" prompt
    `template`'s options once each option's `between` is applied, if any."""
    for one in categories:
        for other in categories:
            offered = [o for o in template.options if o.offered(one, other)]
            if one.id != other.id and len(offered) < 2:
                return f"{one.id} → {other.id}"
    return None


def about_prompt(template: Prompt, category_id: str) -> Prompt:
    """The "about" prompt `template` as asked about the category `category_id`, with all
    its options (what the synthesis and the export name)."""
    return replace(
        template,
        id=f"{template.id}_{category_id}",
        about=category_id,
        template_id=template.id,
    )


@dataclass(frozen=True)
class Journey:
    id: str
    version: int
    title: Mapping[str, str]
    moments: tuple[Moment, ...]
    categories: tuple[Category, ...]
    peers: Peers | None = None
    # A retired prompt's id -> the prompt a participant who stood at it goes on from.
    replaced: Mapping[str, str] = field(default_factory=dict)

    def live_prompts(self) -> list[Prompt]:
        """The phase 1 prompts asked during the workshop, in order (deferred moments come
        later)."""
        return [p for m in self.moments if not m.deferred for p in m.prompts]

    def deferred_prompts(self) -> list[Prompt]:
        """The prompts of the deferred moments (the décantation), in order: sent to each
        participant some days after they finished."""
        return [p for m in self.moments if m.deferred for p in m.prompts]

    def peer_prompts(self, category_id: str | None) -> list[Prompt]:
        """The phase 2 prompts for a participant of `category_id` (none without a category)."""
        if self.peers is None or self.category(category_id or "") is None:
            return []
        return self.peers.prompts_for(category_id or "", self.categories)

    def all_peer_prompts(self) -> list[Prompt]:
        """Every phase 2 prompt of any category, each once, in a stable order, with all
        its options."""
        if self.peers is None:
            return []
        peers = self.peers
        about = [
            about_prompt(template, category.id)
            for category in self.categories
            for template in peers.about
        ]
        return [*peers.own, *about, *peers.closing]

    def retired_prompts(self) -> list[Prompt]:
        """The prompts no longer asked, phase 1 then phase 2: their answers stay named."""
        retired = [p for m in self.moments for p in m.retired]
        return retired + list(self.peers.retired if self.peers else ())

    def prompt(self, prompt_id: str) -> Prompt | None:
        """Any prompt of either phase, retired ones included, by the id its answers are
        stored under."""
        for prompt in (
            *self.live_prompts(),
            *self.deferred_prompts(),
            *self.all_peer_prompts(),
            *self.retired_prompts(),
        ):
            if prompt.id == prompt_id:
                return prompt
        return None

    def moment(self, number: int) -> Moment:
        return next(m for m in self.moments if m.number == number)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def all_texts(self) -> Iterator[tuple[str, Mapping[str, str]]]:
        """Every translatable text with a key naming it (for completeness checks)."""
        yield "journey.title", self.title
        for m in self.moments:
            yield f"{m.id}.title", m.title
            yield f"{m.id}.intro", m.intro
            for p in (*m.prompts, *m.retired):
                yield f"{p.id}.text", p.text
                if p.text_none:
                    yield f"{p.id}.text_none", p.text_none
                if p.kind == "scale":
                    yield f"{p.id}.low", p.low
                    yield f"{p.id}.high", p.high
                for o in p.options:
                    yield f"{p.id}.{o.id}", o.label
        for c in self.categories:
            yield f"category.{c.id}", c.label
            yield f"category.{c.id}.group", c.group
        if self.peers is not None:
            yield "peers.title", self.peers.title
            yield "peers.intro", self.peers.intro
            yield "peers.about.intro", self.peers.about_intro
            peers = self.peers
            for p in (*peers.own, *peers.about, *peers.closing, *peers.retired):
                yield f"peers.{p.id}.text", p.text
                if p.synthesis_title:
                    yield f"peers.{p.id}.synthesis_title", p.synthesis_title
                for o in p.options:
                    yield f"peers.{p.id}.{o.id}", o.label
