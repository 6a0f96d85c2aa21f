from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from locations.importers import (
    ImportFileError,
    ImportReport,
    import_area_records,
    read_features,
    records_from_features,
)
from locations.models import Area


class Command(BaseCommand):
    help = (
        "Import the areas of one level from a GeoJSON boundary file. Invalid polygons are "
        "repaired, a simplified display geometry is stored with shared borders kept, and "
        "every skipped or repaired feature is reported. A bad file writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--level", required=True, help=", ".join(Area.LEVEL_ORDER))
        parser.add_argument("--code-field", required=True, help="property holding the code")
        parser.add_argument("--name-field", required=True, help="property holding the name")
        parser.add_argument(
            "--parent",
            default="prefix",
            help="how to find each area's parent one level up: 'prefix' (the code minus its "
            "last '.' segment, as Kemendagri codes), 'contains' (the loaded parent-level area "
            "containing it) or 'field:NAME' (a property holding the parent's code)",
        )
        parser.add_argument("--bps-code-field", default=None, help="property holding a BPS code")
        parser.add_argument(
            "--tolerance",
            type=float,
            default=None,
            help="display simplification tolerance in degrees (default by level)",
        )
        parser.add_argument("--source", default=None, help="source label stored on each area")

    def handle(self, *args, **options):
        parent = options["parent"]
        parent_field = None
        if parent.startswith("field:"):
            parent, parent_field = "field", parent.removeprefix("field:")
        if parent not in {"prefix", "contains", "field"} or (
            parent == "field" and not parent_field
        ):
            raise CommandError(
                f"--parent {options['parent']!r}: use prefix, contains or field:NAME"
            )
        report = ImportReport(level=options["level"], source=options["file"])
        try:
            if options["level"] not in Area.LEVEL_ORDER:
                raise ImportFileError(
                    f"unknown level '{options['level']}'; use one of: {', '.join(Area.LEVEL_ORDER)}"
                )
            features = read_features(options["file"])
            records = records_from_features(
                features,
                report=report,
                code_field=options["code_field"],
                name_field=options["name_field"],
                parent_field=parent_field,
                bps_field=options["bps_code_field"],
            )
            with transaction.atomic():
                import_area_records(
                    records,
                    level=options["level"],
                    report=report,
                    parent=parent,
                    tolerance=options["tolerance"],
                    source=options["source"] or options["file"],
                )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        for line in report.lines():
            self.stdout.write(line)
