"""Phrases run together (``classify.joined``): the walk over a joined word gives the answers
the lexicon's own expressions would, with the spaces between a form's words removed."""

from __future__ import annotations

import re
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry.conversations.classify import default_lexicon, validate_lexicon
from telemetry.conversations.classify.classifier import _word_tokens
from telemetry.conversations.classify.joined import ANY_WORD, _ends, _form
from telemetry.conversations.classify.lexicon import Form, Lexicon

LEXICON: Lexicon = validate_lexicon(default_lexicon())
FORMS: list[Form] = sorted(
    {f.text: f for r in LEXICON.rules + LEXICON.negatives for g in r.groups for f in g}.values(),
    key=lambda f: f.text,
)


@cache
def run_together(form: Form) -> re.Pattern[str]:
    """The form's expression without the spaces between its words (the reference)."""
    words = (
        "".join(_word_tokens(w, LEXICON.endings)) if w.letters else f"[^ ]{{0,{ANY_WORD}}}"
        for w in form.words
    )
    return re.compile("".join(words))


def walked(form: Form, word: str) -> bool:
    return len(word) in _ends(word, len(word), {0}, _form(form, LEXICON.endings))


def plain(form: Form) -> str:
    """The form's letters as written, run together ("_" as a short word, an ending set's
    first ending)."""
    return "".join(
        (w.letters or "tvoim") + (LEXICON.endings[w.endings][0] if w.endings else "")
        for w in form.words
    )


def test_every_form_spelled_plainly_is_found() -> None:
    for form in FORMS:
        assert walked(form, plain(form)), form.text
    for form in FORMS[::25]:  # compiling every form's expression takes seconds
        assert run_together(form).fullmatch(plain(form)), form.text


# Characters that spell the lexicon's letters in many ways (look-alikes, l33t, translit).
NOISE = "kilmysefхочуметьөзідонтарпнгвсuиыяюэ013$@!|*'"


@settings(max_examples=400, deadline=None)
@given(
    form=st.sampled_from(FORMS),
    cut=st.integers(min_value=0, max_value=40),
    noise=st.text(alphabet=NOISE, max_size=6),
    where=st.integers(min_value=0, max_value=40),
)
def test_the_walk_agrees_with_the_expressions(form: Form, cut: int, noise: str, where: int) -> None:
    # Near misses of a real spelling: letters dropped, others put in, at random places.
    word = plain(form)
    at = where % (len(word) + 1)
    word = word[:at] + noise + word[at + cut % 3 :]
    if " " in word or not word:
        return
    assert walked(form, word) == bool(run_together(form).fullmatch(word)), (form.text, word)
