from django.core.management.base import BaseCommand, CommandError

from programs.loaders import PROGRAMS_FILE, ProgramFileError, load_programs


class Command(BaseCommand):
    help = "Load the six KSBB programs and their donation forms (2021 reported figures)."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(PROGRAMS_FILE))

    def handle(self, *args, **options):
        from pathlib import Path

        try:
            results = load_programs(Path(options["file"]))
        except ProgramFileError as exc:
            raise CommandError(str(exc)) from None
        for name, result in results.items():
            self.stdout.write(
                f"{name}: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged"
            )
