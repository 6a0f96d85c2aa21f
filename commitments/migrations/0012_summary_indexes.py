# The summary and roll-up tables without the index the bulk reload would rebuild for
# nothing: program_id alone, the first column of their composite indexes and keys. And, on
# PostgreSQL, both tables filled to 90% a page, so the nightly rebuild's repairs update
# rows in place (HOT updates, no index entries) instead of moving them to new pages.

import django.db.models.deletion
from django.db import migrations, models

FILLFACTOR_MODELS = ("CommitmentSummary", "CommitmentRollup")


def _fillfactor(fillfactor: int | None):
    def apply(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        for model in FILLFACTOR_MODELS:
            table = apps.get_model("commitments", model)._meta.db_table
            if fillfactor is None:
                schema_editor.execute(f"ALTER TABLE {quote(table)} RESET (fillfactor)")
            else:
                schema_editor.execute(f"ALTER TABLE {quote(table)} SET (fillfactor = {fillfactor})")

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0011_pages_indexes"),
        ("programs", "0005_program_assistant_weights"),
    ]

    operations = [
        migrations.AlterField(
            model_name="commitmentrollup",
            name="program",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="programs.program",
            ),
        ),
        migrations.AlterField(
            model_name="commitmentsummary",
            name="program",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="programs.program",
            ),
        ),
        migrations.RunPython(_fillfactor(90), _fillfactor(None), elidable=False),
    ]
