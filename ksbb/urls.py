from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api import token_views as api_tokens
from collaborators import account_views, phone_views
from collaborators import views as collaborator_views
from ksbb import health, pwa
from ksbb import views as ksbb_views
from locations import indicator_views as indicators
from locations import views as map_views
from programs import views as program_views

urlpatterns = [
    path("", include("commitments.web.urls")),
    path("program/<slug:slug>/", program_views.program_detail, name="program-detail"),
    path("peta/", map_views.needs_map, name="needs-map"),
    path("peta/cari/", map_views.area_search, name="area-search"),
    path("peta/data/lembaga.json", map_views.map_sites, name="map-sites"),
    path(
        "peta/data/<str:level>/geometri-<str:version>.json",
        map_views.map_geometry,
        name="map-geometry",
    ),
    path("peta/data/<str:level>/kebutuhan.json", map_views.map_need_state, name="map-need-state"),
    path(
        "peta/data/<str:level>/indikator-<slug:indicator>.json",
        map_views.map_indicator_state,
        name="map-indicator-state",
    ),
    path("kolaborator/", collaborator_views.gallery, name="collaborator-gallery"),
    path(
        "kolaborator/<slug:slug>/",
        collaborator_views.collaborator_detail,
        name="collaborator-detail",
    ),
    path("akun/masuk/", account_views.SignInView.as_view(), name="login"),
    path("akun/daftar/", account_views.signup, name="signup"),
    path(
        "akun/verifikasi/<str:uidb64>/<str:token>/",
        account_views.verify_email,
        name="verify-email",
    ),
    path("akun/verifikasi-ulang/", account_views.resend_verification, name="resend-verification"),
    path("akun/kolaborator/", account_views.onboarding, name="onboarding"),
    path("akun/tim/<slug:slug>/", account_views.team, name="team"),
    path("akun/whatsapp/", phone_views.whatsapp_settings, name="whatsapp-settings"),
    path("akun/token-api/", api_tokens.token_list, name="api-tokens"),
    path("akun/token-api/<int:pk>/cabut/", api_tokens.token_revoke, name="api-token-revoke"),
    path("akun/keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path("akun/sandi/lupa/", account_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "akun/sandi/terkirim/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "akun/sandi/atur/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "akun/sandi/selesai/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "ruang-kerja/indikator/impor/",
        indicators.indicator_import_upload,
        name="indicator-import",
    ),
    path(
        "ruang-kerja/indikator/impor/<int:import_id>/",
        indicators.indicator_import_detail,
        name="indicator-import-detail",
    ),
    path(
        "ruang-kerja/indikator/impor/<int:import_id>/terapkan/",
        indicators.indicator_import_apply_view,
        name="indicator-import-apply",
    ),
    path("favicon.ico", ksbb_views.favicon),
    # The installable app: the worker at the root, so that it may control every page.
    path("serviceworker.js", pwa.service_worker, name="serviceworker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("tanpa-sinyal/", pwa.offline_page, name="offline-page"),
    path("kesehatan/", health.health, name="health"),
    path("", include("api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
