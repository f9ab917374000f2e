"""Texts a parent or child reads, in Kazakh, Russian and English.

API error bodies stay machine-readable English (``error`` is the stable code the app
translates); everything sent to a person (SMS now, notifications later) comes from here.
"""

from __future__ import annotations

from typing import Literal

Locale = Literal["kk", "ru", "en"]
DEFAULT_LOCALE: Locale = "kk"

_MESSAGES: dict[str, dict[Locale, str]] = {
    "sms.sign_in_code": {
        "kk": "Кіру коды: {code}. Оны ешкімге айтпаңыз. Код {minutes} минут жарамды.",
        "ru": "Код для входа: {code}. Никому его не сообщайте. Код действует {minutes} мин.",
        "en": "Your sign-in code: {code}. Do not share it. It is valid for {minutes} minutes.",
    },
    "sms.invitation": {
        "kk": "{inviter} сізді «{family}» отбасына ата-ана ретінде шақырды. "
        "Қосылу үшін қосымшаға осы нөмірмен кіріңіз.",
        "ru": "{inviter} приглашает вас в семью «{family}» как родителя. "
        "Чтобы присоединиться, войдите в приложение с этим номером.",
        "en": '{inviter} invited you to the family "{family}" as a guardian. '
        "Sign in to the app with this number to join.",
    },
}


def text(key: str, locale: Locale, **values: object) -> str:
    """The text ``key`` in ``locale``, with ``values`` filled in."""
    return _MESSAGES[key][locale].format(**values)


def keys() -> set[str]:
    return set(_MESSAGES)
