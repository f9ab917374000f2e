"""The lexicon as data: its JSON shape, its validation, and the packaged default.

Curators edit the lexicon (later through the admin API, versioned like blocklists), so a bad
one must be refused with every problem named by its path, before it is compiled::

    {
      "version": "2026-12-02.1",
      "endings": {"ru_verb": ["", "ю", "ешь", ...]},          # named sets of word endings
      "rules": [
        {"id": "self_harm.suicide", "label": "self_harm", "severity": "high",
         "forms": ["суицид*", "suicide", "kill+en_verb myself"]},
        {"id": "self_harm.want_die", "label": "self_harm", "severity": "high",
         "near": [["хочу"], ["умереть"]], "window": 3}
      ],
      "negatives": [
        {"id": "neg.laughing", "labels": ["self_harm"], "forms": ["умира+ru_verb со смеху"]}
      ]
    }

A form is one or more words separated by spaces. A word is letters (any script; hyphens split
words, apostrophes are dropped, as in messages) with optional markers: a trailing ``*`` (any
ending up to six characters), a trailing ``+name`` (one of the named endings, "" for none),
a leading ``*`` (any prefix up to four characters). A word ``_`` inside a phrase is at most one
word of any kind. ``near`` matches when one form of every group occurs with at most ``window``
words between it and a form of the first group (either order); its forms may be short.
A negative suppresses hits of its labels that overlap its own match ("this exam is killing
me", "drug store").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

from telemetry.conversations.classify.skeleton import fold_text


class Label(StrEnum):
    SELF_HARM = "self_harm"
    DRUGS = "drugs"
    BULLYING = "bullying"
    GROOMING = "grooming"
    VIOLENCE = "violence"
    SEXUAL = "sexual"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


MAX_RULES = 5000
MAX_FORMS = 500
MAX_FORM_LENGTH = 80
MAX_WINDOW = 12
MAX_GROUPS = 3
_ID = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,79}")
_ENDING_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_WORD = re.compile(r"(\*?)([^\s*+]+)(\*|\+[a-z][a-z0-9_]*)?")
_RULE_KEYS = frozenset({"id", "label", "severity", "forms", "near", "window", "note"})
_NEGATIVE_KEYS = frozenset({"id", "labels", "forms", "near", "window", "note"})
_TOP_KEYS = frozenset({"version", "description", "endings", "rules", "negatives"})


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class LexiconError(ValueError):
    """A lexicon that cannot be compiled; ``problems`` names each fault by its JSON path."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        listed = "; ".join(f"{p.path}: {p.message}" for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"invalid lexicon: {listed}{more}")


@dataclass(frozen=True, slots=True)
class Word:
    letters: str  # folded, apostrophes removed; "" for the "_" wildcard word
    any_prefix: bool = False
    any_ending: bool = False
    endings: str | None = None  # name of an ending set


@dataclass(frozen=True, slots=True)
class Form:
    text: str  # as the curator wrote it, reported with each hit
    words: tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    labels: tuple[Label, ...]
    severity: Severity | None  # None for a negative
    groups: tuple[tuple[Form, ...], ...]  # one group for forms, two or more for near
    window: int


@dataclass(frozen=True, slots=True)
class Lexicon:
    version: str
    endings: Mapping[str, tuple[str, ...]]
    rules: tuple[Rule, ...]
    negatives: tuple[Rule, ...]


def default_lexicon() -> dict[str, Any]:
    """The lexicon shipped with the package (``lexicon/default.json``), as data."""
    source = resources.files("telemetry.conversations.classify") / "lexicon" / "default.json"
    data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return data


def _letters(raw: str) -> str:
    return "".join(c for c in fold_text(raw) if c not in "'’`ʼ‘")


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.ids: set[str] = set()

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def endings(self, data: object) -> dict[str, tuple[str, ...]]:
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.fail("endings", "must be an object of ending-set name to list of endings")
            return {}
        out: dict[str, tuple[str, ...]] = {}
        for name, values in data.items():
            path = f"endings.{name}"
            if not isinstance(name, str) or not _ENDING_NAME.fullmatch(name):
                self.fail(path, "name must be lower-case letters, digits and _")
                continue
            if not isinstance(values, list) or not values:
                self.fail(path, "must be a non-empty list of strings")
                continue
            good: list[str] = []
            for i, value in enumerate(values):
                letters = _letters(value) if isinstance(value, str) else None
                if letters is None or len(letters) > 8 or not all(c.isalpha() for c in letters):
                    self.fail(f"{path}[{i}]", "an ending is up to 8 letters ('' for none)")
                else:
                    good.append(letters)
            out[name] = tuple(dict.fromkeys(good))
        return out

    def word(self, raw: str, path: str, endings: Mapping[str, object]) -> Word | None:
        if raw == "_":
            return Word("")
        match = _WORD.fullmatch(raw)
        if match is None:
            self.fail(path, f"{raw!r}: markers are a leading '*', a trailing '*' or '+name'")
            return None
        prefix, core, suffix = match.groups()
        letters = _letters(core)
        if not letters or not all(c.isalpha() for c in letters):
            self.fail(path, f"{raw!r}: a word is letters only (no digits or symbols)")
            return None
        if suffix and suffix.startswith("+") and suffix[1:] not in endings:
            self.fail(path, f"{raw!r}: unknown ending set {suffix[1:]!r}")
            return None
        if (prefix or suffix == "*") and len(letters) < 3:
            self.fail(path, f"{raw!r}: a word with '*' needs at least 3 letters")
            return None
        return Word(
            letters,
            any_prefix=bool(prefix),
            any_ending=suffix == "*",
            endings=suffix[1:] if suffix and suffix.startswith("+") else None,
        )

    def form(
        self, raw: object, path: str, endings: Mapping[str, object], *, short: bool
    ) -> Form | None:
        if not isinstance(raw, str) or not raw.strip():
            self.fail(path, "a form is a non-empty string")
            return None
        if len(raw) > MAX_FORM_LENGTH:
            self.fail(path, f"a form is at most {MAX_FORM_LENGTH} characters")
            return None
        pieces = raw.replace("-", " ").split()
        words: list[Word] = []
        for piece in pieces:
            word = self.word(piece, path, endings)
            if word is None:
                return None
            words.append(word)
        if not words[0].letters or not words[-1].letters:
            self.fail(path, f"{raw!r}: '_' only between two words")
            return None
        if len(words) == 1 and len(words[0].letters) < 3 and not short:
            self.fail(path, f"{raw!r}: a one-word form needs at least 3 letters")
            return None
        return Form(raw, tuple(words))

    def group(
        self, raw: object, path: str, endings: Mapping[str, object], *, short: bool = False
    ) -> tuple[Form, ...]:
        if not isinstance(raw, list) or not raw:
            self.fail(path, "must be a non-empty list of forms")
            return ()
        if len(raw) > MAX_FORMS:
            self.fail(path, f"at most {MAX_FORMS} forms")
            return ()
        forms = [self.form(f, f"{path}[{i}]", endings, short=short) for i, f in enumerate(raw)]
        seen: set[str] = set()
        for i, form in enumerate(forms):
            if form is not None and form.text in seen:
                self.fail(f"{path}[{i}]", f"{form.text!r} is listed twice")
            elif form is not None:
                seen.add(form.text)
        return tuple(f for f in forms if f is not None)

    def body(
        self, item: dict[str, Any], path: str, endings: Mapping[str, object]
    ) -> tuple[tuple[tuple[Form, ...], ...], int]:
        has_forms, has_near = "forms" in item, "near" in item
        if has_forms == has_near:
            self.fail(path, "needs exactly one of 'forms' and 'near'")
            return (), 0
        if has_forms:
            if "window" in item:
                self.fail(f"{path}.window", "only with 'near'")
            return (self.group(item["forms"], f"{path}.forms", endings),), 0
        near, window = item["near"], item.get("window")
        if not isinstance(near, list) or not 2 <= len(near) <= MAX_GROUPS:
            self.fail(f"{path}.near", f"must be a list of 2 to {MAX_GROUPS} groups of forms")
            return (), 0
        if isinstance(window, bool) or not isinstance(window, int):
            self.fail(f"{path}.window", f"'near' needs a whole number window (1-{MAX_WINDOW})")
            return (), 0
        if not 1 <= window <= MAX_WINDOW:
            self.fail(f"{path}.window", f"must be between 1 and {MAX_WINDOW} words")
        # A near group may hold one- and two-letter words ("u", "ты"): the other group anchors it.
        groups = tuple(
            self.group(g, f"{path}.near[{i}]", endings, short=True) for i, g in enumerate(near)
        )
        return groups, window

    def identity(self, item: dict[str, Any], path: str) -> str:
        rule_id = item.get("id")
        if not isinstance(rule_id, str) or not _ID.fullmatch(rule_id):
            self.fail(f"{path}.id", "must be lower-case letters, digits, '.', '_' or '-'")
            return ""
        if rule_id in self.ids:
            self.fail(f"{path}.id", f"{rule_id!r} is used twice")
        self.ids.add(rule_id)
        return rule_id

    def choice(self, value: object, kind: type[StrEnum], path: str) -> Any:
        try:
            return kind(value) if isinstance(value, str) else kind("")
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            self.fail(path, f"{value!r} is not one of {allowed}")
            return None

    def rules(self, data: object, key: str, endings: Mapping[str, object]) -> tuple[Rule, ...]:
        negative = key == "negatives"
        if data is None and negative:
            return ()
        if not isinstance(data, list) or (not data and not negative):
            self.fail(key, "must be a non-empty list" if not negative else "must be a list")
            return ()
        if len(data) > MAX_RULES:
            self.fail(key, f"at most {MAX_RULES} entries")
            return ()
        out: list[Rule] = []
        for i, item in enumerate(data):
            path = f"{key}[{i}]"
            if not isinstance(item, dict):
                self.fail(path, "must be an object")
                continue
            for unknown in sorted(set(item) - (_NEGATIVE_KEYS if negative else _RULE_KEYS)):
                self.fail(f"{path}.{unknown}", "unknown field")
            before = len(self.problems)
            rule_id = self.identity(item, path)
            severity: Severity | None = None
            if negative:
                raw = item.get("labels")
                if not isinstance(raw, list) or not raw:
                    self.fail(f"{path}.labels", "must be a non-empty list of labels")
                    raw = []
                labels = [self.choice(v, Label, f"{path}.labels[{j}]") for j, v in enumerate(raw)]
            else:
                labels = [self.choice(item.get("label"), Label, f"{path}.label")]
                severity = self.choice(item.get("severity"), Severity, f"{path}.severity")
            groups, window = self.body(item, path, endings)
            if len(self.problems) == before:
                out.append(Rule(rule_id, tuple(dict.fromkeys(labels)), severity, groups, window))
        return tuple(out)


def validate_lexicon(data: object) -> Lexicon:
    """The lexicon ``data`` checked and parsed; raises ``LexiconError`` listing every fault."""
    checker = _Checker()
    if not isinstance(data, dict):
        raise LexiconError([Problem("", "a lexicon is a JSON object")])
    for unknown in sorted(set(data) - _TOP_KEYS):
        checker.fail(str(unknown), "unknown field")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip() or len(version) > 64:
        checker.fail("version", "must be a non-empty string of at most 64 characters")
    endings = checker.endings(data.get("endings"))
    rules = checker.rules(data.get("rules"), "rules", endings)
    negatives = checker.rules(data.get("negatives"), "negatives", endings)
    if checker.problems:
        raise LexiconError(checker.problems)
    assert isinstance(version, str)
    return Lexicon(version, endings, rules, negatives)
