"""Decisions a program lead made before they applied per program were stored as the
global status. Move each to the programs that lead leads and in which the collaborator
pledged, and leave the global status to administrators. Decisions made by staff, or by
nobody recorded (seed data), stay global."""

from django.db import migrations


def move_lead_decisions(apps, schema_editor):
    Collaborator = apps.get_model("collaborators", "Collaborator")
    ProgramVerification = apps.get_model("collaborators", "ProgramVerification")
    ProgramLead = apps.get_model("programs", "ProgramLead")
    Commitment = apps.get_model("commitments", "Commitment")
    decided_by_leads = Collaborator.objects.exclude(verification_status="unverified").filter(
        verified_by__isnull=False, verified_by__is_staff=False, verified_by__is_superuser=False
    )
    for collaborator in decided_by_leads.iterator():
        led = ProgramLead.objects.filter(user_id=collaborator.verified_by_id).values("program_id")
        program_ids = set(
            Commitment.objects.filter(collaborator=collaborator, program_id__in=led).values_list(
                "program_id", flat=True
            )
        )
        if not program_ids:
            continue  # cannot tell which program it was for: leave it as it is
        for program_id in program_ids:
            ProgramVerification.objects.get_or_create(
                collaborator=collaborator,
                program_id=program_id,
                defaults={
                    "status": collaborator.verification_status,
                    "decided_by_id": collaborator.verified_by_id,
                    "decided_at": collaborator.verified_at or collaborator.created_at,
                },
            )
        collaborator.verification_status = "unverified"
        collaborator.verified_by = None
        collaborator.verified_at = None
        collaborator.save(update_fields=["verification_status", "verified_by", "verified_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("collaborators", "0003_programverification"),
        ("commitments", "0001_initial"),
        ("programs", "0001_initial"),
    ]

    operations = [migrations.RunPython(move_lead_decisions, migrations.RunPython.noop)]
