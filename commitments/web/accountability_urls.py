"""Public accountability URLs (included from commitments.web.urls): stable addresses, since
open-data portals, feed readers and printed reports keep them."""

from django.urls import path, register_converter

from . import accountability_views as views


class YearMonth:
    """ "2026-05": a month of a monthly report (the view checks it is one)."""

    regex = "[0-9]{4}-[0-9]{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return value if isinstance(value, str) else value.strftime("%Y-%m")


register_converter(YearMonth, "yyyymm")

urlpatterns = [
    path("wilayah/<str:code>/penyaluran/", views.area_deliveries, name="area-deliveries"),
    path(
        "wilayah/<str:code>/penyaluran.atom",
        views.area_deliveries_feed,
        name="area-deliveries-feed",
    ),
    path("program/<slug:slug>/penyaluran/", views.program_deliveries, name="program-deliveries"),
    path(
        "program/<slug:slug>/penyaluran.atom",
        views.program_deliveries_feed,
        name="program-deliveries-feed",
    ),
    path("program/<slug:slug>/laporan/", views.program_reports, name="program-reports"),
    path(
        "program/<slug:slug>/laporan/<yyyymm:month>/",
        views.program_month_report,
        name="program-month-report",
    ),
    path(
        "kolaborator/<slug:slug>/penyaluran/",
        views.collaborator_deliveries,
        name="collaborator-deliveries",
    ),
    path("data/ksbb-figures.hxl.csv", views.public_figures_hxl, name="public-figures-hxl"),
]
