from django.core.management.base import BaseCommand, CommandError

from locations.importers import ImportFileError
from locations.jakarta import load_jakarta


class Command(BaseCommand):
    help = (
        "Load the real Jakarta areas shipped with the portal: province, 6 kota/kabupaten, "
        "44 kecamatan, 267 kelurahan (Kemendagri codes) and 2,698 RW (BPS layer, attached "
        "through the crosswalk), plus indicators: education by kota, flood states per RW, "
        "population and density per kelurahan (2024). Safe to run again."
    )

    def handle(self, *args, **options):
        try:
            load_jakarta(stdout=self.stdout)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
