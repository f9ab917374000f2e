"""Texts a parent or child reads, in Kazakh, Russian and English.

API error bodies stay machine-readable English (``error`` is the stable code the app
translates); everything sent to a person (SMS, push notifications to guardians, the alerts a
child's iPhone shows for a command) comes from here.
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
    # Push notifications to guardians (parental.notifications.texts fills them in and keeps a
    # title within 50 characters and a body within 180). Names and times are set off so that no
    # Kazakh or Russian word has to agree with them: a name takes no case ending, a verb no
    # gender.
    "push.place.enter.title": {
        "kk": "{child} «{place}» аймағына келді",
        "ru": "{child}: вход в зону «{place}»",
        "en": "{child} arrived at {place}",
    },
    "push.place.enter.body": {
        "kk": "{child} «{place}» аймағына келді. Уақыты: {time}.",
        "ru": "{child} в зоне «{place}» с {time}.",
        "en": "{child} arrived at {place} at {time}.",
    },
    "push.place.exit.title": {
        "kk": "{child} «{place}» аймағынан шықты",
        "ru": "{child}: выход из зоны «{place}»",
        "en": "{child} left {place}",
    },
    "push.place.exit.body": {
        "kk": "{child} «{place}» аймағынан шықты. Уақыты: {time}.",
        "ru": "{child} вне зоны «{place}» с {time}.",
        "en": "{child} left {place} at {time}.",
    },
    "push.place.not_arrived.title": {
        "kk": "{child} «{place}» аймағына келмеді",
        "ru": "{child} не в зоне «{place}»",
        "en": "{child} has not arrived at {place}",
    },
    "push.place.not_arrived.body": {
        "kk": "{child} «{place}» аймағына әлі келген жоқ. Күтілген уақыт: {by}. "
        "Баланың қайда екенін тексеріңіз.",
        "ru": "Ребёнка ждали в зоне «{place}» к {by}, но его там нет. Проверьте, где {child}.",
        "en": "{child} was expected at {place} by {by} and has not been seen there. "
        "Check where {child} is.",
    },
    "push.alarm.sos.title": {
        "kk": "{child}: SOS белгісі",
        "ru": "{child}: сигнал SOS",
        "en": "SOS from {child}",
    },
    "push.alarm.sos.body": {
        "kk": "{child} SOS батырмасын басты. Уақыты: {time}. "
        "Баланың қайда екенін қосымшадан көріп, хабарласыңыз.",
        "ru": "Сигнал SOS в {time}. Откройте приложение, чтобы увидеть, где {child}, и позвоните.",
        "en": "{child} pressed SOS at {time}. Open the app to see where {child} is and call.",
    },
    "push.alarm.low_battery.title": {
        "kk": "{child}: телефонның заряды аз",
        "ru": "{child}: телефон скоро разрядится",
        "en": "{child}'s phone battery is low",
    },
    "push.alarm.low_battery.body": {
        "kk": "Батарея заряды {battery}%, телефон зарядталып тұрған жоқ. "
        "Балаға телефонды зарядтауды еске салыңыз.",
        "ru": "Заряд батареи {battery}%, зарядка не подключена. "
        "Напомните ребёнку зарядить телефон.",
        "en": "Battery at {battery}% and not charging. Remind {child} to charge the phone.",
    },
    "push.alarm.device_silent.title": {
        "kk": "{child}: телефон байланыста жоқ",
        "ru": "{child}: телефон не на связи",
        "en": "No signal from {child}'s phone",
    },
    "push.alarm.device_silent.body": {
        "kk": "Баланың телефонынан хабар жоқ. Соңғы байланыс: {since}. "
        "Телефон өшірулі, заряды біткен немесе желіден тыс болуы мүмкін.",
        "ru": "Телефон ребёнка не выходит на связь с {since}. "
        "Возможно, он выключен, разряжен или вне сети.",
        "en": "Nothing heard from {child}'s phone since {since}. "
        "It may be switched off, flat or out of network.",
    },
    "push.alarm.sim_moved.title": {
        "kk": "{child}: SIM-карта басқа телефонда",
        "ru": "{child}: SIM-карта в другом телефоне",
        "en": "{child}'s SIM is in another phone",
    },
    "push.alarm.sim_moved.body": {
        "kk": "Оператор баланың SIM-картасын басқа телефонда анықтады. Уақыты: {time}. "
        "Күтпеген болсаңыз, баламен хабарласыңыз.",
        "ru": "В {time} оператор обнаружил SIM-карту ребёнка в другом телефоне. "
        "Если вы этого не ожидали, свяжитесь с ребёнком.",
        "en": "At {time} the operator saw {child}'s SIM card in a different phone. "
        "If you did not expect this, check with {child}.",
    },
    "push.filter.self_harm.title": {
        "kk": "{child}: қолдауыңыз керек болуы мүмкін",
        "ru": "{child}: возможно, нужна ваша поддержка",
        "en": "{child} may need your support",
    },
    "push.filter.self_harm.body": {
        "kk": "{time}: баланың телефонында өзіне зиян келтіру не суицид туралы сайт жабылды. "
        "Баламен сабырмен сөйлесіңіз; кеңестер мен сенім телефондары қосымшада.",
        "ru": "В {time} на телефоне ребёнка заблокирован сайт о самоповреждении или суициде. "
        "Спокойно поговорите с ребёнком; советы и телефоны доверия есть в приложении.",
        "en": "At {time} a site about self-harm or suicide was blocked on {child}'s phone. "
        "Talk to {child} calmly; the app has advice and helplines.",
    },
    "push.messages.self_harm.title": {
        "kk": "{child}: қолдауыңыз керек болуы мүмкін",
        "ru": "{child}: возможно, нужна ваша поддержка",
        "en": "{child} may need your support",
    },
    "push.messages.self_harm.body": {
        "kk": "{time}: {app} қосымшасындағы хабарламада өзіне зиян келтіру не суицид туралы "
        "сөз бар. Үзіндісі қосымшада; баламен сабырмен сөйлесіңіз.",
        "ru": "В {time} в переписке в {app} есть слова о самоповреждении или суициде. "
        "Отрывок в приложении; спокойно поговорите с ребёнком.",
        "en": "At {time} a message in {app} speaks of self-harm or suicide. "
        "The excerpt is in the app; talk to {child} calmly.",
    },
    "push.messages.risk.title": {
        "kk": "{child}: қауіпті хабарлама",
        "ru": "{child}: тревожное сообщение",
        "en": "{child}: a worrying message",
    },
    "push.messages.risk.body_drugs": {
        "kk": "{time}: {app} қосымшасындағы хабарлама есірткі туралы. Үзіндісі қосымшада.",
        "ru": "В {time} в переписке в {app} речь о наркотиках. Отрывок в приложении.",
        "en": "At {time} a message in {app} is about drugs. The excerpt is in the app.",
    },
    "push.messages.risk.body_bullying": {
        "kk": "{time}: {app} қосымшасында балаға қорлау не қорқыту болуы мүмкін. "
        "Үзіндісі қосымшада.",
        "ru": "В {time} в переписке в {app} похоже на травлю или оскорбления. "
        "Отрывок в приложении.",
        "en": "At {time} a message in {app} looks like bullying. The excerpt is in the app.",
    },
    "push.messages.risk.body_grooming": {
        "kk": "{time}: {app} қосымшасында бейтаныс адам баланы құпияға не кездесуге "
        "көндіруі мүмкін. Үзіндісі қосымшада.",
        "ru": "В {time} в переписке в {app} кто-то, возможно, склоняет ребёнка к секретам "
        "или встрече. Отрывок в приложении.",
        "en": "At {time} someone in {app} may be pressing {child} into secrets or a meeting. "
        "The excerpt is in the app.",
    },
    "push.messages.risk.body_violence": {
        "kk": "{time}: {app} қосымшасындағы хабарламада зорлық-зомбылық не қорқыту бар. "
        "Үзіндісі қосымшада.",
        "ru": "В {time} в переписке в {app} есть угрозы или насилие. Отрывок в приложении.",
        "en": "At {time} a message in {app} speaks of violence or threats. "
        "The excerpt is in the app.",
    },
    "push.messages.risk.body_sexual": {
        "kk": "{time}: {app} қосымшасындағы хабарлама жасына сай емес жыныстық мазмұнда. "
        "Үзіндісі қосымшада.",
        "ru": "В {time} в переписке в {app} сообщение сексуального характера. "
        "Отрывок в приложении.",
        "en": "At {time} a message in {app} has sexual content. The excerpt is in the app.",
    },
    # One notice for several labels at once; the labels are named by push.messages.label.*.
    "push.messages.risk.body_several": {
        "kk": "{time}: {app} қосымшасындағы хат алмасуда бірнеше қауіп бар: {labels}. "
        "Үзінділері қосымшада.",
        "ru": "В {time} в переписке в {app} сразу несколько тревожных тем: {labels}. "
        "Отрывки в приложении.",
        "en": "At {time} messages in {app} raised several alerts: {labels}. "
        "The excerpts are in the app.",
    },
    "push.messages.self_harm.body_also": {
        "kk": "{time}: {app} қосымшасындағы хабарламада өзіне зиян келтіру не суицид туралы "
        "сөз бар, сондай-ақ: {labels}. Үзінділері қосымшада; баламен сабырмен сөйлесіңіз.",
        "ru": "В {time} в переписке в {app} есть слова о самоповреждении или суициде, а также: "
        "{labels}. Отрывки в приложении; спокойно поговорите с ребёнком.",
        "en": "At {time} a message in {app} speaks of self-harm or suicide, and also: {labels}. "
        "The excerpts are in the app; talk to {child} calmly.",
    },
    # Alerts past the child's hourly cap, gathered into one notice sent at the period's end.
    "push.messages.risk.title_gathered": {
        "kk": "{child}: тағы {count} ескерту",
        "ru": "{child}: ещё предупреждения ({count})",
        "en": "{child}: more alerts ({count})",
    },
    "push.messages.risk.body_gathered": {
        "kk": "{time} бастап тағы ескертулер: {count} ({labels}). Сізді көп хабарламамен "
        "мазаламау үшін олар бір хабарламаға жиналды; барлығы қосымшада.",
        "ru": "Ещё предупреждения с {time}: {count} ({labels}). Они собраны в одно "
        "уведомление, чтобы не засыпать вас; все они в приложении.",
        "en": "More alerts since {time}: {count} ({labels}). They are gathered into one "
        "notice so as not to flood you; all of them are in the app.",
    },
    "push.messages.self_harm.body_gathered": {
        "kk": "{time} бастап тағы ескертулер: {count} ({labels}), олардың ішінде өзіне зиян "
        "келтіру туралы. Барлығы қосымшада; баламен сабырмен сөйлесіңіз.",
        "ru": "Ещё предупреждения с {time}: {count} ({labels}), среди них о самоповреждении. "
        "Все они в приложении; спокойно поговорите с ребёнком.",
        "en": "More alerts since {time}: {count} ({labels}), self-harm among them. They are "
        "gathered into one notice; all are in the app. Talk to {child} calmly.",
    },
    "push.messages.label.self_harm": {
        "kk": "өзіне зиян келтіру",
        "ru": "самоповреждение",
        "en": "self-harm",
    },
    "push.messages.label.drugs": {"kk": "есірткі", "ru": "наркотики", "en": "drugs"},
    "push.messages.label.bullying": {"kk": "қорлау", "ru": "травля", "en": "bullying"},
    "push.messages.label.grooming": {
        "kk": "кездесуге көндіру",
        "ru": "склонение к встрече",
        "en": "grooming",
    },
    "push.messages.label.violence": {
        "kk": "зорлық-зомбылық",
        "ru": "насилие",
        "en": "violence",
    },
    "push.messages.label.sexual": {
        "kk": "жыныстық мазмұн",
        "ru": "сексуальный контент",
        "en": "sexual content",
    },
    "push.filter.unblock_request.title": {
        "kk": "{child} сайтты ашуды сұрайды",
        "ru": "{child} просит открыть сайт",
        "en": "{child} asks to open a site",
    },
    "push.filter.unblock_request.body": {
        "kk": "{child} {host} сайтын ашуды сұрайды. Қосымшада жауап беріңіз.",
        "ru": "{child} просит открыть {host}. Ответьте в приложении.",
        "en": "{child} asks you to open {host}. Answer in the app.",
    },
    "push.filter.unblock_request.body_again": {
        "kk": "{child} {host} сайтын ашуды қайта сұрайды (барлығы {count} рет). "
        "Қосымшада жауап беріңіз.",
        "ru": "{child} снова просит открыть {host}. Просьб: {count}. Ответьте в приложении.",
        "en": "{child} asks again to open {host} ({count} times now). Answer in the app.",
    },
    "push.screen_time.extra_time_request.title": {
        "kk": "{child} қосымша уақыт сұрайды",
        "ru": "{child} просит ещё времени",
        "en": "{child} asks for more time",
    },
    "push.screen_time.extra_time_request.body_app": {
        "kk": "{child} бүгін {app} үшін тағы {minutes} минут сұрайды.",
        "ru": "{child} просит ещё {minutes} мин на сегодня для {app}.",
        "en": "{child} asks for {minutes} more minutes in {app} today.",
    },
    "push.screen_time.extra_time_request.body_category": {
        "kk": "{child} бүгін «{category}» санаты үшін тағы {minutes} минут сұрайды.",
        "ru": "{child} просит ещё {minutes} мин на сегодня для категории «{category}».",
        "en": "{child} asks for {minutes} more minutes of {category} today.",
    },
    "push.screen_time.extra_time_request.body_total": {
        "kk": "{child} бүгінге тағы {minutes} минут экран уақытын сұрайды.",
        "ru": "{child} просит ещё {minutes} мин экранного времени на сегодня.",
        "en": "{child} asks for {minutes} more minutes of screen time today.",
    },
    "push.screen_time.app_install_request.title": {
        "kk": "{child} қосымша орнатқысы келеді",
        "ru": "{child} просит установить приложение",
        "en": "{child} wants to install an app",
    },
    "push.screen_time.app_install_request.body": {
        "kk": "{child} «{app}» қосымшасын орнатуға рұқсат сұрайды. Қосымшада жауап беріңіз.",
        "ru": "{child} просит разрешения установить «{app}». Ответьте в приложении.",
        "en": "{child} asks for permission to install {app}. Answer in the app.",
    },
    "push.screen_time.task_done.title": {
        "kk": "{child} тапсырманы орындады",
        "ru": "{child}: задание выполнено",
        "en": "{child} finished a task",
    },
    "push.screen_time.task_done.body": {
        "kk": "{child} «{task}» тапсырмасын орындағанын белгіледі. "
        "Растасаңыз, {minutes} минут қосымша уақыт беріледі.",
        "ru": "Задание «{task}» отмечено как выполненное. "
        "Подтвердите, и {child} получит ещё {minutes} мин.",
        "en": "{child} marked “{task}” as done. Approve it to give {minutes} more minutes.",
    },
    "push.screen_time.task_done.body_no_reward": {
        "kk": "{child} «{task}» тапсырмасын орындағанын белгіледі. "
        "Тексеріп, қосымшада жауап беріңіз.",
        "ru": "{child}: задание «{task}» отмечено как выполненное. "
        "Проверьте и ответьте в приложении.",
        "en": "{child} marked “{task}” as done. Check it and answer in the app.",
    },
    "push.screen_time.limit_reached.title": {
        "kk": "{child}: уақыт шегі бітті",
        "ru": "{child}: лимит времени исчерпан",
        "en": "{child} reached a screen-time limit",
    },
    "push.screen_time.limit_reached.body_app": {
        "kk": "{child}: {app} үшін бүгінгі шек ({minutes} минут) таусылды.",
        "ru": "{child}: лимит на сегодня для {app} ({minutes} мин) исчерпан.",
        "en": "{child} has used up today's {minutes} minutes in {app}.",
    },
    "push.screen_time.limit_reached.body_category": {
        "kk": "{child}: «{category}» санаты үшін бүгінгі шек ({minutes} минут) таусылды.",
        "ru": "{child}: лимит на сегодня для категории «{category}» ({minutes} мин) исчерпан.",
        "en": "{child} has used up today's {minutes} minutes of {category}.",
    },
    "push.screen_time.limit_reached.body_total": {
        "kk": "{child}: бүгінгі экран уақыты ({minutes} минут) таусылды.",
        "ru": "{child}: экранное время на сегодня ({minutes} мин) закончилось.",
        "en": "{child} has used up all of today's screen time ({minutes} minutes).",
    },
    "push.usage.weekly_summary.title": {
        "kk": "{child}: апта қорытындысы",
        "ru": "{child}: итоги недели",
        "en": "{child}'s week on the phone",
    },
    "push.usage.weekly_summary.body": {
        "kk": "{week}: экран уақыты {total}.",
        "ru": "{week}: экранное время {total}.",
        "en": "{week}: {total} of screen time.",
    },
    "push.usage.weekly_summary.body_more": {
        "kk": "{week}: экран уақыты {total}, алдыңғы аптадан {diff} көп.",
        "ru": "{week}: экранное время {total}, на {diff} больше, чем неделей ранее.",
        "en": "{week}: {total} of screen time, {diff} more than the week before.",
    },
    "push.usage.weekly_summary.body_less": {
        "kk": "{week}: экран уақыты {total}, алдыңғы аптадан {diff} аз.",
        "ru": "{week}: экранное время {total}, на {diff} меньше, чем неделей ранее.",
        "en": "{week}: {total} of screen time, {diff} less than the week before.",
    },
    "push.usage.weekly_summary.body_same": {
        "kk": "{week}: экран уақыты {total}, алдыңғы аптамен шамалас.",
        "ru": "{week}: экранное время {total}, примерно как неделей ранее.",
        "en": "{week}: {total} of screen time, about the same as the week before.",
    },
    "push.usage.weekly_summary.top_app": {
        "kk": " Ең көп қолданылғаны: {app}.",
        "ru": " Чаще всего: {app}.",
        "en": " Most used: {app}.",
    },
    "push.child.adult.title": {
        "kk": "{child}: бақылау аяқталды",
        "ru": "{child}: наблюдение завершено",
        "en": "{child}: monitoring has ended",
    },
    "push.child.adult.body": {
        "kk": "{child}: 18 жасқа толды, бақылау тоқтатылды. Сақталған деректер {date} жойылады.",
        "ru": "{child}: исполнилось 18, наблюдение прекращено. Сохранённые данные будут "
        "удалены {date}.",
        "en": "{child}: turned 18, so monitoring has stopped. The stored data will be deleted "
        "on {date}.",
    },
    "push.duration.minutes": {"kk": "{minutes} мин", "ru": "{minutes} мин", "en": "{minutes} min"},
    "push.duration.hours": {
        "kk": "{hours} сағ {minutes} мин",
        "ru": "{hours} ч {minutes} мин",
        "en": "{hours} h {minutes} min",
    },
    "push.category.social": {"kk": "әлеуметтік желілер", "ru": "соцсети", "en": "social media"},
    "push.category.games": {"kk": "ойындар", "ru": "игры", "en": "games"},
    "push.category.video": {"kk": "бейне", "ru": "видео", "en": "video"},
    "push.category.messaging": {"kk": "мессенджерлер", "ru": "мессенджеры", "en": "messaging"},
    "push.category.education": {"kk": "оқу", "ru": "учёба", "en": "education"},
    "push.category.browser": {"kk": "браузер", "ru": "браузер", "en": "browser"},
    "push.category.other": {"kk": "басқа", "ru": "другое", "en": "other apps"},
    # The alerts an iPhone shows for a guardian's command (parental.commands.push), read by
    # the child: iOS lets an app ring, or tell the child, only through a visible alert.
    "device.command.ring.title": {
        "kk": "Ата-анаң телефонды іздеп жатыр",
        "ru": "Родители ищут этот телефон",
        "en": "Your parent is looking for this phone",
    },
    "device.command.ring.body": {
        "kk": "Телефон дыбыссыз режимде тұрса да қатты шырылдайды. Тапсаң, ата-анаңа хабарлас.",
        "ru": "Телефон громко звонит, даже в беззвучном режиме. Нашёлся? Позвони родителям.",
        "en": "The phone rings loudly, even on silent. Found it? Call your parent.",
    },
    "device.command.message.title": {
        "kk": "Ата-анаңнан хабарлама",
        "ru": "Сообщение от родителей",
        "en": "A message from your parent",
    },
    "device.command.listen.title": {
        "kk": "Ата-анаң микрофон арқылы тыңдап жатыр",
        "ru": "Родители слушают через микрофон",
        "en": "Your parent is listening through the microphone",
    },
    "device.command.listen.body": {
        "kk": "Микрофон {seconds} секундқа дейін жазады. Жазу жүріп жатқанда экранда белгі тұрады.",
        "ru": "Микрофон записывает до {seconds} с. Пока идёт запись, на экране виден значок.",
        "en": "The microphone records for up to {seconds} seconds. A sign stays on the screen "
        "while it records.",
    },
}


def text(key: str, locale: Locale, **values: object) -> str:
    """The text ``key`` in ``locale``, with ``values`` filled in."""
    return _MESSAGES[key][locale].format(**values)


def keys() -> set[str]:
    return set(_MESSAGES)
