"""The compiled classifier: a validated lexicon turned into regular expressions over skeletons.

``Classifier.from_lexicon(data)`` validates and compiles once; the result is immutable and
``classify(text)`` is pure (no I/O, no shared state), so one instance serves every request and
thread. Each rule compiles to one expression whose alternatives are its forms, each a named
group, so a hit names the rule and the form that fired. The expressions run over the message's
skeleton (``skeleton``), and the spans found there are mapped back to the original text.

A word the skeleton joined from single letters ("k i l l m y s e l f" -> "killmyself") lost
the words it was spelled as: it is also a hit of a rule when it spells one of the rule's
phrases run together (``joined``), the same form reported, the span mapped back over the
spaced-out letters. One-word forms match a joined word as before, whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from telemetry.conversations.classify.alphabet import letter_patterns, letters_pattern
from telemetry.conversations.classify.joined import ANY_ENDING, ANY_PREFIX, Phrases
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

_ANY_PREFIX = f"[^ ]{{0,{ANY_PREFIX}}}"
_ANY_ENDING = f"[^ ]{{0,{ANY_ENDING}}}"
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
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # expression (``_regex``), form per group name
    gate: str  # an expression (``_regex``) found wherever the rule's groups match (``_any_of``)
    joined: Phrases | None = None  # its phrases, for words joined from single letters


def _word_tokens(word: Word, endings: Mapping[str, tuple[str, ...]]) -> list[str]:
    if not word.letters:
        return [_ANY_WORD]
    out = [_ANY_PREFIX] if word.any_prefix else []
    out += letter_patterns(word.letters)
    if word.any_ending:
        out.append(_ANY_ENDING)
    elif word.endings is not None:
        options = [letters_pattern(e) for e in endings[word.endings]]
        out.append("(?:" + "|".join(sorted(options, key=len, reverse=True)) + ")")
    return out


def _form_tokens(form: Form, endings: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The form's expression in pieces (a letter, an ending, a space...): joined, the form's
    pattern; shared by many forms, the branches of the screen's tree."""
    out: list[str] = []
    last = len(form.words) - 1
    for index, word in enumerate(form.words):
        out += _word_tokens(word, endings)
        # "_" carries its own trailing space; other words but the last are followed by one.
        if word.letters and index < last:
            out.append(" ")
    return out


def _form_pattern(form: Form, endings: Mapping[str, tuple[str, ...]]) -> str:
    return "".join(_form_tokens(form, endings))


def _tree_pattern(forms: Iterable[Sequence[str]]) -> str:
    """One expression matching what the alternation of ``forms`` (each in pieces) matches,
    with the pieces they begin with in common written once ("ki(?:ll|ss)" for "kill" and
    "kiss"): the regular expression engine tries an alternation's branches one by one at
    every position, so two thousand forms cost two thousand tries where the tree costs a
    few dozen."""
    tree: dict[str, Any] = {}
    for pieces in forms:
        node = tree
        for piece in pieces:
            node = node.setdefault(piece, {})
        node[""] = {}  # the form ends here

    def emit(node: dict[str, Any]) -> str:
        branches = [piece + emit(child) for piece, child in node.items() if piece]
        if "" in node:
            if not branches:
                return ""
            return "(?:" + "|".join(branches) + ")?"
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return emit(tree)


def _joined_matches(compiled: _Compiled, sk: Skeleton) -> Iterator[_Match]:
    """Whole words joined from single letters that spell one of the rule's phrases."""
    if compiled.joined is None:
        return
    for start, end in sk.joined:
        form = compiled.joined.spelled(sk.text, start, end)
        # A match must contain a letter, as in ``_matches``.
        if form is not None and any(c.isalpha() for c in sk.text[start:end]):
            yield _Match(start, end, form)


def _group(
    forms: Sequence[Form], endings: Mapping[str, tuple[str, ...]]
) -> tuple[str, tuple[str, ...]]:
    alternatives = [f"(?P<f{i}>{_form_pattern(f, endings)})" for i, f in enumerate(forms)]
    return _START + "(?:" + "|".join(alternatives) + ")" + _END, tuple(f.text for f in forms)


# A rule's groups are compiled when a message first gets past its gate: compiling them all
# (thousands of forms, each letter a character class) takes seconds, and most rules are
# seldom needed by a process (a test, a curator's draft checked once).
@lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# The gates and the screen know the forms by their first pieces only (a letter, a space, an
# ending...): enough to let through few harmless messages, and quick to compile.
_GATE_PIECES = 10


def _selective(groups: Sequence[Sequence[Form]]) -> Sequence[Form]:
    """The group a rule cannot match without: for a proximity rule, which needs every group,
    the one whose shortest form is longest ("fat", not "u"), which fewer messages contain."""
    return max(groups, key=lambda g: min(len(w.letters) for f in g for w in f.words))


def _any_of(rules: Iterable[Rule], endings: Mapping[str, tuple[str, ...]]) -> str:
    """An expression found in every message in which one of ``rules`` matches (word by word):
    the beginnings of their forms, as a tree, without the named groups that tell the forms
    apart. Quick to compile and to search; it may be found where no rule matches."""
    starts = []
    for rule in rules:
        for form in _selective(rule.groups):
            pieces = _form_tokens(form, endings)
            # A whole form ends at the end of a word; a beginning, anywhere.
            starts.append([*pieces, _END] if len(pieces) <= _GATE_PIECES else pieces[:_GATE_PIECES])
    return _START + "(?:" + _tree_pattern(starts) + ")"


def _matches(group: tuple[str, tuple[str, ...]], text: str) -> Iterator[_Match]:
    pattern, forms = group
    for found in _regex(pattern).finditer(text):
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
    joined = [m for m in _joined_matches(compiled, sk) if not _overlaps(m, blocked)]
    if _regex(compiled.gate).search(sk.text) is None:
        return joined  # no group of the rule can match word by word
    found = [
        [m for m in _matches(group, sk.text) if not _overlaps(m, blocked)]
        for group in compiled.groups
    ]
    if len(found) == 1:
        return found[0] + joined
    out: list[_Match] = joined
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
            groups = tuple(_group(g, lexicon.endings) for g in rule.groups)
            gate = _any_of([rule], lexicon.endings)
            return _Compiled(rule, groups, gate, Phrases.of(rule.groups, lexicon.endings))

        rules = tuple(compiled(r) for r in lexicon.rules)
        return cls(
            lexicon.version,
            rules,
            tuple(compiled(r) for r in lexicon.negatives),
            re.compile(_any_of(lexicon.rules, lexicon.endings)),
        )

    @classmethod
    def default(cls) -> Classifier:
        """The classifier of the lexicon shipped with the package."""
        return cls.from_lexicon(default_lexicon())

    def classify(self, text: str) -> list[Hit]:
        """The hits in ``text``, by position; empty for a harmless message."""
        sk = skeleton(text)
        # The screen knows the phrases word by word only: a word joined from single letters
        # (rare) is asked of every rule's phrases run together.
        if self.screen.search(sk.text) is None and not (
            sk.joined and any(next(_joined_matches(c, sk), None) for c in self.rules)
        ):
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
