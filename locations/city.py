"""The city the portal runs for: its name, its data credits and an example search.

Jakarta is the default (its data is loaded by `load_jakarta`). Another city has a folder
under locations/data/cities/<name>/ with a `city.json` (read here; loaded by
`manage.py load_city <folder>`), and the portal runs for it with the setting CITY=<name>
(`make run CITY=yogyakarta`). CITY_NAME overrides the name on the pages (ksbb.settings).

city.json:
    name        the city's name on the pages ("Yogyakarta")
    code        the code of the city's own area (its kota, "34.71"): example searches and
                the demo come from the kelurahan under it
    credits     the data credits shown in every page's footer (sources and licences)
    levels      [{level, file, code_field, name_field, parent?, source?}], top-down; files
                relative to the folder, each imported by `import_areas`
    programs    optional: a programs file in `load_programs`' shape
    indicators  optional: [{file, and `import_indicators` options by name, e.g.
                indicator, value_column, unit, source, by, code_column}]
    demo        optional: false to load no demo data
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q

from programs.loaders import load_programs

from .models import Area, Need

CITIES_DIR = Path(__file__).resolve().parent / "data" / "cities"
JAKARTA_EXAMPLE = "31.73.04.1002"  # Kali Anyar, where the demo's story is told


class CityConfigError(Exception):
    pass


@dataclass
class CityLevel:
    level: str
    file: Path
    code_field: str
    name_field: str
    parent: str = "prefix"
    source: str = ""


@dataclass
class CityConfig:
    folder: Path
    name: str
    code: str
    credits: str
    levels: list[CityLevel]
    programs: Path | None = None
    indicators: list[dict] = field(default_factory=list)
    demo: bool = True


def city_folder(name_or_path: str) -> Path:
    """A city's folder: a path, or a folder name under locations/data/cities."""
    path = Path(name_or_path)
    if (path / "city.json").is_file():
        return path.resolve()
    return CITIES_DIR / name_or_path


def read_city_config(name_or_path: str) -> CityConfig:
    folder = city_folder(name_or_path)
    config_file = folder / "city.json"
    try:
        data = json.loads(config_file.read_text(encoding="utf-8"))
        levels = [_level(folder, entry) for entry in data["levels"]]
        config = CityConfig(
            folder=folder,
            name=str(data["name"]).strip(),
            code=str(data["code"]).strip(),
            credits=str(data.get("credits", "")).strip(),
            levels=levels,
            programs=folder / data["programs"] if data.get("programs") else None,
            indicators=list(data.get("indicators", [])),
            demo=bool(data.get("demo", True)),
        )
    except OSError as exc:
        raise CityConfigError(f"{config_file}: cannot read it ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise CityConfigError(f"{config_file}: not valid JSON ({exc})") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise CityConfigError(f"{config_file}: missing or malformed entry {exc}") from None
    if not config.name or not config.code or not config.levels:
        raise CityConfigError(f"{config_file}: name, code and levels are required")
    for level in config.levels:
        if level.level not in Area.LEVEL_ORDER:
            raise CityConfigError(
                f"{config_file}: unknown level {level.level!r}; use {', '.join(Area.LEVEL_ORDER)}"
            )
        if not level.file.is_file():
            raise CityConfigError(f"{config_file}: {level.file.name} is not in {folder}")
    return config


def _level(folder: Path, entry: dict) -> CityLevel:
    return CityLevel(
        level=entry["level"],
        file=folder / entry["file"],
        code_field=entry["code_field"],
        name_field=entry["name_field"],
        parent=entry.get("parent", "prefix"),
        source=entry.get("source", ""),
    )


@dataclass
class City:
    """What the pages say about the city: read from settings (CITY, CITY_NAME) and the
    city's folder; the example search from the loaded areas, when a page asks for it."""

    name: str
    credits: str  # empty: Jakarta's own credits (translated in the footer)
    code: str

    @cached_property
    def example(self) -> Area | None:
        """A real kelurahan of the city to show in the search box: Jakarta's Kali Anyar,
        else the city's kelurahan with the most open needs (the first by code when none)."""
        kelurahan = Area.objects.filter(level=Area.Level.KELURAHAN).without_geometry()
        if not self.credits:
            found = kelurahan.filter(code=JAKARTA_EXAMPLE).first()
            if found is not None:
                return found
        return (
            kelurahan.filter(code__startswith=self.code + ".")
            .annotate(
                open_needs=Count("needs", filter=Q(needs__status=Need.Status.OPEN), distinct=True)
            )
            .order_by("-open_needs", "code")
            .first()
        )


@lru_cache(maxsize=8)
def _city(city: str, city_name: str) -> City:
    if not city:
        return City(name=city_name, credits="", code="31")
    config = read_city_config(city)
    return City(name=city_name, credits=config.credits, code=config.code)


def current_city() -> City:
    """The city of the settings (a fresh object per call: its example is looked up once
    per page)."""
    cached = _city(settings.CITY, settings.CITY_NAME)
    return City(name=cached.name, credits=cached.credits, code=cached.code)


def load_city_data(config: CityConfig, *, stdout) -> None:
    """The city's areas top-down through `import_areas`, then its programs and indicators,
    in one transaction: a file that fails leaves the database as it was."""
    with transaction.atomic():
        for level in config.levels:
            stdout.write(f"{level.level}: {level.file.name}")
            call_command(
                "import_areas",
                str(level.file),
                level=level.level,
                code_field=level.code_field,
                name_field=level.name_field,
                parent=level.parent,
                source=level.source or f"{config.name}: {level.file.name}",
                stdout=stdout,
            )
        if config.programs is not None:
            for name, result in load_programs(config.programs).items():
                stdout.write(
                    f"{name}: {result.created} created, {result.updated} updated, "
                    f"{result.unchanged} unchanged"
                )
        for entry in config.indicators:
            options = dict(entry)
            path = config.folder / options.pop("file")
            stdout.write(f"indicator: {path.name}")
            arguments = [f"--{key.replace('_', '-')}={value}" for key, value in options.items()]
            call_command("import_indicators", str(path), *arguments, stdout=stdout)
