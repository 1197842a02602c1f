"""Triage: the likely escalation path for an inquiry's words, with its reason. Pure, no database."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caredesk.tickets.triage import suggest

MODEL = tomllib.loads((Path(__file__).resolve().parents[1] / "service-model.toml").read_text())
PATHS = {key: t["triage_keywords"] for key, t in MODEL["ticket_types"].items() if t["escalation"]}
CATEGORIES = {key: (c["ticket_type"], c["keywords"]) for key, c in MODEL["categories"].items()}


def guide_suggest(text: str) -> Any:
    return suggest(text, paths=PATHS, categories=CATEGORIES)


@pytest.mark.parametrize(
    ("text", "to", "category"),
    [
        # The guide: "If something is broken, likely escalation path is Technical Support"
        ("The dialer is broken since this morning", "technical-support", None),
        ("NA4 outage: agents cannot log in", "technical-support", None),
        ("Campaign uploads are not working", "technical-support", None),
        ("Our dialer crashed twice today", "technical-support", None),
        ("We keep getting errors on the API", "technical-support", None),
        # "If something needs to be changed or created, likely … Project Coordination"
        ("Please change the caller ID on campaign 12", "project-coordination", "platform-change"),
        ("Can you create a new disposition list?", "project-coordination", "creation-request"),
        ("We would like to add a new product", "project-coordination", "creation-request"),
        ("When can we upgrade to LiveVox 12?", "project-coordination", "platform-upgrade"),
        ("Training for our new supervisors", "project-coordination", "complex-self-service"),
        ("How do I export the call report?", "project-coordination", "complex-self-service"),
        ("Need step-by-step guidance on scripts", "project-coordination", "complex-self-service"),
        # Customer Care can likely complete it.
        ("What is my account number?", None, None),
        ("Please send last month's invoice to our new address", None, None),
        ("", None, None),
    ],
)
def test_the_guides_paths(text: str, to: str | None, category: str | None) -> None:
    found = guide_suggest(text)
    assert (found.to, found.category) == (to, category)
    assert found.reason
    for keyword in found.keywords:
        assert f'"{keyword}"' in found.reason


def test_broken_outranks_a_change_on_a_tie() -> None:
    # One keyword each: the path listed first (Technical Support) wins.
    assert guide_suggest("The upgrade is broken").to == "technical-support"


def test_more_hits_win() -> None:
    text = "Please change and upgrade; the old one is broken"
    assert guide_suggest(text).to == "project-coordination"


def test_whole_words_only() -> None:
    # "add" is not in "address", "train" not in "restraint", "error" not in "terrorific".
    assert guide_suggest("Update the address; restraint; terrorific").to is None


def test_case_does_not_matter() -> None:
    assert guide_suggest("SYSTEM OUTAGE ON NA3").to == "technical-support"


# --- properties ----------------------------------------------------------------------------

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8)
keyword_lists = st.lists(st.one_of(words, st.text(min_size=1, max_size=6)), min_size=0, max_size=5)
paths_strategy = st.dictionaries(words, keyword_lists, max_size=3)


def _is_word_hit(text: str, keyword: str) -> bool:
    pattern = rf"(?<!\w){re.escape(keyword.lower())}(?:s|es|d|ed|ing)?(?!\w)"
    return bool(keyword.strip()) and re.search(pattern, text.lower()) is not None


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200), paths=paths_strategy, data=st.data())
def test_suggestion_is_explained_by_its_keywords(
    text: str, paths: dict[str, list[str]], data: st.DataObject
) -> None:
    categories = (
        {
            f"cat-{i}": (data.draw(st.sampled_from(sorted(paths))), data.draw(keyword_lists))
            for i in range(data.draw(st.integers(0, 3)))
        }
        if paths
        else {}
    )
    found = suggest(text, paths=paths, categories=categories)
    any_hit = any(_is_word_hit(text, k) for ks in paths.values() for k in ks)
    assert (found.to is not None) == any_hit
    if found.to is None:
        assert found.category is None and found.keywords == ()
        return
    assert found.to in paths
    assert found.keywords
    assert set(found.keywords) <= set(paths[found.to])
    assert all(_is_word_hit(text, k) for k in found.keywords)
    # No path has more hits than the one chosen.
    best = len({k for k in paths[found.to] if _is_word_hit(text, k)})
    for ks in paths.values():
        assert len({k for k in ks if _is_word_hit(text, k)}) <= best
    if found.category is not None:
        assert categories[found.category][0] == found.to


@settings(max_examples=200, deadline=None)
@given(
    before=st.text(alphabet="abc .,!?\n", max_size=30),
    after=st.text(alphabet="abc .,!?\n", max_size=30),
    keyword=st.sampled_from([k for ks in PATHS.values() for k in ks]),
)
def test_any_keyword_of_the_model_suggests_a_path(before: str, after: str, keyword: str) -> None:
    text = f"{before} {keyword.upper()} {after}"
    found = guide_suggest(text)
    assert found.to is not None
    assert keyword in found.keywords or found.to != next(
        path for path, ks in PATHS.items() if keyword in ks
    )


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="abcdefghij klmnop.,", max_size=120))
def test_it_is_a_function_of_its_input(text: str) -> None:
    assert guide_suggest(text) == guide_suggest(text)
    assert guide_suggest(text) == guide_suggest(text.upper())
