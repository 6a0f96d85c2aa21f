"""The real Jakarta data as `load_jakarta` leaves it (loaded once for the session)."""

import io

import pytest
from django.core.management import call_command
from shapely.geometry import Point, shape

from locations.models import Area, AreaIndicator

pytestmark = pytest.mark.django_db


def test_area_counts_per_level():
    counts = {level: Area.objects.filter(level=level).count() for level in Area.LEVEL_ORDER}
    assert counts == {"province": 1, "kota": 6, "kecamatan": 44, "kelurahan": 267, "rw": 2698}


def test_kali_anyar_code_parents_and_rw_children(kali_anyar):
    assert kali_anyar.name == "Kali Anyar"
    assert kali_anyar.level == "kelurahan"
    assert kali_anyar.bps_code == "3174050001"
    chain = [(a.code, a.name, a.level) for a in kali_anyar.ancestors()]
    assert chain == [
        ("31", "Daerah Khusus Ibukota Jakarta", "province"),
        ("31.73", "Kota Administrasi Jakarta Barat", "kota"),
        ("31.73.04", "Tambora", "kecamatan"),
    ]
    rw = list(kali_anyar.children.order_by("code"))
    assert len(rw) >= 5
    assert rw[0].code == "31.73.04.1002.001"
    assert rw[0].name == "RW 01"
    assert all(r.level == "rw" and r.code.startswith("31.73.04.1002.") for r in rw)
    assert all(len(r.bps_code) == 16 and r.bps_code[:10] == kali_anyar.bps_code for r in rw)


def test_every_rw_sits_inside_its_kelurahan_and_has_a_display_shape():
    rw = Area.objects.filter(level="rw").with_geometry().select_related("parent")
    assert rw.count() == 2698
    for area in rw.iterator(chunk_size=500):
        assert area.parent.level == "kelurahan"
        assert area.code.startswith(area.parent.code + ".")
        assert area.path.endswith("/" + area.parent.code + "/" + area.code)
        assert area.min_lon <= area.centroid_lon <= area.max_lon
        assert area.min_lat <= area.centroid_lat <= area.max_lat
        display = shape(area.display_geometry)
        assert display.is_valid and not display.is_empty
        assert shape(area.geometry).contains(Point(area.centroid_lon, area.centroid_lat))


def test_quirks_are_handled_deliberately():
    # Zones without residents are kept (no holes in the map) but flagged.
    zones = dict(Area.objects.filter(level="rw", is_residential=False).values_list("code", "name"))
    assert len(zones) == 11
    assert zones["31.75.10.1002.999"] == "TMII"
    assert "TPU Penggilingan" in zones.values()
    # The truncated rw_id (Cempaka Putih Barat, "RW 1") is rebuilt, not dropped.
    assert Area.objects.filter(level="rw", bps_code="3173050003001000").exists()
    # Rawabadak Utara's RW (BPS id missing from the crosswalk) land in Rawa Badak Utara.
    rawa_badak_utara = Area.objects.get(code="31.72.03.1004")
    assert rawa_badak_utara.name == "Rawa Badak Utara"
    assert rawa_badak_utara.children.count() == 14
    # Kepulauan Seribu has no RW polygons; its kelurahan are still there.
    assert Area.objects.filter(code__startswith="31.01.", level="kelurahan").count() == 6
    assert not Area.objects.filter(code__startswith="31.01.", level="rw").exists()


def test_indicators_loaded():
    kota = Area.objects.get(code="31.01")
    never_attended = dict(
        AreaIndicator.objects.filter(
            area=kota, indicator="education-never-attended", period="2018"
        ).values_list("breakdown", "value")
    )
    assert {k: str(v.normalize()) for k, v in never_attended.items()} == {
        "sex=male": "2.06",
        "sex=female": "2.47",
        "sex=all": "2.26",
    }
    assert AreaIndicator.objects.filter(indicator__startswith="education-").count() == 168
    floods = AreaIndicator.objects.filter(indicator="flood-state")
    assert (
        floods.filter(period="2016-03-05").count() == 427
    )  # RW 3175060001012000 is not in the RW layer
    assert floods.filter(period="2017-02-21").count() == 160  # the same RW again


def test_rerunning_every_loader_changes_nothing():
    def snapshot():
        return (
            list(
                Area.objects.with_geometry()
                .order_by("code")
                .values_list(
                    "code",
                    "name",
                    "parent__code",
                    "bps_code",
                    "is_residential",
                    "geometry",
                    "display_geometry",
                    "min_lon",
                    "max_lat",
                    "centroid_lon",
                )
            ),
            list(AreaIndicator.objects.order_by("pk").values_list("pk", "value", "label")),
        )

    before = snapshot()
    out = io.StringIO()
    call_command("load_jakarta", stdout=out)
    call_command("load_programs", stdout=out)
    report = out.getvalue()
    assert " 0 created, 0 updated" in report
    assert "created, 0 updated" in report
    for line in report.splitlines():
        if "created," in line:
            assert " 0 created, 0 updated" in line, line
    assert snapshot() == before
