"""factory_boy factories over the real programs and Jakarta areas loaded for the session,
helpers that make the people around them (a collaborator's member, a facilitator, a program
lead), and the images the tests upload."""

import datetime
import io
import uuid

import factory
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from PIL import Image

from collaborators.models import Collaborator, Membership
from commitments.models import Commitment
from locations.models import Area, Need
from programs.models import DonationForm, Program


def pangan_groceries() -> DonationForm:
    return DonationForm.objects.get(program__slug="pangan", slug="groceries")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.org")
    email = factory.SelfAttribute("username")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CollaboratorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collaborator

    name = factory.Sequence(lambda n: f"Collaborator {n}")
    slug = factory.Sequence(lambda n: f"collaborator-{n}")
    kind = Collaborator.Kind.COMPANY
    verification_status = Collaborator.Verification.VERIFIED


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    collaborator = factory.SubFactory(CollaboratorFactory)


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Need

    area = factory.LazyFunction(lambda: Area.objects.get(code="31.73.04.1002.001"))
    donation_form = factory.LazyFunction(pangan_groceries)
    program = factory.LazyAttribute(lambda o: o.donation_form.program)
    quantity_needed = 100
    unit_value_idr = 300_000
    households = 250
    assessed_by_role = "Ketua RW 01"
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=60))


class CommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commitment

    collaborator = factory.SubFactory(CollaboratorFactory)
    need = factory.SubFactory(NeedFactory)
    area = factory.LazyAttribute(lambda o: o.need.area)
    program = factory.LazyAttribute(lambda o: o.need.program)
    donation_form = factory.LazyAttribute(lambda o: o.need.donation_form)
    quantity = 10
    idempotency_key = factory.LazyFunction(lambda: uuid.uuid4().hex)


def program(slug: str) -> Program:
    return Program.objects.get(slug=slug)


def member_of(collaborator: Collaborator, **user_kwargs):
    user = UserFactory(**user_kwargs)
    Membership.objects.create(user=user, collaborator=collaborator, role=Membership.Role.OWNER)
    return user


def collaborator_and_member(**collaborator_fields) -> tuple[Collaborator, object]:
    """A collaborator (verified, unless told otherwise) and its owner, who pledges for it."""
    collaborator = CollaboratorFactory(**collaborator_fields)
    return collaborator, member_of(collaborator)


def facilitator_of(area_code: str, title: str = "Ketua RW"):
    from locations.models import Facilitator

    user = UserFactory()
    Facilitator.objects.create(user=user, area=Area.objects.get(code=area_code), title=title)
    return user


def lead_of(slug: str):
    from programs.models import ProgramLead

    user = UserFactory()
    ProgramLead.objects.create(user=user, program=Program.objects.get(slug=slug))
    return user


def commitment_in(status: str, *, need: Need, collaborator: Collaborator, quantity: int):
    """A commitment already in `status`, with the need's claimed quantity kept consistent."""
    commitment = Commitment.objects.create(
        collaborator=collaborator,
        need=need,
        area=need.area,
        program=need.program,
        donation_form=need.donation_form,
        quantity=quantity,
        status=status,
        idempotency_key=uuid.uuid4().hex,
    )
    if status in ("pledged", "committed", "delivered", "completed"):
        Need.objects.filter(pk=need.pk).update(
            quantity_claimed=models.F("quantity_claimed") + quantity
        )
    return commitment


GPS_TAG = 0x8825  # EXIF GPSInfo


def jpeg_with_location(width=640, height=480) -> bytes:
    """A phone's photo: a JPEG whose EXIF says where it was taken."""
    image = Image.new("RGB", (width, height), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "KameraHP"  # Make
    exif[GPS_TAG] = {1: "S", 2: (6.0, 9.0, 27.0), 3: "E", 4: (106.0, 47.0, 56.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_TAG)  # it really has a location
    return data


def png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, format="PNG")
    return out.getvalue()
