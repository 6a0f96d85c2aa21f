"""Sign-up, email verification, onboarding (register or join a collaborator) and team
approval."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _

from .accounts import (
    CollaboratorForm,
    EmailAuthenticationForm,
    JoinForm,
    SignupForm,
    send_verification,
)
from .models import Collaborator, Membership
from .roles import scopes_for


class SignInView(LoginView):
    authentication_form = EmailAuthenticationForm


def signup(request):
    if request.user.is_authenticated:
        return redirect("workspace")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        send_verification(request, user)
        return render(request, "collaborators/check_email.html", {"email": user.email})
    return render(request, "collaborators/signup.html", {"form": form})


def verify_email(request, uidb64: str, token: str):
    User = get_user_model()
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        return render(request, "collaborators/verify_failed.html", status=400)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    login(request, user, backend="collaborators.accounts.EmailBackend")
    messages.success(request, _("Your email is verified. Welcome!"))
    return redirect("onboarding" if not user.memberships.exists() else "workspace")


def resend_verification(request):
    sent = False
    if request.method == "POST":
        email = request.POST.get("email", "").strip()
        user = get_user_model().objects.filter(email__iexact=email, is_active=False).first()
        if user is not None:
            send_verification(request, user)
        sent = True  # the same answer either way: no telling who has an account
    return render(request, "collaborators/resend.html", {"sent": sent})


@login_required
def onboarding(request):
    create_form = CollaboratorForm(
        request.POST if request.POST.get("action") == "create" else None,
        initial={"name": request.user.get_full_name()},
    )
    join_form = JoinForm(request.POST if request.POST.get("action") == "join" else None)
    if request.method == "POST":
        if request.POST.get("action") == "create" and create_form.is_valid():
            collaborator = create_form.save_for(request.user)
            messages.success(
                request,
                _(
                    "%(name)s is registered. You can pledge now; a program lead verifies new "
                    "collaborators before their pledges are confirmed."
                )
                % {"name": collaborator.name},
            )
            return redirect("workspace")
        if request.POST.get("action") == "join" and join_form.is_valid():
            collaborator = join_form.cleaned_data["collaborator"]
            _membership, created = Membership.objects.get_or_create(
                user=request.user,
                collaborator=collaborator,
                defaults={"role": Membership.Role.PENDING},
            )
            messages.success(
                request,
                _("Your request to join %(name)s was sent to its owners.")
                % {"name": collaborator.name},
            )
            return redirect("workspace")
    memberships = Membership.objects.filter(user=request.user).select_related("collaborator")
    return render(
        request,
        "collaborators/onboarding.html",
        {"create_form": create_form, "join_form": join_form, "memberships": memberships},
    )


@login_required
def team(request, slug: str):
    collaborator = get_object_or_404(Collaborator, slug=slug)
    scopes = scopes_for(request.user)
    if collaborator.pk not in scopes.owner_of and not scopes.is_admin:
        raise Http404
    if request.method == "POST":
        membership_id = request.POST.get("membership", "")
        if not membership_id.isdigit():
            raise Http404
        membership = get_object_or_404(Membership, pk=membership_id, collaborator=collaborator)
        if membership.user_id == request.user.pk:
            raise PermissionDenied
        if request.POST.get("action") == "approve":
            membership.role = Membership.Role.MEMBER
            membership.save(update_fields=["role"])
        elif request.POST.get("action") == "remove":
            membership.delete()
        return redirect("team", slug=slug)
    members = collaborator.memberships.select_related("user").order_by("role", "created_at")
    return render(
        request, "collaborators/team.html", {"collaborator": collaborator, "members": members}
    )
