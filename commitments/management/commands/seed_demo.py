from django.core.management.base import BaseCommand, CommandError

from ...housekeeping.demo import DemoRefused, non_demo_counts, seed_demo


class Command(BaseCommand):
    help = (
        "Add demo collaborators, sites, needs and commitments in every state, all marked as "
        "demo data. Refuses to run on a database holding non-demo data unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="add demo data beside real data anyway"
        )

        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="on a database with real data, say so and exit without error (for make run)",
        )

    def handle(self, *args, **options):
        try:
            result = seed_demo(force=options["force"])
        except DemoRefused as exc:
            if options["if_empty"] and non_demo_counts():
                self.stdout.write(f"No demo data added: {exc}")
                return
            raise CommandError(str(exc)) from None
        if result is None:
            self.stdout.write("Demo data is already present; nothing changed.")
            return
        self.stdout.write(
            f"Demo data: {result.collaborators} collaborators, {result.sites} sites, "
            f"{result.needs} needs, {result.commitments} commitments ("
            + ", ".join(f"{count} {status}" for status, count in sorted(result.by_status.items()))
            + ")"
        )
