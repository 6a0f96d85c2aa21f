from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from ksbb.spreadsheets import FileRefused
from locations.indicator_import import (
    BY_CODE,
    KEYS,
    IndicatorFileProblems,
    IndicatorSpec,
    indicator_file_apply,
    indicator_file_check,
)


class Command(BaseCommand):
    help = (
        "Import one area indicator from a CSV or XLSX file keyed by area code or by kelurahan "
        "name within kecamatan, or from a GeoJSON keyed by 16-digit BPS RW id. Prints how many "
        "rows matched, every unmatched row with its reason and every problem. A file with "
        "problems writes nothing; unmatched rows are left out."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--indicator", required=True, help="slug, e.g. population-density")
        parser.add_argument("--by", choices=KEYS, default=BY_CODE)
        parser.add_argument("--value-column", required=True)
        parser.add_argument("--label", default="", help="default: the indicator")
        parser.add_argument("--unit", required=True)
        parser.add_argument("--year", type=int, default=None)
        parser.add_argument("--year-column", default="")
        parser.add_argument("--period", default="", help="default: the year")
        parser.add_argument("--source", required=True)
        parser.add_argument("--code-column", default="area_code")
        parser.add_argument("--kelurahan-column", default="kelurahan")
        parser.add_argument("--kecamatan-column", default="kecamatan")
        parser.add_argument("--kota-column", default="")
        parser.add_argument("--bps-column", default="pkey")
        parser.add_argument("--breakdown", default="", help="e.g. sex=female")
        parser.add_argument("--min", type=Decimal, default=None, help="smallest value allowed")
        parser.add_argument("--max", type=Decimal, default=None, help="largest value allowed")
        parser.add_argument("--dry-run", action="store_true", help="check and report only")

    def handle(self, *args, **options):
        path = Path(options["file"])
        spec = IndicatorSpec.from_dict(
            {
                "indicator": options["indicator"],
                "label": options["label"] or options["indicator"],
                "unit": options["unit"],
                "source": options["source"],
                "value_column": options["value_column"],
                "year": options["year"],
                "year_column": options["year_column"],
                "period": options["period"],
                "by": options["by"],
                "code_column": options["code_column"],
                "kelurahan_column": options["kelurahan_column"],
                "kecamatan_column": options["kecamatan_column"],
                "kota_column": options["kota_column"],
                "bps_column": options["bps_column"],
                "breakdown": options["breakdown"],
                "minimum": options["min"],
                "maximum": options["max"],
            }
        )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        # Reports in English, as the other loaders print theirs.
        with translation.override("en"):
            try:
                if options["dry_run"]:
                    checked = indicator_file_check(data=data, name=path.name, spec=spec)
                else:
                    checked = indicator_file_apply(data=data, name=path.name, spec=spec)
            except FileRefused as refused:
                raise CommandError(str(refused.message)) from None
            except IndicatorFileProblems as failed:
                for line in failed.checked.report_lines(path.name, spec, applied=False):
                    self.stdout.write(line)
                raise CommandError("The file has problems: nothing was written.") from None
            for line in checked.report_lines(path.name, spec, applied=not options["dry_run"]):
                self.stdout.write(line)
