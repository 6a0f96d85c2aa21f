"""Sign-up, email verification, onboarding (register or join a collaborator) and the team
page. The rules behind them live in accounts.py and team.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _

from .accounts import (
    EMAIL_MAX_LENGTH,
    AccountPasswordResetForm,
    CollaboratorForm,
    EmailAuthenticationForm,
    JoinForm,
    SignupForm,
    VerifyPasswordForm,
    account_signup,
    lockout_clear,
    normalise_email,
    send_verification,
    verification_tokens,
)
from .models import Collaborator, Membership, PersonalDataView
from .privacy import personal_data_viewed
from .roles import scopes_for
from .team import TeamChangeRefused, actions_for, membership_change


class SignInView(auth_views.LoginView):
    authentication_form = EmailAuthenticationForm


class PasswordResetView(auth_views.PasswordResetView):
    form_class = AccountPasswordResetForm


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        lockout_clear(form.user)
        return response


def signup(request):
    if request.user.is_authenticated:
        return redirect("workspace")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            account_signup(
                request=request,
                name=data["name"],
                email=data["email"],
                consents={
                    "notifications": data["notifications"],
                    "public_name": data["public_name"],
                },
            )
            # The same page whether the address is new, unverified or has an account.
            return render(request, "collaborators/check_email.html", {"email": data["email"]})
        return render(request, "collaborators/signup.html", {"form": form}, status=400)
    return render(request, "collaborators/signup.html", {"form": form})


def _user_from_uid(uidb64: str):
    User = get_user_model()
    try:
        return User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        return None


def verify_email(request, uidb64: str, token: str):
    """The emailed link: the owner of the address chooses the password here. It never
    signs anyone into an account that is already active."""
    user = _user_from_uid(uidb64)
    if user is not None and user.is_active:
        return render(request, "collaborators/already_verified.html")
    if user is None or not verification_tokens.check_token(user, token):
        return render(request, "collaborators/verify_failed.html", status=400)
    form = VerifyPasswordForm(
        user, request.POST or None, initial={"name": user.first_name} if not request.POST else None
    )
    if request.method == "POST":
        if form.is_valid():
            form.save()
            lockout_clear(user)
            login(request, user, backend="collaborators.accounts.EmailBackend")
            messages.success(request, _("Your email is verified. Welcome!"))
            return redirect("onboarding" if not user.memberships.exists() else "workspace")
        status = 400
    else:
        status = 200
    return render(
        request,
        "collaborators/verify_email.html",
        {"form": form, "email": user.email},
        status=status,
    )


def resend_verification(request):
    sent = False
    if request.method == "POST":
        email = normalise_email(request.POST.get("email", ""))[:EMAIL_MAX_LENGTH]
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
    status = 200
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
            Membership.objects.get_or_create(
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
        status = 400
    memberships = Membership.objects.filter(user=request.user).select_related("collaborator")
    return render(
        request,
        "collaborators/onboarding.html",
        {"create_form": create_form, "join_form": join_form, "memberships": memberships},
        status=status,
    )


@login_required
def team(request, slug: str):
    collaborator = get_object_or_404(Collaborator, slug=slug)
    scopes = scopes_for(request.user)
    if collaborator.pk not in scopes.owner_of and not scopes.is_admin:
        raise Http404
    if request.method == "POST":
        membership_id = request.POST.get("membership", "")
        try:
            if not membership_id.isdigit() or len(membership_id) > 18:
                raise TeamChangeRefused(_("This person is no longer in the team."))
            membership_change(
                actor=request.user,
                collaborator=collaborator,
                membership_id=int(membership_id),
                action=request.POST.get("action", ""),
            )
        except TeamChangeRefused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, _("Done."))
        if (
            not Membership.objects.filter(
                user=request.user, collaborator=collaborator, role=Membership.Role.OWNER
            ).exists()
            and not scopes_for(request.user).is_admin
        ):
            return redirect("workspace")  # stepped down or left: the team page is for owners
        return redirect("team", slug=slug)
    members = [
        (m, actions_for(request.user, m))
        for m in collaborator.memberships.select_related("user").order_by("role", "created_at")
    ]
    personal_data_viewed(
        viewer=request.user,
        what=PersonalDataView.What.CONTACT,
        subjects=[m.user for m, _actions in members if m.user_id != request.user.pk],
        path=request.path,
    )
    return render(
        request, "collaborators/team.html", {"collaborator": collaborator, "members": members}
    )
