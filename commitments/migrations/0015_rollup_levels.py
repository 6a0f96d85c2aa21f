# The kecamatan roll-up rolled up once more, per month (no area) and per kecamatan (no
# month), for the dashboards: the two tables, filled from the roll-up for the data there is
# (they are its GROUP BY), and on PostgreSQL filled to 90% a page like the summary tables
# (migration 0012), so the nightly rebuild's repairs update rows in place.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

SUMS = "SUM(r.count), SUM(r.quantity), SUM(r.value_idr), SUM(r.households), SUM(r.persons)"
LEVELS = {
    # model: (its key, status last; the columns it takes from the roll-up besides the sums)
    "CommitmentMonthRollup": ("program_id, donation_form_id, month, channel, status", ""),
    "CommitmentKecamatanRollup": (
        "program_id, donation_form_id, kecamatan_id, channel, status",
        "kota_id, ",
    ),
}


def _levels_fill(apps, schema_editor) -> None:
    quote = schema_editor.quote_name
    rollups = quote(apps.get_model("commitments", "CommitmentRollup")._meta.db_table)
    now = schema_editor.connection.ops.adapt_datetimefield_value(django.utils.timezone.now())
    for model, (key, kota) in LEVELS.items():
        table = quote(apps.get_model("commitments", model)._meta.db_table)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = 90)")
        grouped = ", ".join(f"r.{c.strip()}" for c in key.split(","))
        kota_min = "MIN(r.kota_id), " if kota else ""
        schema_editor.execute(
            f"""INSERT INTO {table} ({key}, {kota}count, quantity, value_idr, households,
                persons, computed_at)
            SELECT {grouped}, {kota_min}{SUMS}, %s FROM {rollups} r GROUP BY {grouped}""",
            [now],
        )


class Migration(migrations.Migration):

    dependencies = [
        ('commitments', '0014_summary_kelurahan_month'),
        ('locations', '0005_indicatorimport'),
        ('programs', '0005_program_assistant_weights'),
    ]

    operations = [
        migrations.CreateModel(
            name='CommitmentKecamatanRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('channel', models.CharField(choices=[('platform', 'platform'), ('offline', 'offline (recorded by the program)')], max_length=10)),
                ('status', models.CharField(choices=[('pledged', 'pledged'), ('committed', 'committed'), ('delivered', 'delivered'), ('completed', 'completed'), ('cancelled', 'cancelled'), ('rejected', 'rejected'), ('expired', 'expired')], max_length=10)),
                ('count', models.PositiveIntegerField()),
                ('quantity', models.PositiveBigIntegerField()),
                ('value_idr', models.DecimalField(decimal_places=0, max_digits=22, verbose_name='value (IDR)')),
                ('households', models.PositiveBigIntegerField()),
                ('persons', models.PositiveBigIntegerField()),
                ('computed_at', models.DateTimeField()),
                ('donation_form', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='programs.donationform')),
                ('kecamatan', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='locations.area')),
                ('kota', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='locations.area')),
                ('program', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='programs.program')),
            ],
            options={
                'verbose_name': 'commitment kecamatan roll-up',
                'verbose_name_plural': 'commitment kecamatan roll-ups',
                'constraints': [models.UniqueConstraint(fields=('program', 'donation_form', 'kecamatan', 'channel', 'status'), name='commitment_kecamatan_rollup_key_unique'), models.CheckConstraint(condition=models.Q(('count__gte', 0), ('quantity__gte', 0), ('value_idr__gte', 0), ('households__gte', 0), ('persons__gte', 0)), name='commitment_kecamatan_rollup_nonnegative')],
            },
        ),
        migrations.CreateModel(
            name='CommitmentMonthRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField()),
                ('channel', models.CharField(choices=[('platform', 'platform'), ('offline', 'offline (recorded by the program)')], max_length=10)),
                ('status', models.CharField(choices=[('pledged', 'pledged'), ('committed', 'committed'), ('delivered', 'delivered'), ('completed', 'completed'), ('cancelled', 'cancelled'), ('rejected', 'rejected'), ('expired', 'expired')], max_length=10)),
                ('count', models.PositiveIntegerField()),
                ('quantity', models.PositiveBigIntegerField()),
                ('value_idr', models.DecimalField(decimal_places=0, max_digits=22, verbose_name='value (IDR)')),
                ('households', models.PositiveBigIntegerField()),
                ('persons', models.PositiveBigIntegerField()),
                ('computed_at', models.DateTimeField()),
                ('donation_form', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='programs.donationform')),
                ('program', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='programs.program')),
            ],
            options={
                'verbose_name': 'commitment month roll-up',
                'verbose_name_plural': 'commitment month roll-ups',
                'constraints': [models.UniqueConstraint(fields=('program', 'donation_form', 'month', 'channel', 'status'), name='commitment_month_rollup_key_unique'), models.CheckConstraint(condition=models.Q(('count__gte', 0), ('quantity__gte', 0), ('value_idr__gte', 0), ('households__gte', 0), ('persons__gte', 0)), name='commitment_month_rollup_nonnegative')],
            },
        ),
        # The month a recompute rolls up again into CommitmentMonthRollup: to its channel
        # in the index of a program's periods (a few hundred rows, not every month).
        migrations.RemoveIndex(
            model_name='commitmentrollup',
            name='rollup_program_month',
        ),
        migrations.AddIndex(
            model_name='commitmentrollup',
            index=models.Index(fields=['program', 'month', 'donation_form', 'channel'], name='rollup_program_month'),
        ),
        migrations.RunPython(_levels_fill, migrations.RunPython.noop, elidable=False),
    ]
