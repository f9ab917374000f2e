"""A message folded to a skeleton of words, with a map back to the original characters.

The skeleton is lower case without diacritics (NFKD, combining marks dropped, so "Й" is "и"),
its words are runs of letters, digits and the symbols that stand for letters (``alphabet``),
separated by one space. Obfuscations that split a word are undone:

- apostrophes inside a word are dropped ("don't" -> "dont", "ub'yu" -> "ubyu");
- three or more one-character pieces separated by at most two spaces or punctuation marks
  are one word ("k i l l", "у.б.ь.ю" -> "kill", "убью"); such a word is marked ``joined``:
  the words it was spelled as are lost ("k i l l m y s e l f" -> "killmyself"), so the
  classifier also compares it with its phrases' forms run together;
- symbols at the ends of a word are punctuation ("kill!!!"), except "$" and "@" before a
  letter or digit ("$ex", "@nal");
- a run of one character is cut to three ("diiiiiie" -> "diiie").

Every skeleton character remembers the index of the original character it came from, so a
match in the skeleton is reported as a span of the original text.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from telemetry.conversations.classify.alphabet import SYMBOLS

_APOSTROPHES = frozenset("'’`ʼ‘")
_LEADING_SYMBOLS = frozenset("$@")
_JOIN_MAX_GAP = 2
_JOIN_MIN_PIECES = 3
# Longer runs of one character are cut to this many: the lexicon's letters accept repeats
# anyway, and a bounded run keeps the expressions' backtracking small (see ``alphabet``).
_MAX_RUN = 3


@lru_cache(maxsize=4096)
def fold(char: str) -> str:
    """One character lower-cased, decomposed, without combining marks (possibly several)."""
    decomposed = unicodedata.normalize("NFKD", char.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_text(text: str) -> str:
    """A whole string folded like the skeleton's characters (for lexicon terms)."""
    return "".join(fold(c) for c in text)


def _is_word(char: str) -> bool:
    return char.isalnum() or char in SYMBOLS


@dataclass(frozen=True, slots=True)
class Skeleton:
    text: str
    origin: tuple[int, ...]  # origin[i]: index in the original text of text[i]
    word_starts: tuple[int, ...]  # skeleton index where each word starts
    joined: tuple[tuple[int, int], ...] = ()  # skeleton spans of the words joined from letters

    def word_at(self, index: int) -> int:
        """The number of the word that skeleton index ``index`` falls in."""
        return bisect_right(self.word_starts, index) - 1

    def span(self, start: int, end: int, original: str) -> tuple[int, int]:
        """The original span of skeleton ``[start, end)`` (end after trailing marks)."""
        first = self.origin[start]
        stop = self.origin[end - 1] + 1
        while stop < len(original) and unicodedata.combining(original[stop]):
            stop += 1
        return first, stop


Piece = list[tuple[str, int]]


def _pieces(text: str) -> tuple[list[Piece], list[str]]:
    """Word pieces of the folded text and the separator text before each piece."""
    pieces: list[Piece] = []
    gaps: list[str] = []
    current: Piece = []
    gap: list[str] = []
    for index, char in enumerate(text):
        for folded in fold(char):
            if _is_word(folded):
                if not current:
                    gaps.append("".join(gap))
                    gap = []
                current.append((folded, index))
            elif folded in _APOSTROPHES and current and index + 1 < len(text):
                continue  # dropped inside a word; a word that ends here simply ends
            else:
                if current:
                    pieces.append(current)
                    current = []
                gap.append(folded)
    if current:
        pieces.append(current)
    return pieces, gaps


def _trim(piece: Piece) -> Piece:
    """Drop symbols at the ends of a piece (punctuation), keeping "$" / "@" before a letter."""
    start, end = 0, len(piece)
    while end > start and piece[end - 1][0] in SYMBOLS:
        end -= 1
    while start < end and piece[start][0] in SYMBOLS:
        if piece[start][0] in _LEADING_SYMBOLS and start + 1 < end:
            break
        start += 1
    return piece[start:end]


def _joined(pieces: list[Piece], gaps: list[str]) -> list[tuple[Piece, bool]]:
    """Runs of one-character pieces with short gaps joined into one word (marked True)."""
    words: list[tuple[Piece, bool]] = []
    index = 0
    while index < len(pieces):
        run_end = index + 1
        if len(pieces[index]) == 1:
            while (
                run_end < len(pieces)
                and len(pieces[run_end]) == 1
                and len(gaps[run_end]) <= _JOIN_MAX_GAP
                and "\n" not in gaps[run_end]
            ):
                run_end += 1
        if run_end - index >= _JOIN_MIN_PIECES:
            words.append(([c for piece in pieces[index:run_end] for c in piece], True))
        else:
            words.extend((piece, False) for piece in pieces[index:run_end])
        index = run_end
    return words


def skeleton(text: str) -> Skeleton:
    """The skeleton of ``text`` (see the module's docstring)."""
    pieces, gaps = _pieces(text)
    trimmed = [_trim(p) for p in pieces]
    kept = [(p, g) for p, g in zip(trimmed, gaps, strict=True) if p]
    words = _joined([p for p, _ in kept], [g for _, g in kept])
    chars: list[str] = []
    origin: list[int] = []
    starts: list[int] = []
    joined: list[tuple[int, int]] = []
    for word, was_joined in words:
        if chars:
            chars.append(" ")
            origin.append(word[0][1])
        starts.append(len(chars))
        run = 0
        for char, index in word:
            run = run + 1 if chars and chars[-1] == char else 1
            if run > _MAX_RUN:
                # "diiiiiie" is "diiie": the kept last one stands for the rest of the run, so a
                # span ending inside it still ends at the run's end in the original.
                origin[-1] = index
                continue
            chars.append(char)
            origin.append(index)
        if was_joined:
            joined.append((starts[-1], len(chars)))
    return Skeleton("".join(chars), tuple(origin), tuple(starts), tuple(joined))
