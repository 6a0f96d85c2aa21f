from django.core.management.base import BaseCommand, CommandError

from locations.city import CityConfigError, load_city_data, read_city_config
from programs.loaders import ProgramFileError

from ...housekeeping.city_demo import seed_city_demo
from ...housekeeping.demo import DemoRefused, non_demo_counts


class Command(BaseCommand):
    help = (
        "Load a city from its folder (a name under locations/data/cities, or a path) as its "
        "city.json describes: its areas top-down through import_areas, its programs (the "
        "load_programs shape), its indicators (import_indicators) and a small demo on its own "
        "areas. Run the portal for it with CITY=<name>. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="e.g. yogyakarta, or a folder holding a city.json")
        parser.add_argument("--no-demo", action="store_true", help="load no demo data")

    def handle(self, *args, **options):
        try:
            config = read_city_config(options["folder"])
            load_city_data(config, stdout=self.stdout)
        except (CityConfigError, ProgramFileError) as exc:
            raise CommandError(str(exc)) from None
        if options["no_demo"] or not config.demo:
            return
        real = non_demo_counts()
        if real:
            self.stdout.write(
                "No demo data added: the database already holds non-demo data ("
                + ", ".join(f"{count} {name}" for name, count in real.items())
                + ")"
            )
            return
        try:
            result = seed_city_demo(city_code=config.code, city_name=config.name)
        except DemoRefused as exc:
            raise CommandError(str(exc)) from None
        if result is None:
            self.stdout.write("Demo data is already present; nothing changed.")
            return
        self.stdout.write(
            f"Demo data: {result.collaborators} collaborators, {result.sites} sites, "
            f"{result.needs} needs, {result.commitments} commitments"
        )
