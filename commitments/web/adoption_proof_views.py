"""Proof photos marked public: the toggle on the commitment page (facilitator of the area or
site, program lead, administrator) and the public route that serves a public photo to
anyone. Rules: commitments.adoption.public_proofs."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collaborators.roles import scopes_for

from ..adoption.public_proofs import ProofRefused, proof_publish, public_photo
from ..models import Commitment, DeliveryProof
from .stored_files import stored_file

# Shared caches may keep a public photo this long after it is unmarked: short, since the
# point of unmarking is that it stops being shown (the private route keeps an hour).
PUBLIC_PROOF_CACHE_CONTROL = "public, max-age=300"


class PublicForm(forms.Form):
    public = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")


@login_required
@require_POST
def proof_public_toggle(request, pk: int, proof_id: int):
    form = PublicForm(request.POST)
    commitment = get_object_or_404(Commitment.objects.visible_to(scopes_for(request.user)), pk=pk)
    if not form.is_valid():
        messages.error(request, _("Choose whether the photo is public."))
        return redirect(commitment)
    public = form.cleaned_data["public"]
    try:
        proof_publish(user=request.user, commitment_id=pk, proof_id=proof_id, public=public)
    except (Commitment.DoesNotExist, DeliveryProof.DoesNotExist):
        raise Http404("No such proof") from None
    except ProofRefused as refusal:
        return render(
            request,
            "commitments/refused.html",
            {"commitment": commitment, "message": refusal.message},
            status=403 if refusal.forbidden else 409,
        )
    if public:
        messages.success(request, _("The photo is public: it shows on the adoption's page."))
    else:
        messages.success(request, _("The photo is private again."))
    return redirect(commitment)


@require_GET
def proof_public_file(request, proof_id: int):
    """A photo marked public, to anyone; anything else is a 404, as if it did not exist."""
    try:
        proof = public_photo(proof_id)
    except DeliveryProof.DoesNotExist:
        raise Http404("No such public photo") from None
    response = stored_file(proof.file, proof.content_type, cache_control=PUBLIC_PROOF_CACHE_CONTROL)
    response["Content-Disposition"] = "inline"
    return response
