"""Accounts: sign-up with email verification, sign-in by email, and joining or registering
a collaborator. Users are Django's own; the email address is also the username.

An account belongs to whoever proves the email: sign-up asks for no password, the emailed
link is where the password is chosen, so nobody can plant a password on someone else's
address (pre-account takeover). Verification links and password-reset links are made by
different token generators, so one can never stand in for the other; neither signs in an
account that is already active. Sign-up, reset and resend answer the same whether or not
an address has an account. Lock-out after repeated failures is django-axes' job (settings).
"""

from __future__ import annotations

import logging
import re
import unicodedata

from axes.utils import reset as axes_reset
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.shortcuts import render
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Collaborator, CollaboratorContact, Consent, Membership
from .privacy import consent_record

logger = logging.getLogger(__name__)

# The email is also the username, whose column holds 150 characters.
EMAIL_MAX_LENGTH = 150


def normalise_email(value: str) -> str:
    return value.strip().lower()


def lockout_username(request, credentials: dict | None = None) -> str:
    """What django-axes counts failures against: the email as typed, in one letter case,
    so that SITI@ and siti@ share one counter."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return normalise_email(str(value))[:EMAIL_MAX_LENGTH]


class EmailBackend(ModelBackend):
    """Sign in with the email address (case-insensitive)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        user = get_user_model().objects.filter(email__iexact=normalise_email(username)).first()
        if user is None:
            get_user_model()().set_password(password)  # same time whether or not it exists
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Tokens for verification links only: a salt of their own (a password-reset token is
    never accepted here, nor the reverse), and the account's activity and password in the
    hash, so a link stops working once it has been used."""

    key_salt = "collaborators.accounts.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.password}{user.is_active}{user.email}{timestamp}"


verification_tokens = EmailVerificationTokenGenerator()


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=gettext_lazy("Email"),
        max_length=EMAIL_MAX_LENGTH,
        # No autofocus (issue 25): the skip link stays first in tab order, and a phone does
        # not open its keyboard over the page before the person has read it.
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class SignupForm(forms.Form):
    """No password here: it is chosen behind the emailed link, by whoever owns the address."""

    name = forms.CharField(label=gettext_lazy("Your name"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=EMAIL_MAX_LENGTH)
    consent = forms.BooleanField(
        label=gettext_lazy(
            "I agree that the portal keeps my name and email to process my commitments "
            "(Law 27/2022 on personal data protection)."
        )
    )
    notifications = forms.BooleanField(
        label=gettext_lazy("Send me notifications about my commitments by email or WhatsApp."),
        required=False,
        initial=True,
    )
    # Off unless ticked (Law 27/2022: consent is a clear act); it matters only for gifts
    # made as an individual: an organisation's name is always public.
    public_name = forms.BooleanField(
        label=gettext_lazy("Show my name publicly with the gifts I make as an individual."),
        required=False,
    )

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])


def account_signup(
    *, request, name: str, email: str, consents: dict[str, bool] | None = None
) -> None:
    """Start an account for `email`, or remind its owner of the one they have. Every case
    ends in an email to that address and nothing the caller can tell apart: a new or
    still unverified account gets a verification link, an active one a note that someone
    tried to sign up with it. `consents` (purpose: given) are recorded for a new account
    only: nobody changes the choices of an account that exists by signing up again."""
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        try:
            with transaction.atomic():
                user = User(username=email, email=email, first_name=name, is_active=False)
                user.set_unusable_password()
                user.save()
                consents_at_signup(user=user, consents=consents or {})
        except IntegrityError:  # the same address signed up a moment ago
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                raise
    if user.is_active:
        send_account_exists(request, user)
    else:
        send_verification(request, user)


def consents_at_signup(*, user, consents: dict[str, bool]) -> None:
    """The account's purpose is given by signing up; the others as the person chose."""
    consent_record(user=user, purpose=Consent.Purpose.ACCOUNT, given=True)
    for purpose in (Consent.Purpose.NOTIFICATIONS, Consent.Purpose.PUBLIC_NAME):
        consent_record(user=user, purpose=purpose, given=bool(consents.get(purpose)))


def _send(user, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception:  # noqa: BLE001 - the page answers the same; the person can ask again
        logger.exception("Could not send an account email to user %s", user.pk)


def _link(request, name: str, user, token: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return request.build_absolute_uri(reverse(name, args=[uid, token]))


def send_verification(request, user) -> None:
    link = _link(request, "verify-email", user, verification_tokens.make_token(user))
    _send(
        user,
        _("Verify your email for the KSBB portal"),
        _(
            "Hello %(name)s,\n\nOpen this link to verify your email, choose your password and "
            "start collaborating:\n%(link)s\n\nThe link stays valid for 3 days. If you did not "
            "sign up, ignore this email: nothing happens without the link."
        )
        % {"name": user.first_name or user.email, "link": link},
    )


def send_account_exists(request, user) -> None:
    _send(
        user,
        _("Your KSBB portal account"),
        _(
            "Hello %(name)s,\n\nSomeone (perhaps you) tried to sign up with this email, which "
            "already has an account. Sign in here:\n%(login)s\n\nForgot your password? Choose "
            "a new one here:\n%(reset)s\n\nIf it was not you, ignore this email: your account "
            "is unchanged."
        )
        % {
            "name": user.first_name or user.email,
            "login": request.build_absolute_uri(reverse("login")),
            "reset": request.build_absolute_uri(reverse("password_reset")),
        },
    )


class VerifyPasswordForm(SetPasswordForm):
    """The verification step: the owner of the address names themselves and chooses the
    password; whatever was set before (by anyone) stops working."""

    name = forms.CharField(label=gettext_lazy("Your name"), max_length=150)
    field_order = ["name", "new_password1", "new_password2"]

    def save(self, commit=True):
        self.user.first_name = self.cleaned_data["name"]
        self.user.is_active = True
        return super().save(commit=commit)


class AccountPasswordResetForm(PasswordResetForm):
    """Django's reset form, plus: an address whose account is not verified yet gets its
    verification link instead (the page says the same either way)."""

    email = forms.EmailField(
        label=gettext_lazy("Email"),
        max_length=EMAIL_MAX_LENGTH,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def save(self, *args, request=None, **kwargs):
        super().save(*args, request=request, **kwargs)
        email = normalise_email(self.cleaned_data["email"])
        for user in get_user_model().objects.filter(email__iexact=email, is_active=False):
            send_verification(request, user)

    def send_mail(self, *args, **kwargs):
        try:
            super().send_mail(*args, **kwargs)
        except Exception:  # noqa: BLE001 - the page answers the same; the person can ask again
            logger.exception("Could not send a password-reset email")


def lockout_clear(user) -> None:
    """A password chosen through an emailed link is the way back from a lock-out."""
    axes_reset(username=normalise_email(user.email))


# --- collaborators --------------------------------------------------------------------------

_LEGAL_FORMS = re.compile(r"\b(pt|cv|tbk|persero|yayasan|ud|koperasi|perum|pd)\b")


def name_key(name: str) -> str:
    """A collaborator name reduced to what a reader tells apart: letters and digits, in one
    case and without accents or legal-form words, so "PT. Bank  Maju, Tbk" and "bank maju"
    collide."""
    text = unicodedata.normalize("NFKD", name).casefold()
    text = "".join(c if c.isalnum() else " " for c in text if not unicodedata.combining(c))
    return " ".join(_LEGAL_FORMS.sub(" ", text).split())


class CollaboratorForm(forms.ModelForm):
    """Register a new collaborator; the user becomes its owner."""

    # A TextField has no length of its own: the form bounds it.
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    website = forms.URLField(
        label=gettext_lazy("Website"), required=False, assume_scheme="https", max_length=200
    )
    phone = forms.CharField(label=gettext_lazy("Phone (private)"), max_length=40, required=False)
    address = forms.CharField(
        label=gettext_lazy("Address (private)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = Collaborator
        fields = ["name", "kind", "description", "website"]

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        key = name_key(name)
        if not key:
            raise ValidationError(_("Use a name with letters or digits."))
        # Impersonation: nobody registers under a verified collaborator's name, whatever its
        # spacing, case, accents or legal form ("PT", "Yayasan"...).
        for taken in Collaborator.objects.verified().values_list("name", flat=True):
            if name_key(taken) == key:
                raise ValidationError(
                    _(
                        "%(name)s is the name of a verified collaborator. If you belong to it, "
                        "ask to join it; otherwise use a name that tells you apart."
                    )
                    % {"name": taken}
                )
        if self.data.get("kind") != Collaborator.Kind.INDIVIDUAL:
            organisations = Collaborator.objects.exclude(kind=Collaborator.Kind.INDIVIDUAL)
            for taken in organisations.values_list("name", flat=True):
                if name_key(taken) == key:
                    raise ValidationError(
                        _("%(name)s is already registered: ask to join it instead.")
                        % {"name": taken}
                    )
        return name

    @transaction.atomic
    def save_for(self, user) -> Collaborator:
        collaborator = self.save(commit=False)
        base = slugify(collaborator.name)[:200] or "kolaborator"
        slug, n = base, 1
        while Collaborator.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        collaborator.slug = slug
        collaborator.save()
        CollaboratorContact.objects.create(
            collaborator=collaborator,
            contact_name=user.get_full_name() or user.email,
            email=user.email,
            phone=self.cleaned_data["phone"],
            address=self.cleaned_data["address"],
        )
        Membership.objects.create(user=user, collaborator=collaborator, role=Membership.Role.OWNER)
        return collaborator


class JoinForm(forms.Form):
    collaborator = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"),
        queryset=Collaborator.objects.exclude(kind=Collaborator.Kind.INDIVIDUAL).exclude(
            verification_status=Collaborator.Verification.REJECTED
        ),
        empty_label=gettext_lazy("Choose an organisation"),
    )


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out sign-in: say why, for how long, and the way
    back (a password reset by email, which also clears the lock)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes},
        status=429,
    )
