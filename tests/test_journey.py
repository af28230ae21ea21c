"""The journey file: the shipped one is complete; a broken one is refused precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.journey import LANGUAGES
from flows.journey_file import DEFAULT_JOURNEY, JourneyError, default_journey, load_journey


def test_shipped_journey_has_nine_moments_and_four_categories() -> None:
    journey = default_journey()
    assert [m.number for m in journey.moments] == list(range(1, 10))
    # The nourishing feedback (8) comes after the collective part, with the décantation (9).
    assert [m.deferred for m in journey.moments] == [False] * 7 + [True, True]
    assert len(journey.categories) == 4
    kinds = {p.kind for p in journey.live_prompts()}
    assert kinds == {"scale", "text", "choice"}
    assert all(m.prompts for m in journey.moments)


def test_shipped_journey_has_a_peer_exchange_for_each_category() -> None:
    journey = default_journey()
    assert journey.peers is not None
    for category in journey.categories:
        prompts = journey.peer_prompts(category.id)
        ids = [p.id for p in prompts]
        assert len(ids) == len(set(ids)) == 16
        about = {p.about for p in prompts if p.about}
        assert about == {c.id for c in journey.categories} - {category.id}
        kinds = {p.template_id: p.kind for p in prompts if p.template_id}
        assert kinds == {"rel": "choice", "obs": "multi", "lev": "multi", "req": "list"}
        assert {p.statement for p in prompts if p.kind == "list"} == {"request", "commitment"}
    # Every text reads with its placeholders filled, in both languages.
    for _, texts in journey.all_texts():
        for text in texts.values():
            text.format(own="X", group="Y", others="Z")


def test_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    path = _broken(tmp_path, "relation entre {own} et {group}", "relation entre {own} et {them}")
    with pytest.raises(JourneyError) as caught:
        load_journey(path)
    assert "unknown placeholder {them}" in caught.value.problem
    assert caught.value.line == _line_of(path, "{them}")


def test_a_list_prompt_needs_its_statement_kind(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'statement = "request"\ntext.fr', 'statement = "wish"\ntext.fr')
    with pytest.raises(JourneyError) as caught:
        load_journey(path)
    assert caught.value.key == "peers.about.prompts[3].statement"
    assert caught.value.line == _line_of(path, 'statement = "wish"')


def test_an_about_prompt_id_must_leave_room_for_the_category(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'id = "obs"', 'id = "obstacles_now"')
    with pytest.raises(JourneyError, match="too long"):
        load_journey(path)


def test_about_prompts_name_themselves_for_the_synthesis() -> None:
    peers = default_journey().peers
    assert peers is not None
    about = {prompt.id: prompt for prompt in peers.about}
    assert [prompt.id for prompt in peers.about if prompt.gradient] == ["rel"]
    assert about["obs"].synthesis_title == {
        "fr": "Obstacles\u00a0: ce qui freine, les trois les plus choisis",
        "en": "Obstacles: what gets in the way, the three most chosen",
    }
    assert about["req"].synthesis_title == {}  # named by its id in the synthesis
    assert not any(prompt.synthesis_title or prompt.gradient for prompt in peers.own)


@pytest.mark.parametrize(
    ("old", "new", "key", "problem", "at"),
    [
        (
            'id = "p2_role"\n',
            'id = "p2_role"\ngradient = true\n',
            "peers.own[0].gradient",
            "only a [peers.about] prompt",
            ("gradient = true", 2),  # after the file's comment, the first
        ),
        (
            'synthesis_title.en = "Obstacles',
            'synthesis_title.de = "Obstacles',
            "peers.about.prompts[1].synthesis_title.de",
            "unknown key",
            ("synthesis_title.de", 1),
        ),
        (
            'id = "obs"\n',
            'id = "obs"\ngradient = true\n',
            "peers.about.prompts[1].gradient",
            "only a 'choice' prompt",
            ("gradient = true", 3),  # after the comment and the relation prompt's
        ),
        (
            'id = "lev"\nkind = "multi"\noptional = true\nother = true\n',
            'id = "lev"\nkind = "choice"\noptional = true\ngradient = true\n',
            "peers.about.prompts[2].gradient",
            "only one prompt can be the relation gradient",
            ("gradient = true", 3),
        ),
    ],
)
def test_synthesis_title_and_gradient_are_checked(
    tmp_path: Path, old: str, new: str, key: str, problem: str, at: tuple[str, int]
) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(JourneyError) as caught:
        load_journey(path)
    assert caught.value.key == key
    assert problem in caught.value.problem
    assert caught.value.line == _line_of(path, *at)


def test_every_journey_text_exists_in_both_languages() -> None:
    missing = [
        (key, language)
        for key, texts in default_journey().all_texts()
        for language in LANGUAGES
        if not texts.get(language, "").strip()
    ]
    assert missing == []


def _broken(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = DEFAULT_JOURNEY.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    hits = [n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def test_missing_translation_names_the_line_and_key(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'text.en = "In a sentence or two', 'text.xx = "In a sentence or two')
    with pytest.raises(JourneyError) as caught:
        load_journey(path)
    error = caught.value
    assert error.key == "moments[0].prompts[1].text.xx"
    assert error.line == _line_of(path, "text.xx")
    assert "unknown key" in str(error)
    assert str(error).startswith(f"broken.toml:{error.line}: ")


def test_missing_english_text_is_reported_at_its_prompt(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'text.en = "In a sentence or two', '# removed "')
    with pytest.raises(JourneyError) as caught:
        load_journey(path)
    assert caught.value.key == "moments[0].prompts[1].text.en"
    assert "missing or empty en text" in caught.value.problem
    # The line of the prompt's text table (its French text), the closest known place.
    assert caught.value.line == _line_of(path, 'text.fr = "En une ou deux phrases')


def test_bad_kind_in_a_later_moment(tmp_path: Path) -> None:
    path = _broken(
        tmp_path, 'id = "m5_shaken"\nkind = "scale"', 'id = "m5_shaken"\nkind = "slider"'
    )
    with pytest.raises(JourneyError) as caught:
        load_journey(path)
    # The index counts every prompt of the file, retired ones included (m5_factor).
    assert caught.value.key == "moments[4].prompts[2].kind"
    assert caught.value.line == _line_of(path, 'kind = "slider"')
    assert "'slider'" in caught.value.problem


def test_duplicate_prompt_id(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'id = "m2_person"', 'id = "m1_present"')
    with pytest.raises(JourneyError) as caught:
        load_journey(path)
    assert "duplicate prompt id 'm1_present'" in str(caught.value)
    assert caught.value.line == _line_of(path, 'id = "m1_present"', occurrence=2)


def test_unknown_language_in_an_option_label(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'id = "distant"', 'id = "distant"\nlabel.zz = "x"')
    with pytest.raises(JourneyError) as caught:
        load_journey(path)
    assert caught.value.key.endswith("options[0].label.zz")
    assert caught.value.line == _line_of(path, 'label.zz = "x"')


def test_syntax_error_gives_its_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'title.fr = "Lien"', 'title.fr = "Lien')
    with pytest.raises(JourneyError) as caught:
        load_journey(path)
    assert caught.value.key == "(syntax)"
    assert caught.value.line == _line_of(path, 'title.fr = "Lien')


def test_moment_numbers_must_follow(tmp_path: Path) -> None:
    path = _broken(tmp_path, "number = 3", "number = 4")
    with pytest.raises(JourneyError) as caught:
        load_journey(path)
    assert caught.value.key == "moments[2].number"
    assert "expected 3" in caught.value.problem


def test_reserved_state_name_is_refused(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'id = "m1_present"', 'id = "done"')
    with pytest.raises(JourneyError, match="reserved"):
        load_journey(path)


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[journey]\nid = "x"\ntitle.fr = "Dispon\xe9bilit\xe9"\n')
    with pytest.raises(JourneyError) as caught:
        load_journey(path)
    assert caught.value.line == 3 and "UTF-8" in caught.value.problem


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JourneyError, match="cannot be read"):
        load_journey(tmp_path / "nowhere.toml")


def test_the_ninth_moment_asks_about_commitments_with_a_text_for_those_without() -> None:
    journey = default_journey()
    deferred = journey.deferred_prompts()
    ninth = [p.id for p in deferred if p.moment_number == 9]
    assert ninth == ["m9_stays", "m9_commitments", "m9_settled"]
    commitments = journey.prompt("m9_commitments")
    assert commitments is not None and commitments.recall == "commitment"
    assert commitments.optional and commitments.kind == "text"
    assert set(commitments.text_none) == {"fr", "en"}
    assert "\u202f?" in commitments.text["fr"] and "\u00a0:" in commitments.text["fr"]
    # Its answers stay readable: the prompt is found by the id they are stored under.
    assert journey.prompt("m9_settled") is deferred[-1]


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        ('recall = "commitment"\n', 'recall = "wish"\n', "recall", "must be"),
        ('recall = "commitment"\n', "", "text_none", "only a prompt with 'recall'"),
        ('text_none.fr = "Vous', '# text_none.fr = "Vous', "text_none", "missing"),
        ('id = "m1_present"\n', 'id = "m1_present"\nrecall = "commitment"\n', "recall", "deferred"),
    ],
)
def test_recall_is_checked(tmp_path: Path, old: str, new: str, key: str, problem: str) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(JourneyError) as caught:
        load_journey(path)
    assert key in caught.value.key and problem in caught.value.problem
