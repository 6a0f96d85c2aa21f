# A collaborator's commitments by state and program, with the sums its figures need: the
# workspace's counts and the figures refresh after each change read the index alone.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0012_summary_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="commitment",
            index=models.Index(
                fields=["collaborator", "status", "program", "is_anonymous"],
                include=("quantity", "value_idr"),
                name="commitment_collab_status",
            ),
        ),
    ]
