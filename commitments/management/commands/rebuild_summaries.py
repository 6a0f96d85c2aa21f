from django.core.management.base import BaseCommand

from commitments.summaries import summaries_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the commitment summary tables from all commitments, in one transaction "
        "(the nightly job does the same). Safe to run at any time, and twice."
    )

    def handle(self, *args, **options):
        rows = summaries_rebuild()
        self.stdout.write(f"{rows} summary rows rebuilt.")
