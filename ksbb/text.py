"""Small helpers for bilingual (Indonesian / English) content stored in the database."""

from django.utils.translation import get_language


def in_language(indonesian: str, english: str) -> str:
    """The English text when English is active and present, else the Indonesian one."""
    language = (get_language() or "id").split("-")[0]
    if language == "en" and english:
        return english
    return indonesian or english
