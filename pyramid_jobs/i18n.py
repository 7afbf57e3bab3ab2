"""The pages and the API's error messages in the reader's language, through Pyramid's i18n.

Messages are :class:`pyramid.i18n.TranslationString` ids in the ``pyramid_jobs`` domain; the
gettext catalogs live in ``pyramid_jobs/locale/<lang>/LC_MESSAGES`` (``.po`` in the repository,
``.mo`` compiled from them when the package is built or installed, see ``msgfmt.py``).

The locale is the host's when it has a locale negotiator of its own (or a ``_LOCALE_`` parameter
says one); otherwise it is negotiated from ``Accept-Language`` among the languages shipped here.
The add-on builds its own :class:`~pyramid.i18n.Localizer` per locale rather than registering
a negotiator or translation directories, so a host's own i18n set-up stays as it was.
Error codes are never translated: programs read them; people read the messages.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Any

from pyramid.i18n import Localizer, TranslationString, TranslationStringFactory, make_localizer
from pyramid.interfaces import ILocaleNegotiator

DOMAIN = "pyramid_jobs"
LOCALE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")
#: languages with a catalog; English is the language of the message ids
LANGUAGES = ("en", "zh_CN")
_ = TranslationStringFactory(DOMAIN)

_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$|^\*$")


class Message(str):
    """An English message that can still be translated: ``str`` is the English text, interpolated.

    Raised errors carry these, so logs, tests and callers that treat messages as plain strings see
    English, while the error view and the pages translate them for the reader.
    """

    msgid: str
    mapping: dict

    def __new__(cls, msgid: str, **mapping: Any) -> Message:
        text = TranslationString(msgid, domain=DOMAIN, mapping=mapping or None).interpolate()
        obj = super().__new__(cls, text)
        obj.msgid, obj.mapping = msgid, mapping
        return obj


def _language_of(tag: str) -> str | None:
    """``zh-CN``, ``zh-Hans-SG``, ``zh`` -> ``zh_CN``; ``zh-TW`` and ``zh-Hant`` have no catalog here."""
    parts = tag.lower().split("-")
    if parts[0] == "zh":
        rest = parts[1:]
        if not rest or rest[0] in ("cn", "sg", "hans"):
            return "zh_CN"
        return None
    return "en" if parts[0] == "en" else None


def from_accept_language(header: str | None) -> str | None:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header, or None."""
    choices: list[tuple[float, int, str]] = []
    for index, item in enumerate((header or "").split(",")):
        tag, _sep, params = item.strip().partition(";")
        tag = tag.strip()
        if not tag or not _TAG.match(tag):
            continue
        q = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                q = float(match.group(1))
            except ValueError:
                continue
        if q > 0:
            choices.append((-q, index, tag))
    for _q, _i, tag in sorted(choices):
        language = _language_of(tag)
        if language:
            return language
    return None


def locale_of(request: Any) -> str:
    """The locale for the add-on's pages and messages on this request."""
    registry = request.registry
    if registry.queryUtility(ILocaleNegotiator) is not None:
        asked = request.locale_name
    else:  # Pyramid's own negotiator, without its request.params: that would read an upload's body
        asked = request.GET.get("_LOCALE_") or request.cookies.get("_LOCALE_")
    chosen = _language_of(str(asked).replace("_", "-")) if asked else None
    if chosen:
        return chosen
    chosen = from_accept_language(request.headers.get("Accept-Language"))
    if chosen:
        return chosen
    default = (registry.settings or {}).get("pyramid.default_locale_name", "en")
    return _language_of(str(default).replace("_", "-")) or "en"


@lru_cache(maxsize=8)
def localizer_for(locale: str) -> Localizer:
    return make_localizer(locale, [LOCALE_DIR])


def localizer(request: Any) -> Localizer:
    """The add-on's localizer for this request (cached on the request)."""
    found = getattr(request, "_jobs_localizer", None)
    if found is None:
        found = localizer_for(locale_of(request))
        request._jobs_localizer = found
    return found


def translate(request: Any, message: Any) -> str:
    """A :class:`Message` in the reader's language; anything else as it is."""
    if isinstance(message, Message):
        mapping = {k: translate(request, v) for k, v in message.mapping.items()}  # a Message within a Message
        return localizer(request).translate(_(message.msgid, mapping=mapping or None))
    return str(message)


def gettext_for(request: Any) -> tuple:
    """``_`` and ``_n`` for templates: ``_("Step ${n}", n=2)``, ``_n("${n} page", "${n} pages", count)``."""
    loc = localizer(request)

    def gettext(msgid: str, **mapping: Any) -> str:
        return loc.translate(_(msgid, mapping=mapping or None))

    def ngettext(singular: str, plural: str, count: int, **mapping: Any) -> str:
        return loc.pluralize(singular, plural, count, domain=DOMAIN, mapping={"n": count, **mapping})

    return gettext, ngettext
