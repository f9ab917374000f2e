"""Lexicon validation: a bad lexicon is refused with every problem named by its path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from telemetry.conversations.classify import (
    Classifier,
    LexiconError,
    default_lexicon,
    validate_lexicon,
)


def minimal() -> dict[str, Any]:
    return {
        "version": "t1",
        "endings": {"en_verb": ["", "s", "ed", "ing"]},
        "rules": [
            {
                "id": "v.kill",
                "label": "violence",
                "severity": "high",
                "forms": ["kill+en_verb you"],
            },
            {
                "id": "s.want_die",
                "label": "self_harm",
                "severity": "high",
                "near": [["want"], ["die"]],
                "window": 2,
            },
        ],
        "negatives": [{"id": "n.time", "labels": ["violence"], "forms": ["kill+en_verb you time"]}],
    }


def problems(data: object) -> dict[str, str]:
    with pytest.raises(LexiconError) as caught:
        validate_lexicon(data)
    return {p.path: p.message for p in caught.value.problems}


def test_a_minimal_lexicon_compiles_and_classifies() -> None:
    classifier = Classifier.from_lexicon(minimal())
    assert classifier.version == "t1"
    assert [h.rule_id for h in classifier.classify("I will k1lllll you")] == ["v.kill"]
    assert [h.rule_id for h in classifier.classify("I want to die")] == ["s.want_die"]
    assert classifier.classify("killed you time") == []  # the negative


def test_the_packaged_lexicon_is_valid() -> None:
    lexicon = validate_lexicon(default_lexicon())
    assert {rule.labels[0].value for rule in lexicon.rules} == {
        "self_harm",
        "drugs",
        "bullying",
        "grooming",
        "violence",
        "sexual",
    }


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [
        (lambda d: d["rules"][0].update(label="gambling"), "rules[0].label", "not one of"),
        (lambda d: d["rules"][0].update(severity="urgent"), "rules[0].severity", "not one of"),
        (lambda d: d["rules"][1].update(id="v.kill"), "rules[1].id", "used twice"),
        (lambda d: d["rules"][0].update(id="Bad Id"), "rules[0].id", "lower-case"),
        (
            lambda d: d["rules"][0].update(forms=["kill+en_noun"]),
            "rules[0].forms[0]",
            "unknown ending set",
        ),
        (lambda d: d["rules"][0].update(forms=["k1ll"]), "rules[0].forms[0]", "letters only"),
        (lambda d: d["rules"][0].update(forms=["ki"]), "rules[0].forms[0]", "at least 3"),
        (lambda d: d["rules"][0].update(forms=["ki*"]), "rules[0].forms[0]", "at least 3"),
        (lambda d: d["rules"][0].update(forms=["_ kill"]), "rules[0].forms[0]", "between"),
        (lambda d: d["rules"][0].update(forms=["kill", "kill"]), "rules[0].forms[1]", "twice"),
        (lambda d: d["rules"][0].update(forms=[]), "rules[0].forms", "non-empty"),
        (lambda d: d["rules"][0].update(near=[["a"], ["b"]]), "rules[0]", "exactly one of"),
        (lambda d: d["rules"][0].update(window=3), "rules[0].window", "only with 'near'"),
        (lambda d: d["rules"][1].pop("window"), "rules[1].window", "whole number"),
        (lambda d: d["rules"][1].update(window=99), "rules[1].window", "between 1 and"),
        (lambda d: d["rules"][1].update(near=[["want"]]), "rules[1].near", "2 to 3 groups"),
        (lambda d: d["rules"][0].update(colour="red"), "rules[0].colour", "unknown field"),
        (lambda d: d["negatives"][0].update(labels=[]), "negatives[0].labels", "non-empty"),
        (
            lambda d: d["negatives"][0].update(labels=["spam"]),
            "negatives[0].labels[0]",
            "not one of",
        ),
        (lambda d: d["endings"].update(Bad=["x"]), "endings.Bad", "name must be"),
        (lambda d: d["endings"].update(x=["1"]), "endings.x[0]", "up to 8 letters"),
        (lambda d: d.update(version=""), "version", "non-empty"),
        (lambda d: d.update(rules=[]), "rules", "non-empty"),
        (lambda d: d.update(extra=1), "extra", "unknown field"),
    ],
)
def test_each_fault_is_named_by_its_path(edit: Any, path: str, message: str) -> None:
    data = copy.deepcopy(minimal())
    edit(data)
    found = problems(data)
    assert path in found, found
    assert message in found[path]


def test_every_problem_is_reported_at_once() -> None:
    data = minimal()
    data["rules"][0]["label"] = "nope"
    data["rules"][1]["severity"] = "nope"
    data["negatives"][0]["forms"] = ["x"]
    with pytest.raises(LexiconError) as caught:
        Classifier.from_lexicon(data)
    assert [p.path for p in caught.value.problems] == [
        "rules[0].label",
        "rules[1].severity",
        "negatives[0].forms[0]",
    ]
    assert caught.value.problems[0].as_dict() == {
        "path": "rules[0].label",
        "message": "'nope' is not one of self_harm, drugs, bullying, grooming, violence, sexual",
    }
    assert "rules[0].label" in str(caught.value)


@pytest.mark.parametrize("data", [None, [], "lexicon", 3])
def test_a_lexicon_must_be_an_object(data: object) -> None:
    assert problems(data) == {"": "a lexicon is a JSON object"}
