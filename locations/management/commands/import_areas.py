from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from locations.area_parents import parse_code_format
from locations.boundary_files import FORMATS, read_boundary_file
from locations.importers import (
    DUPLICATES,
    REPAIR_LIMIT,
    ImportFileError,
    ImportReport,
    import_area_records,
    records_from_features,
)
from locations.models import Area


class Command(BaseCommand):
    help = (
        f"Import the areas of one level from a boundary file: {FORMATS}, reprojected to "
        "EPSG:4326. A file with any problem feature writes nothing (one-line error) unless "
        "--skip-invalid; features sharing a code are merged; repairs, merges and unclear "
        "parents are reported."
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
            "overlapping most of it) or 'field:NAME' (a property holding the parent's "
            "Kemendagri or BPS code, with or without dots)",
        )
        parser.add_argument("--bps-code-field", default=None, help="property holding a BPS code")
        parser.add_argument(
            "--code-format",
            default=None,
            help="regroup the code's digits, e.g. 2.2.2.4.3 turns 3471011001005 into "
            "34.71.01.1001.005; a code that does not fit is a problem",
        )
        parser.add_argument("--layer", default=None, help="the layer of a GeoPackage, KML or zip")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the good features of a file with problem features, listing the others",
        )
        parser.add_argument(
            "--duplicates",
            choices=DUPLICATES,
            default="merge",
            help="features sharing a code: merge them into one area (default) or refuse them",
        )
        parser.add_argument(
            "--accept-repairs",
            action="store_true",
            help=f"keep repaired polygons whose area changed by more than {REPAIR_LIMIT:.0%}%",
        )
        parser.add_argument(
            "--tolerance",
            type=float,
            default=None,
            help="display simplification tolerance in degrees (default by level)",
        )
        parser.add_argument(
            "--source",
            default=None,
            help="source label stored on each area (default: the file's name and SHA-256)",
        )

    def handle(self, *args, **options):
        parent, parent_field = _parent_rule(options["parent"])
        report = ImportReport(level=options["level"], source=options["file"])
        try:
            if options["level"] not in Area.LEVEL_ORDER:
                raise ImportFileError(
                    f"unknown level '{options['level']}'; use one of: {', '.join(Area.LEVEL_ORDER)}"
                )
            code_format = _code_format(options["code_format"])
            boundary_file = read_boundary_file(options["file"], layer=options["layer"])
            report.source = boundary_file.name
            records = records_from_features(
                boundary_file.features,
                report=report,
                code_field=options["code_field"],
                name_field=options["name_field"],
                parent_field=parent_field,
                bps_field=options["bps_code_field"],
                code_format=code_format,
                duplicates=options["duplicates"],
                repair_limit=None if options["accept_repairs"] else REPAIR_LIMIT,
            )
            with transaction.atomic():
                import_area_records(
                    records,
                    level=options["level"],
                    report=report,
                    parent=parent,
                    tolerance=options["tolerance"],
                    source=options["source"] or boundary_file.source_label,
                    strict=not options["skip_invalid"],
                )
        except ImportFileError as exc:
            raise CommandError(" ".join(str(exc).split())) from None
        for line in report.lines():
            self.stdout.write(line)


def _parent_rule(text: str) -> tuple[str, str | None]:
    parent, parent_field = text, None
    if parent.startswith("field:"):
        parent, parent_field = "field", parent.removeprefix("field:")
    if parent not in {"prefix", "contains", "field"} or (parent == "field" and not parent_field):
        raise CommandError(f"--parent {text!r}: use prefix, contains or field:NAME")
    return parent, parent_field


def _code_format(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return parse_code_format(text)
    except ValueError as exc:
        raise ImportFileError(str(exc)) from None
