"""What the block page says, in Kazakh, Russian and English.

The page is read by the child, so every text comes in the three languages the carrier serves.
They live here rather than in ``parental.i18n`` because the filter package may use nothing of
``parental`` but its kit.
"""

from __future__ import annotations

from typing import Literal

Locale = Literal["kk", "ru", "en"]
LOCALES: tuple[Locale, ...] = ("kk", "ru", "en")

TEXTS: dict[str, dict[Locale, str]] = {
    "title": {
        "kk": "Бұл сайт жабық",
        "ru": "Этот сайт заблокирован",
        "en": "This site is blocked",
    },
    "blocked": {
        "kk": "{host} сайтына кіру шектелген.",
        "ru": "Доступ к {host} ограничен.",
        "en": "Access to {host} is restricted.",
    },
    "because": {"kk": "Себебі:", "ru": "Причина:", "en": "Why:"},
    "uncategorised": {
        "kk": "Бұл атау сіздің желіңізде жабылған.",
        "ru": "Это имя заблокировано в вашей сети.",
        "en": "This name is blocked on your line.",
    },
    "care": {
        "kk": "Сен жалғыз емессің. Қазір сөйлескің келсе, қоңырау шал:",
        "ru": "Ты не один. Если хочешь поговорить прямо сейчас, позвони:",
        "en": "You are not alone. If you want to talk to someone now, call:",
    },
    "ask": {
        "kk": "Ата-анамнан рұқсат сұрау",
        "ru": "Попросить разрешения у родителей",
        "en": "Ask my parent",
    },
    "report": {
        "kk": "Бұл қате деп хабарлау",
        "ru": "Сообщить об ошибке",
        "en": "Report a mistake",
    },
    "asked": {
        "kk": "Сұрауың ата-анаңа жіберілді. Олар жауап бергенде сайт ашылуы мүмкін.",
        "ru": "Запрос отправлен родителям. Когда они ответят, сайт может открыться.",
        "en": "Your request was sent to your parent. The site may open once they answer.",
    },
    "reported": {
        "kk": "Рақмет! Хабарламаңды мамандар тексереді.",
        "ru": "Спасибо! Сообщение проверят специалисты.",
        "en": "Thank you! Our reviewers will look at it.",
    },
    "no_child": {
        "kk": "Бұл құрылғы баланың нөміріне тіркелмеген, сондықтан сұрау жіберу мүмкін емес.",
        "ru": "Это устройство не привязано к детскому номеру, поэтому запрос отправить нельзя.",
        "en": "This device is not on a child's line, so no request can be sent.",
    },
    "expired": {
        "kk": "Бет ескірді. Сайтты қайта ашып, тағы бір рет байқап көр.",
        "ru": "Страница устарела. Открой сайт снова и попробуй ещё раз.",
        "en": "This page has expired. Open the site again and try once more.",
    },
    "too_many": {
        "kk": "Сұраулар тым көп. Кейінірек қайталап көр.",
        "ru": "Слишком много запросов. Попробуй позже.",
        "en": "Too many requests. Please try again later.",
    },
    "now_open": {
        "kk": "Бұл сайт енді ашық. Бірнеше секундтан кейін бетті жаңарт.",
        "ru": "Этот сайт теперь открыт. Обнови страницу через несколько секунд.",
        "en": "This site is open now. Reload the page in a few seconds.",
    },
    "about": {
        "kk": "Бұл — балалар SIM-картасының сүзгі беті.",
        "ru": "Это страница фильтра детской SIM-карты.",
        "en": "This is the filter page of a child SIM.",
    },
}


def text(key: str, locale: Locale, **values: str) -> str:
    return TEXTS[key][locale].format(**values)


def choose_locale(accept_language: str | None, default: Locale) -> Locale:
    """The first of kk/ru/en the browser asks for (by q-value, then order), else ``default``.

    ``kk-KZ`` counts as ``kk``; a malformed q-value counts as 0 rather than failing the page.
    """
    ranked: list[tuple[float, int, Locale]] = []
    for position, part in enumerate((accept_language or "").split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        for locale in LOCALES:
            if primary == locale and quality > 0:
                ranked.append((-quality, position, locale))
    return min(ranked)[2] if ranked else default
