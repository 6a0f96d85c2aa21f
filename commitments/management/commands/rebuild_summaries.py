from django.core.management.base import BaseCommand

from commitments.models import CommitmentSummary

from ...figures.summaries import summaries_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the commitment summary tables from all commitments, in one transaction "
        "(the nightly job does the same). Safe to run at any time, and twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--whole-rollup",
            action="store_true",
            help="Also compare every kecamatan roll-up row with the summaries (the nightly "
            "job rolls up again only the kecamatan whose summary rows changed).",
        )

    def handle(self, *args, **options):
        written = summaries_rebuild(whole_rollup=options["whole_rollup"])
        rows = CommitmentSummary.objects.count()
        self.stdout.write(f"Summaries rebuilt: {rows} rows, {written} of them written.")
