"""Risk classifier for conversation messages: lexicon and patterns, explainable hits.

``Classifier.from_lexicon(data)`` (or ``Classifier.default()`` for the packaged lexicon)
compiles a validated lexicon; ``classify(text)`` returns ``Hit``s with the label, severity,
original span and the rule and form that fired. See ``lexicon`` for the data format.
"""

from telemetry.conversations.classify.classifier import Classifier, Hit, hit_as_dict, labels_of
from telemetry.conversations.classify.lexicon import (
    Label,
    LexiconError,
    Problem,
    Severity,
    default_lexicon,
    validate_lexicon,
)

__all__ = [
    "Classifier",
    "Hit",
    "Label",
    "LexiconError",
    "Problem",
    "Severity",
    "default_lexicon",
    "hit_as_dict",
    "labels_of",
    "validate_lexicon",
]
