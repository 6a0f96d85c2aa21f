"""The donated-asset register's pages (commitments.web.asset_views)."""

from django.urls import path

from . import asset_views as assets

urlpatterns = [
    path(
        "komitmen/<int:pk>/penyaluran/<int:delivery_id>/aset/",
        assets.asset_register,
        name="asset-register",
    ),
    path("aset/<int:pk>/", assets.asset_detail, name="asset-detail"),
    path("aset/<int:pk>/riwayat/", assets.asset_event, name="asset-event"),
    path("aset/<int:pk>/foto/", assets.asset_photo, name="asset-photo"),
    path("aset/wilayah/<str:code>/", assets.area_register, name="asset-register-area"),
    path("aset/sekolah/<int:pk>/", assets.school_register, name="asset-register-school"),
    path("aset/program/<slug:slug>/", assets.program_register, name="asset-register-program"),
    path("aset/program/<slug:slug>/tahunan/", assets.program_years, name="asset-program-years"),
]
