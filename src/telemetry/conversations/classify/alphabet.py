"""Which characters may stand for a lexicon letter: look-alikes, l33t, transliteration.

A lexicon term is written once, in its own script ("суицид", "kill"). Children and the people
writing to them type the same word with Latin letters that look Cyrillic ("уmереть"), with
Cyrillic letters inside Latin words ("kіll"), with digits and symbols ("k1ll", "$ex", "3арежу"),
in transliteration ("ubyu", "olgim") or with Kazakh letters replaced by their nearest Russian
ones ("олгим" for "өлгім"). Instead of guessing one canonical spelling of the text (ambiguous:
"1" is "i" or "l"), each letter of a term compiles to the set of spellings it accepts; the text
is only folded (lower case, no diacritics) by ``skeleton``.

Everything here is lower case and without combining marks, as ``skeleton.fold`` leaves it
(so "й" is "и" and "ё" is "е" on both sides).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

# Latin letter -> Cyrillic letters that look like it (in either case, once lower-cased).
_LATIN_LOOKALIKES: dict[str, str] = {
    "a": "а",
    "b": "вь",
    "c": "с",
    "d": "ԁ",
    "e": "е",
    "h": "н",
    "i": "іӏ",
    "j": "ј",
    "k": "к",
    "l": "ӏ",
    "m": "м",
    "n": "п",
    "o": "о",
    "p": "р",
    "r": "г",
    "s": "ѕ",
    "t": "т",
    "u": "и",
    "x": "х",
    "y": "у",
}

# Digits and symbols typed for a letter.
_LEET: dict[str, str] = {
    "a": "4@",
    "b": "86",
    "e": "3€",
    "g": "96",
    "i": "1!|",
    "l": "1|!",
    "o": "0",
    "s": "5$",
    "t": "7",
    "z": "2",
    "а": "4@",
    "б": "6",
    "в": "8",
    "е": "3",
    "з": "3",
    "о": "0",
    "ч": "4",
    "т": "7",
}

# Cyrillic (Russian and Kazakh) letter -> Latin transliterations in common use, and the Russian
# letter a Kazakh letter is typed as on a Russian keyboard.
_TRANSLIT: dict[str, tuple[str, ...]] = {
    "а": ("a",),
    "б": ("b",),
    "в": ("v", "w"),
    "г": ("g",),
    "д": ("d",),
    "е": ("e", "ye", "je"),
    "ж": ("zh", "j", "z"),
    "з": ("z",),
    "и": ("i", "y"),
    "к": ("k", "c", "q"),
    "л": ("l",),
    "м": ("m",),
    "н": ("n",),
    "о": ("o",),
    "п": ("p",),
    "р": ("r",),
    "с": ("s", "c"),
    "т": ("t",),
    "у": ("u", "y", "oo"),
    "ф": ("f", "ph"),
    "х": ("h", "kh", "x"),
    "ц": ("ts", "c", "tz"),
    "ч": ("ch",),
    "ш": ("sh", "w"),
    "щ": ("sch", "shch", "sh", "w"),
    "ы": ("y", "i"),
    "э": ("e",),
    "ю": ("yu", "ju", "iu", "u"),
    "я": ("ya", "ja", "ia", "a"),
    "ә": ("а", "a", "ae"),
    "ғ": ("г", "g", "gh"),
    "қ": ("к", "k", "q"),
    "ң": ("н", "n", "ng"),
    "ө": ("о", "o", "oe"),
    "ұ": ("у", "u"),
    "ү": ("у", "u", "y"),
    "һ": ("х", "h"),
    "і": ("и", "i"),
}

# How many characters may spell one letter ("diiie", "k!1ll"). Bounded, not "+": neighbouring
# letters share spellings ("1" is "i" and "l"), and unbounded repeats of both backtrack in
# quadratic or worse time over a long run like "k1111...". The skeleton cuts runs of one
# character to three, so a bound this size loses nothing real.
MAX_REPEAT = 6
# Letters that children often leave out or type as an apostrophe (dropped by the skeleton).
_OPTIONAL = frozenset("ьъ")
# Any vowel may be masked with an asterisk ("s*x", "с*кс").
_VOWELS = frozenset("aeiouyаеиоуыэюяәөұүі")
MASK = "*"
# Symbols that stand for letters, so the skeleton keeps them inside words.
SYMBOLS = frozenset("".join(_LEET.values()) + MASK) - frozenset("0123456789")

_CYRILLIC_LOOKALIKES: dict[str, set[str]] = {}
for _latin, _cyrillic in _LATIN_LOOKALIKES.items():
    for _letter in _cyrillic:
        _CYRILLIC_LOOKALIKES.setdefault(_letter, set()).add(_latin)


def _lookalikes(letter: str) -> set[str]:
    return set(_LATIN_LOOKALIKES.get(letter, "")) | _CYRILLIC_LOOKALIKES.get(letter, set())


def spellings(letter: str) -> tuple[frozenset[str], frozenset[str]]:
    """The single characters and the longer sequences that may stand for ``letter``."""
    singles = {letter} | _lookalikes(letter) | set(_LEET.get(letter, ""))
    longer: set[str] = set()
    for option in _TRANSLIT.get(letter, ()):
        if len(option) == 1:
            singles |= {option} | set(_LEET.get(option, ""))
            if option in _CYRILLIC_LOOKALIKES:
                # A Kazakh letter typed as a Russian one, or as that one's Latin look-alike
                # ("ә" as "а" or "a"). Not for Latin options: "и" is "y", but "y" looks like
                # "у", and "у" is not "и".
                singles |= _lookalikes(option)
        else:
            longer.add(option)
    if letter in _VOWELS:
        singles.add(MASK)
    return frozenset(singles), frozenset(longer)


def _class(chars: Iterable[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


@dataclass(frozen=True, slots=True)
class Letter:
    """What one letter of a lexicon word accepts in the skeleton: one of ``singles`` or of
    ``longer``, 1 to ``MAX_REPEAT`` times; an ``optional`` one (a soft or hard sign) once or
    not at all."""

    singles: frozenset[str]
    longer: tuple[str, ...]  # the longest first
    optional: bool = False


@lru_cache(maxsize=4096)
def letters_of(letters: str) -> tuple[Letter, ...]:
    """One lexicon word (folded letters), letter by letter, as the skeleton may spell it: a
    doubled letter in the term is one ("kill" also matches "kil"); soft and hard signs may
    be missing. ``letters_pattern`` is this as an expression."""
    out: list[Letter] = []
    previous = ""
    for letter in letters:
        if letter == previous:
            continue
        previous = letter
        if letter in _OPTIONAL:
            out.append(Letter(_OPTIONAL, (), optional=True))
            continue
        singles, longer = spellings(letter)
        out.append(Letter(singles, tuple(sorted(longer, key=len, reverse=True))))
    return tuple(out)


def letter_patterns(letters: str) -> list[str]:
    """A regular expression per letter of ``letters_of`` (``letters_pattern`` joins them):
    each letter accepts its spellings, repeated up to ``MAX_REPEAT`` times ("diiie")."""
    parts: list[str] = []
    for letter in letters_of(letters):
        if letter.optional:
            parts.append(f"{_class(letter.singles)}?")
            continue
        options = [_class(letter.singles), *(re.escape(s) for s in letter.longer)]
        parts.append("(?:" + "|".join(options) + f"){{1,{MAX_REPEAT}}}")
    return parts


def letters_pattern(letters: str) -> str:
    """A regular expression for one lexicon word (folded letters), over the skeleton."""
    return "".join(letter_patterns(letters))
