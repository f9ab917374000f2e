"""Phrases run together, for a word the skeleton joined from single letters.

"k i l l m y s e l f" is one skeleton word, "killmyself": the words it was spelled as are
lost, so no phrase of the lexicon matches it word by word. A joined word is a hit of a rule
when it is exactly one of the rule's phrases with the spaces removed (``Phrases.spelled``): a
form of several words, or one form of each group of a proximity rule next to each other, in
any order. Forms of one word need nothing here: they match a joined word whole already.

The forms are read as the expressions read them (``alphabet.letters_of``, the markers and
the "_" word as ``classifier._word_tokens`` does), by walking the word's characters
(``_ends``), not by compiling them run together: that would double the lexicon's compilation
time, for words that are rare. A test holds the walk to the expressions' answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import permutations

from telemetry.conversations.classify.alphabet import MAX_REPEAT, Letter, letters_of
from telemetry.conversations.classify.lexicon import Form, Word

ANY_PREFIX = 4  # characters a leading "*" takes (the expressions' too)
ANY_ENDING = 6  # characters a trailing "*" takes (the expressions' too)
ANY_WORD = 12  # characters "_" takes inside a phrase run together: a short word's


@dataclass(frozen=True, slots=True)
class _Word:
    letters: tuple[Letter, ...]
    prefix: int  # up to this many characters of any kind before the letters
    ending: int  # up to this many after them
    endings: tuple[tuple[Letter, ...], ...] | None  # one of these after them


@dataclass(frozen=True, slots=True)
class _Form:
    text: str  # as the curator wrote it
    words: tuple[_Word, ...]
    first: frozenset[str] | None  # the characters it may start with (None: any)


def _word(word: Word, endings: Mapping[str, tuple[str, ...]]) -> _Word:
    if not word.letters:  # "_"
        return _Word((), 0, ANY_WORD, None)
    return _Word(
        letters_of(word.letters),
        ANY_PREFIX if word.any_prefix else 0,
        ANY_ENDING if word.any_ending else 0,
        tuple(letters_of(e) for e in endings[word.endings]) if word.endings else None,
    )


def _form(form: Form, endings: Mapping[str, tuple[str, ...]]) -> _Form:
    words = tuple(_word(w, endings) for w in form.words)
    head = words[0]
    first = None
    if not head.prefix and head.letters and not head.letters[0].optional:
        first = head.letters[0].singles | {s[0] for s in head.letters[0].longer}
    return _Form(form.text, words, first)


def _letters(text: str, end: int, starts: set[int], letters: Sequence[Letter]) -> set[int]:
    """Where ``letters`` may end in ``text`` (up to ``end``) from any of ``starts``."""
    for letter in letters:
        if letter.optional:
            starts = starts | {p + 1 for p in starts if p < end and text[p] in letter.singles}
            continue
        reached: set[int] = set()
        frontier = starts
        for _ in range(MAX_REPEAT):
            frontier = {p + 1 for p in frontier if p < end and text[p] in letter.singles} | {
                p + len(s) for p in frontier for s in letter.longer if text.startswith(s, p, end)
            }
            if not frontier:
                break
            reached |= frontier
        starts = reached
        if not starts:
            break
    return starts


def _spread(starts: set[int], most: int, end: int) -> set[int]:
    return {p + k for p in starts for k in range(most + 1) if p + k <= end}


def _ends(text: str, end: int, starts: set[int], form: _Form) -> set[int]:
    """Where ``form``, run together, may end in ``text`` from any of ``starts``."""
    for word in form.words:
        starts = _letters(text, end, _spread(starts, word.prefix, end), word.letters)
        if word.endings is not None:
            starts = set().union(*(_letters(text, end, starts, e) for e in word.endings))
        starts = _spread(starts, word.ending, end)
        if not starts:
            break
    return starts


@dataclass(frozen=True, slots=True)
class _Group:
    """Forms by the character they may start with, to try only those a word may be."""

    forms: tuple[_Form, ...]
    by_first: Mapping[str, tuple[int, ...]]
    anywhere: tuple[int, ...]  # forms that may start with any character

    @classmethod
    def of(cls, forms: Sequence[_Form]) -> _Group:
        by_first: dict[str, list[int]] = {}
        for index, form in enumerate(forms):
            for char in form.first or ():
                by_first.setdefault(char, []).append(index)
        anywhere = tuple(i for i, f in enumerate(forms) if f.first is None)
        return cls(tuple(forms), {c: tuple(i) for c, i in by_first.items()}, anywhere)

    def starting(self, char: str) -> list[_Form]:
        """The forms that may start with ``char``, in the lexicon's order."""
        return [self.forms[i] for i in sorted(self.by_first.get(char, ()) + self.anywhere)]


@dataclass(frozen=True, slots=True)
class Phrases:
    """A rule's phrases as ``spelled`` finds them run together."""

    groups: tuple[_Group, ...]

    @classmethod
    def of(
        cls, groups: Sequence[Sequence[Form]], endings: Mapping[str, tuple[str, ...]]
    ) -> Phrases | None:
        """The phrases of a rule with ``groups`` (None: it has none)."""
        if len(groups) == 1:
            forms = [_form(f, endings) for f in groups[0] if len(f.words) > 1]
            return cls((_Group.of(forms),)) if forms else None
        return cls(tuple(_Group.of([_form(f, endings) for f in g]) for g in groups))

    def spelled(self, text: str, start: int, end: int) -> str | None:
        """The form ``text[start:end]`` spells run together ("a + b" for a proximity rule's,
        in the rule's order of groups), or None."""
        if len(self.groups) == 1:
            for form in self.groups[0].starting(text[start]):
                if end in _ends(text, end, {start}, form):
                    return form.text
            return None
        for order in permutations(range(len(self.groups))):
            chain = self._chain(text, end, start, order)
            if chain is not None:
                return " + ".join(form.text for _, form in sorted(chain))
        return None

    def _chain(
        self, text: str, end: int, start: int, order: Sequence[int]
    ) -> list[tuple[int, _Form]] | None:
        """One form of each group of ``order``, one after the other from ``start`` to ``end``."""
        group, rest = order[0], order[1:]
        for form in self.groups[group].starting(text[start] if start < end else ""):
            for stop in sorted(_ends(text, end, {start}, form)):
                if not rest:
                    if stop == end:
                        return [(group, form)]
                    continue
                tail = self._chain(text, end, stop, rest)
                if tail is not None:
                    return [(group, form), *tail]
        return None
