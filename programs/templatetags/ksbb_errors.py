"""The "Error: " that starts a page's <title> when the page shows errors, so that a screen
reader user hears it first, on load (the GOV.UK pattern). base.html asks for it in its
`title_marker` block; a page whose errors do not come from a form (a refusal, an import's
problems) overrides that block with `{% error_title_marker problems %}`."""

from django import template
from django.contrib import messages
from django.forms import BaseForm
from django.forms.formsets import BaseFormSet
from django.utils.translation import gettext, gettext_lazy

register = template.Library()


def _has_errors(value) -> bool:
    if isinstance(value, BaseForm | BaseFormSet):
        # Only a form the view has validated shows errors; validating one here would mark
        # a page whose form is bound for another reason (filters, a preview).
        return value.is_bound and value._errors is not None and not value.is_valid()
    return False


def _error_messages(context) -> bool:
    # Reading the messages here does not use them up: the page still shows them after.
    return any(message.level >= messages.ERROR for message in context.get("messages") or ())


@register.simple_tag(takes_context=True)
def error_title_marker(context, shown_errors=None) -> str:
    """'Error: ' when `shown_errors` is truthy, a bound form in the context has errors or an
    error message is shown."""
    if (
        shown_errors
        or any(_has_errors(value) for value in context.flatten().values())
        or _error_messages(context)
    ):
        return gettext("Error:") + " "
    return ""


@register.filter
def top_errors(form):
    """The errors `form.as_div` draws above its fields: those of no field, then, when a hidden
    field has one, a single line the person can act on. Hidden fields are the page's own
    (keys, versions, a place picked on the map): an error there means the page is out of date
    or was tampered with, and Django's "(Hidden field key) This field is required." would tell
    the person nothing (partials/form_div.html reads these out as an alert)."""
    if not isinstance(form, BaseForm):  # a form the page does not have: nothing, as as_div
        return ""
    errors = form.non_field_errors().copy()
    if any(field.errors for field in form.hidden_fields()):
        errors.append(HIDDEN_FIELD_ERROR)
    return errors


HIDDEN_FIELD_ERROR = gettext_lazy(
    "This form is out of date or incomplete: reload the page and try again."
)
