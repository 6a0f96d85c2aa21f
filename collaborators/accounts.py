"""Accounts: sign-up with email verification, sign-in by email, and joining or registering
a collaborator. Users are Django's own; the email address is also the username."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Collaborator, CollaboratorContact, Membership


class EmailBackend(ModelBackend):
    """Sign in with the email address (case-insensitive)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        user = get_user_model().objects.filter(email__iexact=username.strip()).first()
        if user is None:
            get_user_model()().set_password(password)  # same time whether or not it exists
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=gettext_lazy("Email"), widget=forms.EmailInput(attrs={"autofocus": True})
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "unverified": gettext_lazy(
            "Please verify your email address first: open the link we sent you. "
            "You can ask for a new link below."
        ),
    }

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            email, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
            user = get_user_model().objects.filter(email__iexact=email or "").first()
            if user and not user.is_active and password and user.check_password(password):
                raise ValidationError(
                    self.error_messages["unverified"], code="unverified"
                ) from None
            raise


class SignupForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("Email"))
    password1 = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput,
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=gettext_lazy("Password again"), strip=False, widget=forms.PasswordInput
    )
    consent = forms.BooleanField(
        label=gettext_lazy(
            "I agree that the portal keeps my name and email to process my commitments "
            "(Law 27/2022 on personal data protection)."
        )
    )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise ValidationError(
                _("An account with this email already exists: sign in, or reset the password.")
            )
        return email

    def clean(self):
        data = super().clean()
        if (
            data.get("password1")
            and data.get("password2")
            and data["password1"] != data["password2"]
        ):
            self.add_error("password2", _("The two passwords differ."))
        elif data.get("password1"):
            user = get_user_model()(
                username=data.get("email", ""),
                email=data.get("email", ""),
                first_name=data.get("name", ""),
            )
            try:
                password_validation.validate_password(data["password1"], user)
            except ValidationError as error:
                self.add_error("password1", error)
        return data

    def save(self):
        data = self.cleaned_data
        user = get_user_model().objects.create_user(
            username=data["email"],
            email=data["email"],
            password=data["password1"],
            first_name=data["name"],
            is_active=False,
        )
        return user


def send_verification(request, user) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = request.build_absolute_uri(reverse("verify-email", args=[uid, token]))
    send_mail(
        _("Verify your email for the KSBB portal"),
        _(
            "Hello %(name)s,\n\nOpen this link to verify your email and start collaborating:\n"
            "%(link)s\n\nThe link stays valid for 3 days."
        )
        % {"name": user.first_name or user.email, "link": link},
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )


class CollaboratorForm(forms.ModelForm):
    """Register a new collaborator; the user becomes its owner."""

    website = forms.URLField(label=gettext_lazy("Website"), required=False, assume_scheme="https")
    phone = forms.CharField(label=gettext_lazy("Phone (private)"), max_length=40, required=False)
    address = forms.CharField(
        label=gettext_lazy("Address (private)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = Collaborator
        fields = ["name", "kind", "description", "website"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if (
            Collaborator.objects.filter(name__iexact=name)
            .exclude(kind=Collaborator.Kind.INDIVIDUAL)
            .exists()
            and self.data.get("kind") != Collaborator.Kind.INDIVIDUAL
        ):
            raise ValidationError(
                _("%(name)s is already registered: ask to join it instead.") % {"name": name}
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
