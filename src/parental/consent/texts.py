"""What the child's transparency feed says of each entry, in Kazakh, Russian and English.

Kept beside the feed rather than in ``parental.i18n``, which holds what is sent to a person
(SMS, push): these are read only through the feed. The actor is set off with a colon in
Kazakh and Russian so that no verb has to agree with a guardian's gender. An action without a
text of its own still gets one (by its area, or the action itself): no entry goes unshown.
"""

from __future__ import annotations

from typing import get_args

from parental.i18n import DEFAULT_LOCALE, Locale

LOCALES: tuple[Locale, ...] = get_args(Locale)

WHO: dict[str, dict[Locale, str]] = {
    "guardian": {"kk": "Ата-ана ({name})", "ru": "Родитель ({name})", "en": "Parent ({name})"},
    "former_guardian": {"kk": "Бұрынғы ата-ана", "ru": "Бывший родитель", "en": "A former parent"},
    "device": {"kk": "Сенің телефоның", "ru": "Твой телефон", "en": "Your phone"},
    "carrier": {"kk": "Оператор", "ru": "Оператор", "en": "The carrier"},
    "admin": {"kk": "Әкімші", "ru": "Администратор", "en": "An administrator"},
}

PURPOSES: dict[str, dict[Locale, str]] = {
    "location": {"kk": "орналасқан жер", "ru": "местоположение", "en": "location"},
    "app_usage": {
        "kk": "қосымшаларды пайдалану",
        "ru": "использование приложений",
        "en": "app usage",
    },
    "messages": {"kk": "хабарламалар", "ru": "сообщения", "en": "messages"},
    "listening": {"kk": "тыңдау", "ru": "прослушивание", "en": "listening"},
}


def _t(kk: str, ru: str, en: str) -> dict[Locale, str]:
    return {"kk": kk, "ru": ru, "en": en}


ACTIONS: dict[str, dict[Locale, str]] = {
    "location.viewed": _t(
        "{who}: сенің қай жерде екеніңді қарады",
        "{who}: просмотр твоего местоположения",
        "{who} checked where you are",
    ),
    "location.history_viewed": _t(
        "{who}: сенің жүрген жерлеріңнің тарихын қарады",
        "{who}: просмотр истории твоих перемещений",
        "{who} looked at where you have been",
    ),
    "location.stream_opened": _t(
        "{who}: орныңды тікелей бақылады",
        "{who}: отслеживание твоего местоположения в реальном времени",
        "{who} followed your location live",
    ),
    "places.events_viewed": _t(
        "{who}: сенің келіп-кеткен уақыттарыңды қарады",
        "{who}: просмотр твоих приходов и уходов",
        "{who} looked at your arrivals and departures",
    ),
    "places.created": _t("{who}: орын қосты", "{who}: добавление места", "{who} added a place"),
    "places.updated": _t(
        "{who}: орынды өзгертті", "{who}: изменение места", "{who} changed a place"
    ),
    "places.deleted": _t("{who}: орынды жойды", "{who}: удаление места", "{who} removed a place"),
    "usage.viewed": _t(
        "{who}: экран уақытыңды қарады",
        "{who}: просмотр твоего экранного времени",
        "{who} looked at your screen time",
    ),
    "apps.viewed": _t(
        "{who}: қосымшаларыңды қарады",
        "{who}: просмотр твоих приложений",
        "{who} looked at your apps",
    ),
    "messages.alerts_viewed": _t(
        "{who}: хабарламалар туралы ескертулерді қарады",
        "{who}: просмотр предупреждений о сообщениях",
        "{who} looked at the alerts about your messages",
    ),
    "messages.excerpt_viewed": _t(
        "{who}: хабарламаларыңның үзіндісін оқыды",
        "{who}: чтение отрывка твоей переписки",
        "{who} read an excerpt of your messages",
    ),
    "messages.conversations_viewed": _t(
        "{who}: чаттарыңның тізімін қарады",
        "{who}: просмотр списка твоих чатов",
        "{who} looked at the list of your chats",
    ),
    "messages.transcript_viewed": _t(
        "{who}: чаттарыңның бірін оқыды",
        "{who}: чтение твоего чата",
        "{who} read one of your chats",
    ),
    "messages.label_searched": _t(
        "{who}: барлық чаттарыңнан бір тақырыптағы хабарламаларды оқыды",
        "{who}: чтение твоих сообщений на одну тему из всех чатов",
        "{who} read your messages on one subject across your chats",
    ),
    "command.ring": _t(
        "{who}: телефоныңды қатты шылдырлатты",
        "{who}: громкий сигнал на твой телефон",
        "{who} made your phone ring",
    ),
    "command.locate_now": _t(
        "{who}: телефоныңнан қазір қай жерде екенін сұрады",
        "{who}: запрос местоположения твоего телефона",
        "{who} asked your phone where it is now",
    ),
    "command.message": _t(
        "{who}: экраныңа хабарлама жіберді",
        "{who}: сообщение на твой экран",
        "{who} sent a message to your screen",
    ),
    "command.listen": _t(
        "{who}: тыңдау сеансын бастады (айналаңдағы дыбыстың қысқа жазбасы)",
        "{who}: прослушивание (короткая запись звука вокруг тебя)",
        "{who} started a listening session (a short recording around you)",
    ),
    "command.audio_played": _t(
        "{who}: тыңдау сеансының жазбасын тыңдады",
        "{who}: прослушивание записи",
        "{who} played the recording of a listening session",
    ),
    "command.sync_policy": _t(
        "{who}: телефоныңа жаңа баптауларды жіберді",
        "{who}: новые настройки для твоего телефона",
        "{who} sent new settings to your phone",
    ),
    "filter.profile_updated": _t(
        "{who}: сайт сүзгісін өзгертті",
        "{who}: изменение фильтра сайтов",
        "{who} changed which kinds of sites are blocked",
    ),
    "filter.entry_added": _t(
        "{who}: бір сайтқа рұқсат берді немесе оны бұғаттады",
        "{who}: разрешение или блокировка сайта",
        "{who} allowed or blocked a site",
    ),
    "filter.entry_removed": _t(
        "{who}: сайт ережесін жойды",
        "{who}: удаление правила для сайта",
        "{who} removed a rule for a site",
    ),
    "filter.activity_viewed": _t(
        "{who}: кірген сайттарыңды қарады",
        "{who}: просмотр посещённых тобой сайтов",
        "{who} looked at the sites you visited",
    ),
    "filter.query_log_viewed": _t(
        "{who}: телефоның сұраған мекенжайлар тізімін қарады",
        "{who}: просмотр адресов, которые запрашивал твой телефон",
        "{who} looked at the addresses your phone looked up",
    ),
    "filter.unblock_requested": _t(
        "{who}: сайтты ашуды сұрады",
        "{who}: запрос на разблокировку сайта",
        "{who} asked to unblock a site",
    ),
    "filter.unblock_decided": _t(
        "{who}: сайтты ашу туралы сұрауыңа жауап берді",
        "{who}: ответ на запрос о разблокировке сайта",
        "{who} answered the request to unblock a site",
    ),
    "filter.report_filed": _t(
        "{who}: сайт туралы хабарлады",
        "{who}: жалоба на сайт",
        "{who} reported a site",
    ),
    "screen_time.rules_changed": _t(
        "{who}: экран уақытының ережелерін өзгертті",
        "{who}: изменение правил экранного времени",
        "{who} changed your screen-time rules",
    ),
    "screen_time.paused": _t(
        "{who}: телефоныңды уақытша тоқтатты",
        "{who}: пауза на твоём телефоне",
        "{who} paused your phone",
    ),
    "screen_time.resumed": _t(
        "{who}: үзілісті аяқтады",
        "{who}: пауза снята",
        "{who} ended the pause",
    ),
    "screen_time.extra_time": _t(
        "{who}: саған қосымша уақыт берді",
        "{who}: дополнительное время для тебя",
        "{who} gave you extra time",
    ),
    "screen_time_request.created": _t(
        "{who}: ата-анаңа сұрауыңды жіберді",
        "{who}: твой запрос отправлен родителям",
        "{who} sent your request to your parents",
    ),
    "screen_time_request.decided": _t(
        "{who}: сұрауыңа жауап берді",
        "{who}: ответ на твой запрос",
        "{who} answered your request",
    ),
    "screen_time_task.created": _t(
        "{who}: саған тапсырма берді",
        "{who}: новое задание для тебя",
        "{who} gave you a task",
    ),
    "screen_time_task.decided": _t(
        "{who}: тапсырмаңды тексерді",
        "{who}: проверка твоего задания",
        "{who} checked your task",
    ),
    "screen_time_task.done": _t(
        "{who}: тапсырманы орындалды деп белгіледі",
        "{who}: задание отмечено как выполненное",
        "{who} marked a task as done",
    ),
    "screen_time_task.deleted": _t(
        "{who}: тапсырманы жойды", "{who}: удаление задания", "{who} removed a task"
    ),
    "apps.category_set": _t(
        "{who}: қосымшаның санатын өзгертті",
        "{who}: изменение категории приложения",
        "{who} changed an app's category",
    ),
    "apps.category_cleared": _t(
        "{who}: қосымшаның санатын өзгертті",
        "{who}: изменение категории приложения",
        "{who} changed an app's category",
    ),
    "alarms.viewed": _t(
        "{who}: дабылдарды қарады",
        "{who}: просмотр тревожных сигналов",
        "{who} looked at the alerts from your phone",
    ),
    "alarms.settings_updated": _t(
        "{who}: дабыл баптауларын өзгертті",
        "{who}: изменение настроек тревожных сигналов",
        "{who} changed the alert settings",
    ),
    "devices.status_viewed": _t(
        "{who}: телефоныңның заряды мен байланысын қарады",
        "{who}: просмотр заряда и связи твоего телефона",
        "{who} checked your phone's battery and signal",
    ),
    "child.added": _t(
        "{who}: сені отбасына қосты",
        "{who}: добавление тебя в семью",
        "{who} added you to the family",
    ),
    "child.data_exported": _t(
        "{who}: сен туралы барлық деректерді жүктеп алды",
        "{who}: выгрузка всех твоих данных",
        "{who} downloaded everything held about you",
    ),
    # Written by the service itself when the child turns 18 (shown as the carrier's).
    "child.stepped_down": _t(
        "{who}: бақылау аяқталды, саған 18 жас толды",
        "{who}: наблюдение окончено, тебе исполнилось 18",
        "{who}: monitoring has ended, you are 18",
    ),
    "device.paired": _t(
        "{who}: телефон қосылды", "{who}: подключение телефона", "{who} was connected"
    ),
    "device.revoked": _t(
        "{who}: телефонды ажыратты", "{who}: отключение телефона", "{who} disconnected a phone"
    ),
    "consent.granted": _t(
        "{who}: деректер жинауға келісім берді — {purpose}",
        "{who}: согласие на сбор данных — {purpose}",
        "{who} agreed to collecting: {purpose}",
    ),
    "consent.withdrawn": _t(
        "{who}: келісімді кері қайтарды — {purpose}",
        "{who}: отзыв согласия — {purpose}",
        "{who} withdrew consent to: {purpose}",
    ),
}

# An action without its own text: by its area, else the action's name itself.
AREAS: dict[str, dict[Locale, str]] = {
    "location": _t(
        "{who}: орныңа қатысты әрекет ({action})",
        "{who}: действие с твоим местоположением ({action})",
        "{who} did something with your location ({action})",
    ),
    "messages": _t(
        "{who}: хабарламаларыңа қатысты әрекет ({action})",
        "{who}: действие с твоими сообщениями ({action})",
        "{who} did something with your messages ({action})",
    ),
    "command": _t(
        "{who}: телефоныңа команда жіберді ({action})",
        "{who}: команда твоему телефону ({action})",
        "{who} sent a command to your phone ({action})",
    ),
}
OTHER = _t("{who}: {action}", "{who}: {action}", "{who}: {action}")


def negotiate(accept_language: str | None) -> Locale:
    """The feed's language from an ``Accept-Language`` header: the supported language the
    caller weighs highest (earlier wins a tie), else the service's default (Kazakh)."""
    best: tuple[float, int, Locale] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LOCALES:
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight <= 0:
            continue
        locale: Locale = primary
        candidate = (-weight, position, locale)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else DEFAULT_LOCALE


def who(kind: str, locale: Locale, name: str | None = None) -> str:
    return WHO[kind][locale].format(name=name or "")


def describe(action: str, locale: Locale, *, who: str, purpose: str | None = None) -> str:
    """The line the child reads for one entry."""
    purpose_text = PURPOSES.get(purpose or "", {}).get(locale, purpose or "")
    template = ACTIONS.get(action) or AREAS.get(action.split(".")[0]) or OTHER
    return template[locale].format(who=who, action=action, purpose=purpose_text)
