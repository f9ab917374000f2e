"""The built-in categories and the age bands their defaults follow. Curators add more in SQL.

A category is ``block`` (its lists block) or ``allow`` (its lists are exceptions, such as sites
made for young children). Each has a default, on or off, per age band; a child's profile starts
from the defaults of the child's band and the guardian changes them from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

Kind = Literal["block", "allow"]


class AgeBand(StrEnum):
    UNDER_9 = "under_9"
    AGE_9_12 = "9_12"
    AGE_13_15 = "13_15"
    AGE_16_17 = "16_17"


def age_band(birthdate: date, today: date) -> AgeBand:
    """The band of a child born on ``birthdate``, on ``today`` (in the child's own zone)."""
    age = (
        today.year - birthdate.year - ((today.month, today.day) < (birthdate.month, birthdate.day))
    )
    if age < 9:
        return AgeBand.UNDER_9
    if age < 13:
        return AgeBand.AGE_9_12
    if age < 16:
        return AgeBand.AGE_13_15
    return AgeBand.AGE_16_17


@dataclass(frozen=True)
class CategoryDef:
    key: str
    kind: Kind
    names: dict[str, str]  # kk, ru, en
    descriptions: dict[str, str]
    defaults: dict[AgeBand, bool]


def _all(on: bool) -> dict[AgeBand, bool]:
    return dict.fromkeys(AgeBand, on)


BUILTIN: tuple[CategoryDef, ...] = (
    CategoryDef(
        "self_harm",
        "block",
        {"kk": "Өзіне зиян келтіру", "ru": "Самоповреждение", "en": "Self-harm"},
        {
            "kk": "Суицидті және өзіне зиян келтіруді насихаттайтын мазмұн.",
            "ru": "Материалы, пропагандирующие суицид и самоповреждение.",
            "en": "Content that promotes suicide or self-harm.",
        },
        _all(True),
    ),
    CategoryDef(
        "drugs",
        "block",
        {"kk": "Есірткі", "ru": "Наркотики", "en": "Drugs"},
        {
            "kk": "Есірткі сату және насихаттау.",
            "ru": "Продажа и пропаганда наркотиков.",
            "en": "Selling or promoting drugs.",
        },
        _all(True),
    ),
    CategoryDef(
        "abuse_violence",
        "block",
        {"kk": "Зорлық-зомбылық", "ru": "Насилие", "en": "Abuse and violence"},
        {
            "kk": "Зорлық, қатыгездік және өшпенділік.",
            "ru": "Насилие, жестокость и ненависть.",
            "en": "Abuse, violence and hate.",
        },
        _all(True),
    ),
    CategoryDef(
        "adult",
        "block",
        {"kk": "Ересектерге арналған", "ru": "Для взрослых", "en": "Adult"},
        {
            "kk": "Ересектерге арналған мазмұн.",
            "ru": "Материалы для взрослых.",
            "en": "Adult content.",
        },
        _all(True),
    ),
    CategoryDef(
        "gambling",
        "block",
        {"kk": "Құмар ойындар", "ru": "Азартные игры", "en": "Gambling"},
        {
            "kk": "Казино, бәс тігу және лотереялар.",
            "ru": "Казино, ставки и лотереи.",
            "en": "Casinos, betting and lotteries.",
        },
        _all(True),
    ),
    CategoryDef(
        "malware_phishing",
        "block",
        {"kk": "Зиянды сайттар", "ru": "Вредоносные сайты", "en": "Malware and phishing"},
        {
            "kk": "Вирустар мен алаяқтық сайттар.",
            "ru": "Вирусы и мошеннические сайты.",
            "en": "Malware and phishing sites.",
        },
        _all(True),
    ),
    CategoryDef(
        "filter_bypass",
        "block",
        {"kk": "Сүзгіні айналып өту", "ru": "Обход фильтра", "en": "Filter bypass"},
        {
            "kk": "DoH, VPN, прокси және қауіпсіз іздеусіз іздеу жүйелері.",
            "ru": "DoH, VPN, прокси и поисковики без безопасного поиска.",
            "en": "DoH, VPN, proxies and search engines without SafeSearch.",
        },
        _all(True),
    ),
    CategoryDef(
        "stalkerware",
        "block",
        {"kk": "Аңду бағдарламалары", "ru": "Шпионские программы", "en": "Stalkerware"},
        {
            "kk": "Басқа адамды жасырын бақылауға арналған бағдарламалар.",
            "ru": "Программы для скрытой слежки за человеком.",
            "en": "Apps for covertly watching another person.",
        },
        _all(True),
    ),
    CategoryDef(
        "social",
        "block",
        {"kk": "Әлеуметтік желілер", "ru": "Соцсети", "en": "Social networks"},
        {
            "kk": "Әлеуметтік желілер мен мессенджерлер.",
            "ru": "Социальные сети и мессенджеры.",
            "en": "Social networks and messengers.",
        },
        {
            AgeBand.UNDER_9: True,
            AgeBand.AGE_9_12: True,
            AgeBand.AGE_13_15: False,
            AgeBand.AGE_16_17: False,
        },
    ),
    CategoryDef(
        "kids_allow",
        "allow",
        {"kk": "Балаларға арналған", "ru": "Для детей", "en": "Made for children"},
        {
            "kk": "Балаларға арналған сайттар: басқа тізімдер бұғаттаса да ашық.",
            "ru": "Сайты для детей: открыты, даже если их блокирует другой список.",
            "en": "Sites made for children: open even where another list blocks them.",
        },
        {
            AgeBand.UNDER_9: True,
            AgeBand.AGE_9_12: True,
            AgeBand.AGE_13_15: False,
            AgeBand.AGE_16_17: False,
        },
    ),
)


def builtin(key: str) -> CategoryDef:
    for category in BUILTIN:
        if category.key == key:
            return category
    raise KeyError(key)
