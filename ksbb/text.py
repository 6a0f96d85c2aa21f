"""Small helpers for bilingual (Indonesian / English) content stored in the database."""

from typing import NamedTuple

from django.utils.translation import get_language, gettext, override


def in_language(indonesian: str, english: str) -> str:
    """The English text when English is active and present, else the Indonesian one."""
    language = (get_language() or "id").split("-")[0]
    if language == "en" and english:
        return english
    return indonesian or english


def data_text_language(text: str) -> str:
    """The language of a text stored as data whose language is not recorded (indicator
    labels: "Population" from the loader, "Masih bersekolah" from a BPS table): English when
    the Indonesian catalog translates it (an English msgid), else Indonesian."""
    with override("id"):
        return "en" if gettext(text) != text else "id"


def other_language(text: str) -> str:
    """The lang attribute a data text needs on the current page: its language when that is
    not the page's, else ""."""
    page = (get_language() or "id").split("-")[0]
    language = data_text_language(text) if text else page
    return "" if language == page else language


class ShownText(NamedTuple):
    """A data text kept in both languages, as a page prints it: in the page's language where
    that one is given, else in the other, with the lang attribute it then needs."""

    text: str
    lang: str  # "id" or "en" when the text is not in the page's language, else ""


def shown_text(indonesian: str, english: str) -> ShownText:
    """The text for the current page's language (English pages: the English one; any other:
    the Indonesian one), falling back to the other language with its code as `lang`."""
    english_page = (get_language() or "id").split("-")[0] == "en"
    wanted, fallback = (english, indonesian) if english_page else (indonesian, english)
    if wanted or not fallback:
        return ShownText(wanted, "")
    return ShownText(fallback, "id" if english_page else "en")
