"""A program's descriptive texts (facilitators, beneficiaries, asset recording, planning,
reported notes, pause notes) are shown in the page's language, and a text that exists only
in the other language carries its lang attribute (issue 25). load_programs fills the
Indonesian texts on a database loaded before they existed, and stays safe to repeat."""

import re
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from programs.loaders import load_programs
from programs.models import Program, ProgramPause

from .factories import UserFactory

pytestmark = pytest.mark.django_db

YOGYAKARTA_PROGRAMS = (
    Path(__file__).resolve().parent.parent
    / "locations"
    / "data"
    / "cities"
    / "yogyakarta"
    / "programs.json"
)

PENDIDIKAN_ID = [
    "Kepala sekolah dan Dinas Pendidikan",
    "Sekolah swasta: guru dan siswa",
    "sebagian dicatat sebagai aset sekolah, sisanya sebagai milik pribadi",
    "Dilanjutkan hingga pembelajaran tatap muka penuh dapat dilaksanakan",
    "Kolaborator antara lain: sekolah, BUMN/BUMD, swasta, perorangan, perguruan tinggi",
    "perkiraan orang terbantu: 1.770",
]
PENDIDIKAN_EN = [
    "School headmasters and Department of Education",
    "Private schools: teachers and students",
    "some recorded as school property, the rest as private property",
    "Continue until full face-to-face learning is possible",
    "Collaborators include: schools, government-owned enterprises",
    "people assisted est: 1,770",
]


def page(client, slug: str, language: str) -> str:
    client.cookies["django_language"] = language
    response = client.get(f"/program/{slug}/")
    assert response.status_code == 200
    return response.content.decode()


def main(html: str) -> str:
    """The page's own content, without the header's language switcher."""
    return html[html.index('<main id="main"') : html.index("</main>")]


def test_indonesian_page_shows_the_indonesian_texts(client):
    html = page(client, "pendidikan", "id")
    for text in PENDIDIKAN_ID:
        assert text in html
    for text in PENDIDIKAN_EN:
        assert text not in html
    # Nothing in it is marked as English except the English name under the title.
    assert re.findall(r'lang="en"[^>]*>([^<]*)<', main(html)) == ["Education Assistance Program"]


def test_english_page_shows_the_english_texts(client):
    html = page(client, "pendidikan", "en")
    for text in PENDIDIKAN_EN:
        assert text in html
    for text in PENDIDIKAN_ID:
        assert text not in html
    assert re.findall(r'lang="id"[^>]*>([^<]*)<', main(html)) == ["KSBB Pendidikan"]


def test_a_pause_note_in_the_pages_language(client):
    assert "(<span>masa vakum</span>)" in page(client, "pangan", "id")
    assert "(<span>vacuum</span>)" in page(client, "pangan", "en")


def test_a_text_only_in_english_is_marked_on_indonesian_pages(client):
    Program.objects.filter(slug="pangan").update(
        facilitator_id="", beneficiaries_id="", planning_notes_id="", reported_notes_id=""
    )
    ProgramPause.objects.filter(program__slug="pangan").update(note_id="")
    html = page(client, "pangan", "id")
    assert '<dd lang="en">Heads of RW and heads of Kelurahan</dd>' in html
    assert '<dd lang="en">Vulnerable people; more than 1,000 RW (hamlets)</dd>' in html
    assert '<ul lang="en"><li>Data updating</li><li>Add rice ATM model</li></ul>' in html
    assert '<span lang="en">Collaborators include: individual' in html
    assert '(<span lang="en">vacuum</span>)' in html
    # The English page shows the same texts unmarked.
    english = page(client, "pangan", "en")
    assert "<dd>Heads of RW and heads of Kelurahan</dd>" in english
    assert "<ul><li>Data updating</li><li>Add rice ATM model</li></ul>" in english


def test_a_text_only_in_indonesian_is_marked_on_english_pages(client):
    Program.objects.filter(slug="tenaga-kerja").update(
        facilitator="", beneficiaries="", planning_notes=""
    )
    html = page(client, "tenaga-kerja", "en")
    assert '<dd lang="id">Kepala Pusat Pelatihan Kerja Daerah (PPKD) dan Dinas Tenaga Kerja' in html
    assert '<dd lang="id">Pencari kerja</dd>' in html
    assert '<ul lang="id"><li>Penjajakan intensif pelatihan kolaborasi</li></ul>' in html
    assert '<dd lang="id">Pencari kerja</dd>' not in page(client, "tenaga-kerja", "id")


def test_no_text_in_either_language_shows_a_dash_unmarked(client):
    Program.objects.filter(slug="umkm").update(facilitator="", facilitator_id="")
    assert "<dd>–</dd>" in page(client, "umkm", "id")
    assert "<dd>–</dd>" in page(client, "umkm", "en")


def test_load_programs_fills_the_indonesian_texts_of_a_database_loaded_before():
    # As a database loaded before the Indonesian fields existed: they are empty.
    Program.objects.update(
        facilitator_id="",
        beneficiaries_id="",
        asset_recording_id="",
        planning_notes_id="",
        reported_notes_id="",
    )
    ProgramPause.objects.update(note_id="")
    first = load_programs()
    assert (first["programs"].updated, first["programs"].created) == (6, 0)
    assert first["pauses"].updated == 1
    second = load_programs()
    assert second["programs"].unchanged == 6 and second["pauses"].unchanged == 1
    assert Program.objects.filter(facilitator_id="").count() == 0
    assert Program.objects.filter(beneficiaries_id="").count() == 0
    assert Program.objects.filter(planning_notes_id="").count() == 0
    assert Program.objects.filter(reported_notes_id="").count() == 0
    assert set(
        Program.objects.exclude(asset_recording="").values_list("asset_recording_id", flat=True)
    ) == {
        "sebagian dicatat sebagai aset sekolah, sisanya sebagai milik pribadi",
        "aset donasi dicatat sebagai aset RW atau aset Pemprov DKI Jakarta",
        "aset dicatat sebagai aset Kelurahan dan aset Pemprov DKI Jakarta",
    }
    pangan = Program.objects.get(slug="pangan")
    assert pangan.facilitator_id == "Ketua RW dan Lurah"
    assert pangan.facilitator == "Heads of RW and heads of Kelurahan"  # English kept
    assert pangan.beneficiaries_id == "Warga rentan; lebih dari 1.000 RW"
    assert pangan.planning_notes_id == "Pemutakhiran data\nPenambahan model ATM beras"
    assert pangan.pauses.get().note_id == "masa vakum"
    target = Program.objects.get(slug="tenaga-kerja")
    assert target.launch_is_target and target.reported_notes_id == "target peluncuran"


def test_another_citys_programs_file_loads_with_its_indonesian_texts():
    load_programs(YOGYAKARTA_PROGRAMS)
    pangan = Program.objects.get(slug="pangan")
    assert (pangan.lead_agency_id, pangan.facilitator_id) == ("Dinas Sosial", "Ketua RW dan Lurah")
    assert pangan.beneficiaries_id == "Rumah tangga rentan"
    # That file has no planning notes: both languages are empty, nothing is left over.
    assert (pangan.planning_notes, pangan.planning_notes_id) == ("", "")


def test_the_api_gives_both_languages():
    one = APIClient().get(f"/api/v1/programs/{Program.objects.get(slug='pendidikan').pk}/").json()
    assert one["beneficiaries"] == "Private schools: teachers and students"
    assert one["beneficiaries_id"] == "Sekolah swasta: guru dan siswa"
    assert one["asset_recording_id"].startswith("sebagian dicatat sebagai aset sekolah")
    pangan = APIClient().get(f"/api/v1/programs/{Program.objects.get(slug='pangan').pk}/").json()
    assert (pangan["lead_agency"], pangan["lead_agency_id"]) == (
        "KSD Bureau & Social Services Division",
        "Biro KSD & Dinas Sosial",
    )
    assert (pangan["facilitator"], pangan["facilitator_id"]) == (
        "Heads of RW and heads of Kelurahan",
        "Ketua RW dan Lurah",
    )
    assert {"planning_notes", "planning_notes_id"} <= set(pangan)


def test_the_admin_shows_both_languages_of_each_text(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    pangan = Program.objects.get(slug="pangan")
    html = client.get(f"/admin/programs/program/{pangan.pk}/change/").content.decode()
    for name in (
        "facilitator",
        "beneficiaries",
        "asset_recording",
        "planning_notes",
        "reported_notes",
        "pauses-0-note",
    ):
        assert f'name="{name}"' in html and f'name="{name}_id"' in html
    assert "Ketua RW dan Lurah</textarea>" in html
