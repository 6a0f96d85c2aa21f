"""Compile the .po catalogues with Babel, so no GNU gettext is needed on the machine."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


def compile_catalogs(locale_dir: Path) -> list[Path]:
    """Write each stale locale/*/LC_MESSAGES/*.mo; return the .po files compiled."""
    compiled = []
    for po_path in sorted(Path(locale_dir).glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        with mo_path.open("wb") as handle:
            write_mo(handle, catalog)
        compiled.append(po_path)
    return compiled
