"""The journey file: a TOML file a facilitator can read and edit, loaded and checked strictly.

A broken file is refused with the line and the key at fault, so that an edit never
reaches participants half-valid.
"""

from __future__ import annotations

import re
import string
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from flows.engine import PEERS_WAIT
from flows.journey import (
    BETWEEN,
    GROUP,
    LANGUAGES,
    OTHERS,
    OWN,
    RESERVED_STATES,
    STATEMENT_KINDS,
    Category,
    Journey,
    Moment,
    Option,
    Peers,
    Prompt,
    thin_pair,
)
from flows.kinds import StatementKind
from flows.toml_lines import KeyLines, KeyPath, dotted

JOURNEYS_DIR = Path(__file__).parent / "journeys"
DEFAULT_JOURNEY = JOURNEYS_DIR / "cooperation.toml"
_MAX_SLUG = 16
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,15}$")
_PHASE1_KINDS = ("scale", "text", "choice")
_PHASE2_KINDS = ("text", "choice", "multi", "list")
_PROMPT_KEYS = {
    *("id", "kind", "optional", "text", "low", "high", "options", "other", "statement"),
    "retired",
    "listed",
}
_RECALL_KEYS = {"recall", "text_none"}  # a deferred moment's prompt only
_ABOUT_KEYS = {"synthesis_title", "gradient"}  # a [peers.about] prompt's only
_MAX_TEXT = 1000
_MAX_TITLE = 80
_MAX_LABEL = 40
_MAX_SCALE_LABEL = 24


class JourneyError(ValueError):
    """The journey file is not valid; `str()` says where (file, line, key) and what is wrong."""

    def __init__(self, source: str, line: int | None, key: str, problem: str) -> None:
        self.source, self.line, self.key, self.problem = source, line, key, problem
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {key}: {problem}")


def load_journey(path: Path | str) -> Journey:
    """Read and validate a journey file; raise `JourneyError` on the first problem."""
    path = Path(path)
    source = path.name
    try:
        raw_text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise JourneyError(source, None, "(file)", f"cannot be read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        line = raw_bytes_line(path, error.start)
        raise JourneyError(source, line, "(file)", "is not valid UTF-8") from error
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        raise JourneyError(
            source, int(match.group(1)) if match else None, "(syntax)", str(error)
        ) from error
    return _Validator(source, KeyLines(raw_text)).journey(data)


def raw_bytes_line(path: Path, offset: int) -> int:
    """The line holding byte `offset` of the file."""
    return path.read_bytes()[:offset].count(b"\n") + 1


@cache
def default_journey() -> Journey:
    """The journey shipped with coopbot, loaded once."""
    return load_journey(DEFAULT_JOURNEY)


class _Validator:
    def __init__(self, source: str, key_lines: KeyLines) -> None:
        self.source = source
        self.key_lines = key_lines
        # A retired prompt's id -> the prompt a participant who stood at it goes on from.
        self.replaced: dict[str, str] = {}

    def fail(self, path: KeyPath, problem: str) -> JourneyError:
        return JourneyError(self.source, self.key_lines.line_of(path), dotted(path), problem)

    def journey(self, data: dict[str, Any]) -> Journey:
        self.only(data, (), {"journey", "moments", "categories", "peers"})
        head = self.table(data, ("journey",))
        self.only(head, ("journey",), {"id", "version", "title"})
        moments = tuple(
            self.moment(item, ("moments", index))
            for index, item in enumerate(self.array(data, ("moments",)))
        )
        self.unique([(m.id, ("moments", i, "id")) for i, m in enumerate(moments)], "moment id")
        for index, moment in enumerate(moments, start=1):
            if moment.number != index:
                raise self.fail(
                    ("moments", index - 1, "number"),
                    f"moments must be numbered 1, 2, 3… in order; expected {index}",
                )
        categories = tuple(
            self.category(item, ("categories", index))
            for index, item in enumerate(self.array(data, ("categories",)))
        )
        self.unique(
            [(c.id, ("categories", i, "id")) for i, c in enumerate(categories)], "category id"
        )
        peers = self.peers(data["peers"], ("peers",), categories) if "peers" in data else None
        prompt_ids: list[tuple[str, KeyPath]] = [
            (p.id, ("moments", i, "prompts", j, "id"))
            for i, m in enumerate(moments)
            for j, p in enumerate((*m.prompts, *m.retired))
        ]
        if peers is not None:
            for section, prompts in (
                ("own", peers.own),
                ("closing", peers.closing),
                ("own", peers.retired),
            ):
                prompt_ids += [(p.id, ("peers", section, j, "id")) for j, p in enumerate(prompts)]
            prompt_ids += [
                (f"{p.id}_{c.id}", ("peers", "about", "prompts", j, "id"))
                for j, p in enumerate(peers.about)
                for c in categories
            ]
        self.unique(prompt_ids, "prompt id")
        return Journey(
            id=self.slug(head, ("journey", "id")),
            version=self.integer(head, ("journey", "version")),
            title=self.texts(head, ("journey", "title")),
            moments=moments,
            categories=categories,
            peers=peers,
            replaced={**self.replaced, **_phase1_replaced(moments, peers is not None)},
        )

    def moment(self, data: Any, path: KeyPath) -> Moment:
        data = self.as_table(data, path)
        self.only(data, path, {"id", "number", "title", "intro", "deferred", "prompts"})
        number = self.integer(data, (*path, "number"))
        deferred = self.boolean(data, (*path, "deferred"), default=False)
        prompts = self.in_use(
            [
                self.prompt(
                    item,
                    (*path, "prompts", index),
                    number,
                    _PHASE1_KINDS,
                    frozenset({OTHERS}),
                    deferred=deferred,
                )
                for index, item in enumerate(self.array(data, (*path, "prompts")))
            ],
            (*path, "prompts"),
        )
        return Moment(
            id=self.slug(data, (*path, "id")),
            number=number,
            title=self.texts(data, (*path, "title"), limit=_MAX_TITLE),
            intro=self.texts(data, (*path, "intro")),
            deferred=deferred,
            prompts=tuple(p for p in prompts if not p.retired),
            retired=tuple(p for p in prompts if p.retired),
            in_file_order=tuple(prompts),
        )

    def peers(self, data: Any, path: KeyPath, categories: tuple[Category, ...]) -> Peers:
        data = self.as_table(data, path)
        self.only(data, path, {"title", "intro", "own", "about", "closing"})
        own_only, both = frozenset({OWN}), frozenset({OWN, GROUP})
        about = self.table(data, (*path, "about"))
        self.only(about, (*path, "about"), {"intro", "prompts"})

        def prompts(section: KeyPath, placeholders: frozenset[str]) -> list[Prompt]:
            in_about = section[-1] == "prompts"
            container = about if in_about else data
            made = [
                self.prompt(item, (*section, index), 0, _PHASE2_KINDS, placeholders, about=in_about)
                for index, item in enumerate(self.array(container, section))
            ]
            return self.in_use(made, section, phase=2, retiring=not in_about)

        own, closing = prompts((*path, "own"), own_only), prompts((*path, "closing"), own_only)
        about_prompts = tuple(prompts((*path, "about", "prompts"), both))
        gradients = [index for index, template in enumerate(about_prompts) if template.gradient]
        if len(gradients) > 1:
            raise self.fail(
                (*path, "about", "prompts", gradients[1], "gradient"),
                f"only one prompt can be the relation gradient; prompts[{gradients[0]}] already is",
            )
        longest = max(len(c.id) for c in categories)
        for index, template in enumerate(about_prompts):
            if len(template.id) + 1 + longest > _MAX_SLUG:
                raise self.fail(
                    (*path, "about", "prompts", index, "id"),
                    f"too long: with '_' and a category id it must fit in {_MAX_SLUG} characters",
                )
            if template.options and (pair := thin_pair(template, categories)):
                where = (*path, "about", "prompts", index, "options")
                raise self.fail(where, f"fewer than 2 options are offered to {pair} (between)")
        return Peers(
            title=self.texts(data, (*path, "title"), limit=_MAX_TITLE),
            intro=self.texts(data, (*path, "intro"), placeholders=own_only),
            about_intro=self.texts(about, (*path, "about", "intro"), placeholders=both),
            own=tuple(p for p in own if not p.retired),
            about=about_prompts,
            closing=tuple(p for p in closing if not p.retired),
            retired=tuple(p for p in (*own, *closing) if p.retired),
        )

    def in_use(
        self, prompts: list[Prompt], path: KeyPath, *, phase: int = 1, retiring: bool = True
    ) -> list[Prompt]:
        """Check a list of prompts with its retired ones. In phase 2, a participant who
        stood at a retired prompt goes on from the next prompt of its list still asked, or
        else the last (phase 1: `_phase1_replaced`)."""
        asked = [p for p in prompts if not p.retired]
        if not asked:
            raise self.fail(path, "at least one prompt must not be retired")
        for index, prompt in enumerate(prompts):
            if prompt.retired and not retiring:
                raise self.fail(
                    (*path, index, "retired"), "a [peers.about] prompt cannot be retired"
                )
            if prompt.retired and phase == 2:
                after = [p for p in prompts[index + 1 :] if not p.retired]
                self.replaced[prompt.id] = (after or asked[-1:])[0].id
        return prompts

    def prompt(
        self,
        data: Any,
        path: KeyPath,
        moment_number: int,
        kinds: tuple[str, ...],
        placeholders: frozenset[str],
        *,
        about: bool = False,
        deferred: bool = False,
    ) -> Prompt:
        """A prompt; `about` for a [peers.about] prompt, the only kind that may name itself
        for the synthesis and be the relation gradient; `deferred` for a prompt of a
        deferred moment, the only kind that may recall the participant's statements."""
        data = self.as_table(data, path)
        self.only(data, path, _PROMPT_KEYS | _ABOUT_KEYS | _RECALL_KEYS)
        for extra in sorted(_ABOUT_KEYS & data.keys()):
            if not about:
                raise self.fail((*path, extra), "only a [peers.about] prompt takes this key")
        for extra in sorted(_RECALL_KEYS & data.keys()):
            if not deferred:
                raise self.fail((*path, extra), "only a prompt of a deferred moment takes this key")
        prompt_id = self.slug(data, (*path, "id"))
        if prompt_id in RESERVED_STATES:
            raise self.fail((*path, "id"), f"{prompt_id!r} is reserved; choose another id")
        kind = data.get("kind")
        if kind not in kinds:
            raise self.fail(
                (*path, "kind"), f"must be one of {', '.join(repr(k) for k in kinds)}, not {kind!r}"
            )
        low = high = {}
        options: tuple[Option, ...] = ()
        if kind == "scale":
            low = self.texts(data, (*path, "low"), limit=_MAX_SCALE_LABEL)
            high = self.texts(data, (*path, "high"), limit=_MAX_SCALE_LABEL)
        else:
            for extra in ("low", "high"):
                if extra in data:
                    raise self.fail((*path, extra), "only a 'scale' prompt has low/high labels")
        if kind in ("choice", "multi"):
            items = self.array(data, (*path, "options"))
            if not 2 <= len(items) <= 8:
                raise self.fail((*path, "options"), "a choice needs between 2 and 8 options")
            options = tuple(
                self.option(item, (*path, "options", index), about=about)
                for index, item in enumerate(items)
            )
            self.unique(
                [(o.id, (*path, "options", i, "id")) for i, o in enumerate(options)], "option id"
            )
        elif "options" in data:
            raise self.fail((*path, "options"), "only a 'choice' or 'multi' prompt has options")
        if "other" in data and kind != "multi":
            raise self.fail((*path, "other"), "only a 'multi' prompt takes other answers")
        statement: StatementKind | None = None
        if kind == "list":
            value = data.get("statement")
            if value not in STATEMENT_KINDS:
                allowed = " or ".join(repr(k.value) for k in STATEMENT_KINDS)
                raise self.fail((*path, "statement"), f"must be {allowed} (got {value!r})")
            statement = StatementKind(value)
        elif "statement" in data:
            raise self.fail((*path, "statement"), "only a 'list' prompt makes statements")
        recall: StatementKind | None = None
        if "recall" in data:
            value = data["recall"]
            if value not in STATEMENT_KINDS:
                allowed = " or ".join(repr(k.value) for k in STATEMENT_KINDS)
                raise self.fail((*path, "recall"), f"must be {allowed} (got {value!r})")
            if kind != "text":
                raise self.fail((*path, "recall"), "only a 'text' prompt recalls statements")
            if "text_none" not in data:
                raise self.fail(
                    (*path, "text_none"),
                    "missing: a prompt that recalls statements needs its text for those "
                    "who wrote none",
                )
            recall = StatementKind(value)
        elif "text_none" in data:
            raise self.fail((*path, "text_none"), "only a prompt with 'recall' takes this key")
        gradient = self.boolean(data, (*path, "gradient"), default=False)
        if gradient and kind != "choice":
            raise self.fail(
                (*path, "gradient"), "only a 'choice' prompt, whose options run in order, can be"
            )
        return Prompt(
            id=prompt_id,
            kind=kind,
            optional=self.boolean(data, (*path, "optional"), default=False),
            text=self.texts(data, (*path, "text"), placeholders=placeholders),
            moment_number=moment_number,
            low=low,
            high=high,
            options=options,
            other=self.boolean(data, (*path, "other"), default=False),
            statement=statement,
            synthesis_title=self.texts(data, (*path, "synthesis_title"), limit=_MAX_TITLE)
            if "synthesis_title" in data
            else {},
            gradient=gradient,
            recall=recall,
            text_none=self.texts(data, (*path, "text_none"), placeholders=placeholders)
            if recall is not None
            else {},
            retired=self.boolean(data, (*path, "retired"), default=False),
            listed=self.listed(data, path, kind),
        )

    def listed(self, data: dict[str, Any], path: KeyPath, kind: str) -> bool:
        if (listed := self.boolean(data, (*path, "listed"), default=False)) and kind != "text":
            raise self.fail((*path, "listed"), "only a 'text' prompt's answers can be listed")
        return listed

    def option(self, data: Any, path: KeyPath, *, about: bool = False) -> Option:
        """An option; only a [peers.about] prompt's may be offered to some pairs only."""
        data = self.as_table(data, path)
        self.only(data, path, {"id", "label", "between"} if about else {"id", "label"})
        between = data.get("between")
        if between is not None and between not in BETWEEN:
            allowed = " or ".join(repr(b) for b in BETWEEN)
            raise self.fail((*path, "between"), f"must be {allowed} (got {between!r})")
        return Option(
            id=self.slug(data, (*path, "id")),
            label=self.texts(data, (*path, "label"), limit=_MAX_LABEL),
            between=between,
        )

    def category(self, data: Any, path: KeyPath) -> Category:
        data = self.as_table(data, path)
        self.only(data, path, {"id", "label", "group", "public"})
        label = self.texts(data, (*path, "label"), limit=_MAX_LABEL)
        return Category(
            id=self.slug(data, (*path, "id")),
            label=label,
            group=self.texts(data, (*path, "group"), limit=_MAX_LABEL)
            if "group" in data
            else label,
            public=self.boolean(data, (*path, "public"), default=False),
        )

    # -- primitives -------------------------------------------------------------

    def only(self, data: dict[str, Any], path: KeyPath, allowed: set[str]) -> None:
        for key in data:
            if key not in allowed:
                raise self.fail(
                    (*path, key), f"unknown key; expected one of {', '.join(sorted(allowed))}"
                )

    def as_table(self, data: Any, path: KeyPath) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(path, "must be a table")
        return data

    def table(self, data: dict[str, Any], path: KeyPath) -> dict[str, Any]:
        if _leaf(path) not in data:
            raise self.fail(path, "missing")
        return self.as_table(data[_leaf(path)], path)

    def array(self, data: dict[str, Any], path: KeyPath) -> list[Any]:
        value = data.get(_leaf(path))
        if not isinstance(value, list) or not value:
            raise self.fail(path, "missing or empty: at least one entry is needed")
        return value

    def slug(self, data: dict[str, Any], path: KeyPath) -> str:
        value = data.get(_leaf(path))
        if not isinstance(value, str) or not _SLUG.match(value):
            raise self.fail(
                path,
                f"must be 1 to 16 characters of a-z, 0-9 and _, starting with a letter "
                f"(got {value!r})",
            )
        return value

    def integer(self, data: dict[str, Any], path: KeyPath) -> int:
        value = data.get(_leaf(path))
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise self.fail(path, f"must be a positive whole number (got {value!r})")
        return value

    def boolean(self, data: dict[str, Any], path: KeyPath, *, default: bool) -> bool:
        value = data.get(_leaf(path), default)
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false (got {value!r})")
        return value

    def texts(
        self,
        data: dict[str, Any],
        path: KeyPath,
        *,
        limit: int = _MAX_TEXT,
        placeholders: frozenset[str] = frozenset(),
    ) -> dict[str, str]:
        value = data.get(_leaf(path))
        if not isinstance(value, dict):
            raise self.fail(
                path, f"missing: give {' and '.join(f'{path[-1]}.{lang}' for lang in LANGUAGES)}"
            )
        self.only(value, path, set(LANGUAGES))
        result: dict[str, str] = {}
        for language in LANGUAGES:
            text = value.get(language)
            if not isinstance(text, str) or not text.strip():
                raise self.fail((*path, language), f"missing or empty {language} text")
            if len(text) > limit:
                raise self.fail(
                    (*path, language), f"{len(text)} characters; at most {limit} are allowed"
                )
            self.placeholders(text, (*path, language), placeholders)
            result[language] = text.strip()
        return result

    def placeholders(self, text: str, path: KeyPath, allowed: frozenset[str]) -> None:
        """Braces only around an allowed placeholder name, so that filling them in never fails."""
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        except ValueError as error:
            raise self.fail(path, f"unbalanced braces: {error}") from error
        for name in fields:
            if name not in allowed:
                expected = ", ".join("{" + n + "}" for n in sorted(allowed)) or "none"
                raise self.fail(path, f"unknown placeholder {{{name}}}; allowed here: {expected}")

    def unique(self, ids: list[tuple[str, KeyPath]], what: str) -> None:
        seen: set[str] = set()
        for value, path in ids:
            if value in seen:
                raise self.fail(path, f"duplicate {what} {value!r}")
            seen.add(value)


def _leaf(path: KeyPath) -> str:
    """The last key of a path into a table (never an array index)."""
    return str(path[-1])


def _phase1_replaced(moments: tuple[Moment, ...], peers: bool) -> dict[str, str]:
    """Each retired phase 1 prompt -> the next prompt asked during the workshop after it
    in the file (a retired prompt was asked during the workshop, even where its moment
    now comes later), or else what follows phase 1: the wait for phase 2, which lets
    them in at once when it is open (the last live prompt without a phase 2)."""
    in_order = [(p, m) for m in moments for p in m.in_file_order]
    live = [p for p, m in in_order if not p.retired and not m.deferred]
    replaced: dict[str, str] = {}
    for index, (prompt, _) in enumerate(in_order):
        if prompt.retired and live:
            after = [p for p, m in in_order[index + 1 :] if not p.retired and not m.deferred]
            replaced[prompt.id] = after[0].id if after else PEERS_WAIT if peers else live[-1].id
    return replaced
