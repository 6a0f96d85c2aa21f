"""The API tokens page (/akun/token-api/): a signed-in user lists, creates and revokes their
tokens. A new key is shown once, on the answer to its creation, and never stored."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from collaborators.roles import collaborators_for

from .models import ApiToken
from .throttling import SigninThrottle

MAX_ACTIVE_TOKENS = 20


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("Which system uses it, e.g. 'open-data portal'."),
    )
    collaborator = forms.ModelChoiceField(
        label=gettext_lazy("Acts for"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("All my roles"),
        help_text=gettext_lazy(
            "A token for one collaborator acts only for it: it cannot act for your other "
            "collaborators, nor as facilitator, program lead or administrator."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collaborator"].queryset = collaborators_for(user)


def _page(request, form, *, new_key: str | None = None, status: int = 200):
    tokens = ApiToken.objects.filter(user=request.user).select_related("collaborator")[:100]
    response = render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": tokens, "new_key": new_key},
        status=status,
    )
    return response


@never_cache  # the answer that shows a new key must not be kept by any cache
@login_required
def token_list(request):
    if request.method != "POST":
        return _page(request, TokenForm(user=request.user))
    form = TokenForm(request.POST, user=request.user)
    if not SigninThrottle().allow(request):
        form.add_error(None, _("Too many tokens created in a short time. Try again later."))
        return _page(request, form, status=429)
    if not form.is_valid():
        return _page(request, form, status=400)
    if ApiToken.objects.active().filter(user=request.user).count() >= MAX_ACTIVE_TOKENS:
        form.add_error(
            None,
            _("You have %(n)d active tokens, the most allowed. Revoke one first.")
            % {"n": MAX_ACTIVE_TOKENS},
        )
        return _page(request, form, status=400)
    token, key = ApiToken.issue(
        user=request.user,
        name=form.cleaned_data["name"],
        collaborator=form.cleaned_data["collaborator"],
    )
    return _page(request, TokenForm(user=request.user), new_key=key)


@require_POST
@login_required
def token_revoke(request, pk: int):
    token = ApiToken.objects.filter(user=request.user, pk=pk).first()
    if token is None:
        raise Http404("No such token")
    if token.revoke():
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("api-tokens")
