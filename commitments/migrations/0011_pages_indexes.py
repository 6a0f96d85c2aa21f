# Indexes for pages that must not grow with the commitments (bench/pages.py): a
# collaborator's commitments newest first ("my commitments" a page at a time, through the
# index instead of sorting all of them), and a program's pledges waiting for confirmation
# oldest first (the inbox, instead of walking the program's every commitment by date), and
# a program's commitments to deliver by planned date (the expiry job reads only those due),
# and a program's offline records newest first (the offline list and its count).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0010_dashboard_collaborator_figures"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="commitment",
            index=models.Index(
                fields=["collaborator", "-created_at", "-id"], name="commitment_collab_recent"
            ),
        ),
        migrations.AddIndex(
            model_name="commitment",
            index=models.Index(
                condition=models.Q(("status", "pledged")),
                fields=["program", "created_at", "id"],
                name="commitment_to_confirm",
            ),
        ),
        migrations.AddIndex(
            model_name="commitment",
            index=models.Index(
                condition=models.Q(("status", "committed")),
                fields=["program", "planned_delivery_on", "status_changed_at"],
                name="commitment_to_deliver",
            ),
        ),
        migrations.AddIndex(
            model_name="commitment",
            index=models.Index(
                condition=models.Q(("channel", "offline")),
                fields=["program", "-created_at", "-id"],
                name="commitment_offline_recent",
            ),
        ),
    ]
