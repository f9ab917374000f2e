"""The conversation risk classifier: spans, obfuscation, mixed script, hard negatives, data."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry.conversations.classify import Classifier, Hit, Label, Severity, labels_of
from telemetry.conversations.classify.scoring import Scores, score

DATA = Path(__file__).parents[2] / "data" / "conversations"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.default()


def load(name: str) -> list[dict[str, Any]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


def found(classifier: Classifier, text: str) -> set[str]:
    return {label.value for label in labels_of(classifier.classify(text))}


def spans(classifier: Classifier, text: str) -> list[str]:
    return [text[h.start : h.end] for h in classifier.classify(text)]


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("ok so... I want to KILL MYSELF!!!", "KILL MYSELF"),
        ("🙂🙂 хочу покончить с собой", "покончить с собой"),
        ("ну всё, у.б.ь.ю тебя", "у.б.ь.ю"),
        ("he said: k i l l   myself", "k i l l   myself"),
        ("думаю о суициде", "суициде"),
        # "й" written as и + combining breve: the span takes the mark with it.
        ("Самоубии\u0306ство", "Самоубии\u0306ство"),
    ],
)
def test_spans_point_at_the_original_characters(
    classifier: Classifier, text: str, span: str
) -> None:
    assert span in spans(classifier, text)


def test_a_hit_names_its_label_severity_rule_and_form(classifier: Classifier) -> None:
    (hit,) = classifier.classify("I think about self-harm a lot")
    assert hit == Hit(
        Label.SELF_HARM, Severity.HIGH, 14, 23, rule_id="self_harm.suicide", form="self harm*"
    )
    # A Russian term also matches its transliteration, and says so.
    (hit,) = classifier.classify("dumayu o suicide")
    assert (hit.rule_id, hit.form) == ("self_harm.suicide", "суицид*")


def test_a_proximity_rule_reports_both_ends(classifier: Classifier) -> None:
    (hit,) = classifier.classify("я правда очень хочу сегодня умереть")
    assert hit.rule_id == "self_harm.want_die"
    assert hit.form == "хочу + умереть"
    assert "я правда очень хочу сегодня умереть"[hit.start : hit.end] == "хочу сегодня умереть"
    assert found(classifier, "хочу купить новый телефон, умереть как дорого") == set()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("i w@nt t0 k1ll mys3lf", "self_harm"),  # l33t
        ("I just want to diiiiieeee", "self_harm"),  # repeated letters
        ("SU1C1DE", "self_harm"),
        ("с у и ц и д", "self_harm"),  # spaced
        ("у-м-е-р-е-т-ь хочу", "self_harm"),  # hyphenated
        ("s e n d nudes", "sexual"),
        ("wanna $ext?", "sexual"),
        ("с*кс", "sexual"),  # a masked vowel
        ("нарк0тики есть?", "drugs"),
        ("3арежу", "violence"),  # 3 for з
        ("kill!!! you!!!", "violence"),
    ],
)
def test_obfuscations(classifier: Classifier, text: str, label: str) -> None:
    assert label in found(classifier, text)


@pytest.mark.parametrize(
    ("text", "span", "rule_id", "form"),
    [
        # A phrase spelled out letter by letter is one joined word: matched run together.
        (
            "k i l l m y s e l f",
            "k i l l m y s e l f",
            "self_harm.kill_self",
            "kill+en_verb myself",
        ),
        ("ok k.i.l.l m.y.s.e.l.f...", "k.i.l.l m.y.s.e.l.f", "self_harm.kill_self", None),
        ("I want to k-i-l-l m-y-s-e-l-f", "k-i-l-l m-y-s-e-l-f", "self_harm.kill_self", None),
        # A proximity rule's forms next to each other, in either order.
        (
            "х о ч у  у м е р е т ь",
            "х о ч у  у м е р е т ь",
            "self_harm.want_die",
            "хочу + умереть",
        ),
        (
            "у м е р е т ь  х о ч у",
            "у м е р е т ь  х о ч у",
            "self_harm.want_die",
            "хочу + умереть",
        ),
        (
            "o l g i m  k e l e d i",
            "o l g i m  k e l e d i",
            "self_harm.want_die_kk",
            "өлгім келеді",
        ),
        # "_" run together: at most a word's letters between.
        ("d o n t t e l l y o u r p a r e n t s", None, "grooming.secrecy", "dont tell _ parents"),
    ],
)
def test_a_phrase_spelled_letter_by_letter(
    classifier: Classifier, text: str, span: str | None, rule_id: str, form: str | None
) -> None:
    hits = [h for h in classifier.classify(text) if h.rule_id == rule_id]
    assert hits, text
    (hit,) = hits
    assert text[hit.start : hit.end] == (span or text)  # the span covers the letters themselves
    if form is not None:
        assert hit.form == form


@pytest.mark.parametrize(
    "text",
    [
        "this exam is k i l l i n g m e",  # the negatives run together too
        "k i l l t i m e",
        "m y s e l f",  # half a phrase
        "s k i l l m y s e l f",  # the whole joined word must be the phrase
        "k i n o tonight",
    ],
)
def test_letters_spelled_out_that_are_no_phrase_do_not_fire(
    classifier: Classifier, text: str
) -> None:
    assert classifier.classify(text) == []


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("kіll myself", "self_harm"),  # Cyrillic і inside a Latin word
        ("хочу уmереть", "self_harm"),  # Latin m inside a Cyrillic word
        ("сuицид", "self_harm"),  # Latin u for Cyrillic и
        ("ya hochu umeret", "self_harm"),  # Russian in Latin letters
        ("ya tebya ub'yu", "violence"),
        ("olgim keledi", "self_harm"),  # Kazakh in Latin letters
        ("олгим келеди", "self_harm"),  # Kazakh letters typed as Russian ones
        ("есiрткi бар ма", "drugs"),  # Latin i for Kazakh і
        ("dont tell ur mom, lets meet", "grooming"),
    ],
)
def test_mixed_script_and_transliteration(classifier: Classifier, text: str, label: str) -> None:
    assert label in found(classifier, text)


@pytest.mark.parametrize(
    "text",
    [
        "this exam is killing me",
        "Этот экзамен меня убивает",
        "давай убьём время до кино",
        "убить время",
        "I'm dying of laughter",
        "я умираю со смеху",
        "күлкіден өліп қалдым",
        "stop at the drug store for snacks",
        "зайди в аптеку за таблетками от кашля",
        "дәріханадан дәрі алдым",
        "can you shoot a photo of us",
        "shoot me a text when you're home",
        "our class has a talk on drug safety",
        "урок о вреде наркотиков",
        "don't tell mum about the surprise party",
        "I'd die for a day off school",
        "уақыт өлтіру үшін",
        "we killed it at the concert",
    ],
)
def test_hard_negatives_do_not_fire(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text) == []


def test_a_negative_only_silences_its_own_labels(classifier: Classifier) -> None:
    assert found(classifier, "at the drug store, wanna buy some weed?") == {"drugs"}
    assert found(classifier, "this exam is killing me, I want to die") == {"self_harm"}


def test_words_inside_other_words_do_not_fire(classifier: Classifier) -> None:
    assert classifier.classify("she has great skills and a lot of skillful moves") == []
    assert classifier.classify("мы забили гол, голы были красивые") == []
    assert classifier.classify("455 and 3") == []  # digits alone are not letters


def test_long_runs_are_matched_and_spanned_whole(classifier: Classifier) -> None:
    text = "want to d" + "i" * 500 + "e" * 300 + "!!!"
    assert spans(classifier, text) == [text[:-3]]
    # Runs of characters that spell several letters ("1" is "i" and "l") do not make the
    # expressions backtrack without end; they used to, on exactly these.
    assert classifier.classify("k" + "1" * 3000) == []
    assert classifier.classify("k" + "!|1l" * 1000) == []


def test_the_compiled_classifier_is_immutable(classifier: Classifier) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        classifier.version = "other"  # type: ignore[misc]


def test_the_labelled_set_meets_the_issue_targets(classifier: Classifier) -> None:
    # The tuning set: the lexicon was tuned on it, so this guards against regressions in fit;
    # the hold-out tests below are the measure of quality.
    scores = score(load("labelled.jsonl"), lambda text: labels_of(classifier.classify(text)))
    assert scores.per_label[Label.SELF_HARM].recall >= 0.9
    assert scores.overall.precision >= 0.8


@pytest.fixture(scope="module", params=["holdout.jsonl", "blind.jsonl"])
def unseen_scores(request: pytest.FixtureRequest, classifier: Classifier) -> Scores:
    """Scores on a set the lexicon was not tuned on (the hold-out's texts were not, though
    the kinds of message it missed were told to the lexicon's author; the blind set was
    never scored before its figures were recorded)."""
    return score(load(request.param), lambda text: labels_of(classifier.classify(text)))


def test_unseen_messages_meet_the_precision_target(unseen_scores: Scores) -> None:
    assert unseen_scores.overall.precision >= 0.8


# TARGET NOT MET (2026-12-04): self_harm recall 0.889 (32 of 36) on the hold-out and 0.429
# (27 of 63) on the blind set. A lexicon finds the ways of saying it that its authors thought
# of; see docs/benchmarks.md. Strict: the day the target is met this fails as XPASS and the
# marker must go.
@pytest.mark.xfail(strict=True, reason="self_harm recall on unseen messages < 0.9")
def test_unseen_messages_meet_the_self_harm_recall_target(unseen_scores: Scores) -> None:
    assert unseen_scores.per_label[Label.SELF_HARM].recall >= 0.9


def test_the_evaluation_sets_have_the_promised_shape() -> None:
    labelled, holdout = load("labelled.jsonl"), load("holdout.jsonl")
    assert len(labelled) >= 360
    assert len(holdout) >= 330
    for rows, fields, per_language in (
        (labelled, {"id", "lang", "text", "labels"}, 100),
        (holdout, {"id", "lang", "text", "labels", "hard_negative"}, 80),
    ):
        assert len({r["id"] for r in rows}) == len(rows)
        for row in rows:
            assert set(row) == fields
            assert row["lang"] in {"kk", "ru", "en", "mixed"}
            assert set(row["labels"]) <= {label.value for label in Label}
        languages = Counter(r["lang"] for r in rows)
        assert min(languages["kk"], languages["ru"], languages["en"]) >= per_language
        harmless = sum(1 for r in rows if not r["labels"])
        assert 0.4 <= harmless / len(rows) <= 0.6
        labels = Counter(name for r in rows for name in r["labels"])
        assert min(labels[label.value] for label in Label) >= 25
    assert not {r["text"] for r in labelled} & {r["text"] for r in holdout}
    # A hard negative is harmless by definition.
    hard = [r for r in holdout if r["hard_negative"]]
    assert len(hard) >= 60
    assert all(r["labels"] == [] for r in hard)


def plain(text: str) -> str:
    """A text as compared across sets: case and runs of white space do not make it new."""
    return " ".join(text.casefold().split())


def test_the_blind_set_has_the_promised_shape() -> None:
    # Written afterwards by someone who saw neither the lexicon nor the other two sets.
    blind = load("blind.jsonl")
    assert len(blind) >= 300
    assert len({r["id"] for r in blind}) == len(blind)
    for row in blind:
        assert set(row) == {"id", "lang", "text", "labels", "hard_negative"}
        assert row["id"].startswith("b")
        assert row["lang"] in {"kk", "ru", "en", "mixed"}
        assert set(row["labels"]) <= {label.value for label in Label}
        assert len(set(row["labels"])) == len(row["labels"])
    languages = Counter(r["lang"] for r in blind)
    assert min(languages["en"], languages["ru"]) >= 0.28 * len(blind)
    assert languages["kk"] >= 0.2 * len(blind)
    assert languages["mixed"] >= 0.05 * len(blind)
    harmless = sum(1 for r in blind if not r["labels"])
    assert 0.45 <= harmless / len(blind) <= 0.55
    labels = Counter(name for r in blind for name in r["labels"])
    assert labels[Label.SELF_HARM.value] >= 50
    assert min(labels[label.value] for label in Label) >= 30
    hard = [r for r in blind if r["hard_negative"]]
    assert len(hard) >= 80
    assert all(r["labels"] == [] for r in hard)
    texts = [plain(r["text"]) for r in blind]
    assert len(set(texts)) == len(texts)
    seen = {plain(r["text"]) for name in ("labelled.jsonl", "holdout.jsonl") for r in load(name)}
    assert not seen & set(texts)


RISKY = [
    "kill myself",
    "хочу умереть",
    "өзімді өлтіргім келеді",
    "send nudes",
    "не говори родителям",
    "закладка",
    "ты урод",
    "зарежу",
]
SPICE = "kilmysefхочуметьзакдрнгвсуицid 013$@!|*.-_'  \n\u0306\u0301"


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_arbitrary_unicode_never_raises(classifier: Classifier, text: str) -> None:
    for hit in classifier.classify(text):
        assert 0 <= hit.start < hit.end <= len(text)


@settings(max_examples=300, deadline=None)
@given(
    before=st.text(alphabet=SPICE, max_size=30),
    phrase=st.sampled_from(RISKY),
    after=st.text(max_size=30),
)
def test_spans_stay_inside_the_text(
    classifier: Classifier, before: str, phrase: str, after: str
) -> None:
    text = f"{before} {phrase} {after}"
    hits = classifier.classify(text)
    assert hits  # the phrase fires whatever surrounds it
    for hit in hits:
        assert 0 <= hit.start < hit.end <= len(text)
        assert text[hit.start : hit.end].strip() == text[hit.start : hit.end]
