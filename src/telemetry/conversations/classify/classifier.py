"""The compiled classifier: a validated lexicon turned into regular expressions over skeletons.

``Classifier.from_lexicon(data)`` validates and compiles once; the result is immutable and
``classify(text)`` is pure (no I/O, no shared state), so one instance serves every request and
thread. Each rule compiles to one expression whose alternatives are its forms, each a named
group, so a hit names the rule and the form that fired. The expressions run over the message's
skeleton (``skeleton``), and the spans found there are mapped back to the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from telemetry.conversations.classify.alphabet import letters_pattern
from telemetry.conversations.classify.lexicon import (
    Form,
    Label,
    Lexicon,
    Rule,
    Severity,
    Word,
    default_lexicon,
    validate_lexicon,
)
from telemetry.conversations.classify.skeleton import Skeleton, skeleton

_ANY_PREFIX = "[^ ]{0,4}"
_ANY_ENDING = "[^ ]{0,6}"
_ANY_WORD = "(?:[^ ]+ )?"
_START, _END = "(?<![^ ])", "(?![^ ])"


@dataclass(frozen=True, slots=True)
class Hit:
    label: Label
    severity: Severity
    start: int  # span of the original text that triggered the hit
    end: int
    rule_id: str
    form: str  # the form (or forms, for a proximity rule) as written in the lexicon


@dataclass(frozen=True, slots=True)
class _Match:
    start: int  # skeleton span
    end: int
    form: str


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    groups: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]  # pattern, form per group name


def _word_pattern(word: Word, endings: Mapping[str, tuple[str, ...]]) -> str:
    if not word.letters:
        return _ANY_WORD
    out = _ANY_PREFIX if word.any_prefix else ""
    out += letters_pattern(word.letters)
    if word.any_ending:
        out += _ANY_ENDING
    elif word.endings is not None:
        options = [letters_pattern(e) for e in endings[word.endings]]
        out += "(?:" + "|".join(sorted(options, key=len, reverse=True)) + ")"
    return out


def _form_pattern(form: Form, endings: Mapping[str, tuple[str, ...]]) -> str:
    out = ""
    last = len(form.words) - 1
    for index, word in enumerate(form.words):
        out += _word_pattern(word, endings)
        # "_" carries its own trailing space; other words but the last are followed by one.
        if word.letters and index < last:
            out += " "
    return out


def _compile_group(
    forms: Sequence[Form], endings: Mapping[str, tuple[str, ...]]
) -> tuple[re.Pattern[str], tuple[str, ...]]:
    alternatives = [f"(?P<f{i}>{_form_pattern(f, endings)})" for i, f in enumerate(forms)]
    pattern = re.compile(_START + "(?:" + "|".join(alternatives) + ")" + _END)
    return pattern, tuple(f.text for f in forms)


def _screen(rules: Sequence[_Compiled], endings: Mapping[str, tuple[str, ...]]) -> re.Pattern[str]:
    """The rules' forms in one expression, without the named groups (names repeat).

    A proximity rule needs every group, so one is enough here: the one whose shortest form
    is longest ("fat", not "u"), which lets fewer harmless messages through.
    """

    def selective(groups: Sequence[Sequence[Form]]) -> Sequence[Form]:
        return max(groups, key=lambda g: min(len(w.letters) for f in g for w in f.words))

    forms = [_form_pattern(f, endings) for c in rules for f in selective(c.rule.groups)]
    return re.compile(_START + "(?:" + "|".join(forms) + ")" + _END)


def _matches(compiled: tuple[re.Pattern[str], tuple[str, ...]], text: str) -> Iterator[_Match]:
    pattern, forms = compiled
    for found in pattern.finditer(text):
        # A match must contain a letter: "455" is not "ass", "3" is not "з".
        if found.lastgroup is not None and any(c.isalpha() for c in found.group()):
            yield _Match(found.start(), found.end(), forms[int(found.lastgroup[1:])])


def _overlaps(match: _Match, spans: Sequence[tuple[int, int]]) -> bool:
    return any(match.start < end and start < match.end for start, end in spans)


def _gap(sk: Skeleton, a: _Match, b: _Match) -> int:
    """Words between two matches (0 when adjacent or overlapping)."""
    a_first, a_last = sk.word_at(a.start), sk.word_at(a.end - 1)
    b_first, b_last = sk.word_at(b.start), sk.word_at(b.end - 1)
    return max(0, b_first - a_last - 1, a_first - b_last - 1)


def _rule_matches(
    compiled: _Compiled, sk: Skeleton, blocked: Sequence[tuple[int, int]]
) -> list[_Match]:
    """Matches of one rule outside the ``blocked`` (negative) skeleton spans."""
    found = [
        [m for m in _matches(group, sk.text) if not _overlaps(m, blocked)]
        for group in compiled.groups
    ]
    if len(found) == 1:
        return found[0]
    out: list[_Match] = []
    for anchor in found[0]:
        chosen = [anchor]
        for others in found[1:]:
            near = [
                m
                for m in others
                if _gap(sk, anchor, m) <= compiled.rule.window
                and not _overlaps(m, [(anchor.start, anchor.end)])
            ]
            if not near:
                break
            chosen.append(min(near, key=lambda m: _gap(sk, anchor, m)))
        else:
            out.append(
                _Match(
                    min(m.start for m in chosen),
                    max(m.end for m in chosen),
                    " + ".join(m.form for m in chosen),
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class Classifier:
    version: str
    rules: tuple[_Compiled, ...] = field(repr=False)
    negatives: tuple[_Compiled, ...] = field(repr=False)
    # Every rule's patterns in one alternation: a message it finds nothing in has no hit (an
    # alternation matches wherever any alternative does), and most messages are harmless.
    screen: re.Pattern[str] = field(repr=False)

    @classmethod
    def from_lexicon(cls, data: object) -> Classifier:
        """Validate (``LexiconError`` on a bad lexicon) and compile ``data``."""
        lexicon: Lexicon = validate_lexicon(data)

        def compiled(rule: Rule) -> _Compiled:
            groups = tuple(_compile_group(g, lexicon.endings) for g in rule.groups)
            return _Compiled(rule, groups)

        rules = tuple(compiled(r) for r in lexicon.rules)
        return cls(
            lexicon.version,
            rules,
            tuple(compiled(r) for r in lexicon.negatives),
            _screen(rules, lexicon.endings),
        )

    @classmethod
    def default(cls) -> Classifier:
        """The classifier of the lexicon shipped with the package."""
        return cls.from_lexicon(default_lexicon())

    def classify(self, text: str) -> list[Hit]:
        """The hits in ``text``, by position; empty for a harmless message."""
        sk = skeleton(text)
        if self.screen.search(sk.text) is None:
            return []
        blocked: dict[Label, list[tuple[int, int]]] = {}
        for negative in self.negatives:
            spans = [(m.start, m.end) for m in _rule_matches(negative, sk, ())]
            for label in negative.rule.labels:
                blocked.setdefault(label, []).extend(spans)
        hits: dict[tuple[str, int, int], Hit] = {}
        for compiled in self.rules:
            rule = compiled.rule
            label = rule.labels[0]
            assert rule.severity is not None
            for match in _rule_matches(compiled, sk, blocked.get(label, ())):
                start, end = sk.span(match.start, match.end, text)
                hits.setdefault(
                    (rule.id, start, end),
                    Hit(label, rule.severity, start, end, rule.id, match.form),
                )
        return sorted(hits.values(), key=lambda h: (h.start, h.end, h.rule_id))


def labels_of(hits: Sequence[Hit]) -> set[Label]:
    """The labels a message gets from its hits."""
    return {hit.label for hit in hits}


def hit_as_dict(hit: Hit) -> dict[str, Any]:
    """A hit as JSON-ready data (for events and the curators' explanation)."""
    return {
        "label": hit.label.value,
        "severity": hit.severity.value,
        "start": hit.start,
        "end": hit.end,
        "rule_id": hit.rule_id,
        "form": hit.form,
    }
