"""The block page's HTML: small, self-contained (inline CSS, no scripts, no external resources)
so it shows on any browser and leaks nothing to third parties; every value is escaped.

``string.Template`` with ``html.escape`` rather than a template engine: two fixed layouts whose
every substitution goes through ``_e``, not worth a dependency.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from string import Template

from filters.blockpage.texts import Locale, text

ASK_PATH = "/.child-sim/ask"
REPORT_PATH = "/.child-sim/report"

_STYLE = (
    "body{font-family:system-ui,sans-serif;background:#f4f6f8;color:#1d2733;margin:0;"
    "padding:2rem 1rem}main{max-width:32rem;margin:auto;background:#fff;border-radius:12px;"
    "padding:1.5rem;box-shadow:0 1px 4px #0002}h1{font-size:1.4rem}.host{word-break:break-all;"
    "font-weight:600}.help{background:#fff4e5;border-radius:8px;padding:1rem}"
    ".help a{font-size:1.8rem;font-weight:700;color:#b34700}form{display:inline}"
    "button{font-size:1rem;padding:.6rem 1rem;margin:.5rem .5rem 0 0;border-radius:8px;"
    "border:1px solid #2a6fdb;background:#2a6fdb;color:#fff}"
    "button.link{background:none;color:#2a6fdb;border:none;text-decoration:underline}"
)

_LAYOUT = Template(
    '<!DOCTYPE html>\n<html lang="$lang"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width,initial-scale=1">'
    '<meta name="robots" content="noindex"><title>$title</title>'
    "<style>$style</style></head><body><main><h1>$title</h1>$body</main></body></html>\n"
)

_FORM = Template(
    '<form method="post" action="$action"><input type="hidden" name="host" value="$host">'
    '<input type="hidden" name="token" value="$token"><input type="hidden" name="lang" '
    'value="$lang"><button$cls type="submit">$label</button></form>'
)


def _e(value: str) -> str:
    return html.escape(value, quote=True)


@dataclass(frozen=True)
class Category:
    name: str
    description: str


@dataclass(frozen=True)
class Helpline:
    number: str
    label: str


@dataclass(frozen=True)
class BlockedView:
    host: str
    locale: Locale
    category: Category | None  # None: blocked by the guardian's list, or no category known
    helpline: Helpline | None  # shown instead of a plain refusal (self-harm)
    token: str | None  # None: no forms (a name that is not one, so nothing to ask about)
    can_ask: bool  # a child's line: the "ask my parent" button makes sense


def _layout(locale: Locale, title: str, body: str) -> str:
    return _LAYOUT.substitute(lang=locale, title=_e(title), style=_STYLE, body=body)


def _form(view: BlockedView, action: str, label: str, *, link: bool) -> str:
    assert view.token is not None
    return _FORM.substitute(
        action=action,
        host=_e(view.host),
        token=_e(view.token),
        lang=view.locale,
        cls=' class="link"' if link else "",
        label=_e(label),
    )


def render_blocked(view: BlockedView) -> str:
    """The page a blocked name shows: what, why, and what the child can do about it."""
    loc = view.locale
    host = f'<span class="host">{_e(view.host)}</span>'
    # The text is escaped with a placeholder, then the (separately escaped) name put in.
    parts = [f"<p>{_e(text('blocked', loc, host=chr(0))).replace(chr(0), host)}</p>"]
    if view.helpline is not None:
        number = _e(view.helpline.number)
        parts.append(
            f'<div class="help"><p>{_e(text("care", loc))}</p>'
            f'<p><a href="tel:{number}">{number}</a></p><p>{_e(view.helpline.label)}</p></div>'
        )
    elif view.category is not None:
        parts.append(
            f"<p>{_e(text('because', loc))} <strong>{_e(view.category.name)}</strong>. "
            f"{_e(view.category.description)}</p>"
        )
    else:
        parts.append(f"<p>{_e(text('uncategorised', loc))}</p>")
    if view.token is not None:
        if view.can_ask:
            parts.append(_form(view, ASK_PATH, text("ask", loc), link=False))
        else:
            parts.append(f"<p>{_e(text('no_child', loc))}</p>")
        parts.append(_form(view, REPORT_PATH, text("report", loc), link=True))
    return _layout(loc, text("title", loc), "".join(parts))


def render_message(locale: Locale, key: str, *, title_key: str = "title") -> str:
    """A page with one message: a request sent, a report received, a refusal."""
    return _layout(locale, text(title_key, locale), f"<p>{_e(text(key, locale))}</p>")
