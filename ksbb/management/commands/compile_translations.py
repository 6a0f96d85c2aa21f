from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from ksbb.i18n import compile_catalogs


class Command(BaseCommand):
    help = (
        "Compile locale/*/LC_MESSAGES/*.po into .mo files with Babel (pure Python, so no "
        "GNU gettext is needed on the machine). Only stale files are rewritten."
    )

    def handle(self, *args, **options):
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in compile_catalogs(Path(locale_dir)):
                self.stdout.write(f"compiled {po_path.relative_to(settings.BASE_DIR)}")
