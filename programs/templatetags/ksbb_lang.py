"""The lang attribute of a data text printed in the other language ({{ text|lang_attr }})."""

from django import template
from django.utils.html import format_html

from ksbb.text import other_language

register = template.Library()


@register.filter
def lang_attr(text) -> str:
    """' lang="id"' (or "en") when `text` is not in the page's language, else ""."""
    language = other_language(str(text or ""))
    return format_html(' lang="{}"', language) if language else ""
