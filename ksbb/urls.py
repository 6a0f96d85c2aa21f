from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api import token_views as api_tokens
from collaborators import account_views
from collaborators import views as collaborator_views
from commitments import action_views as act
from commitments import assistant_views as assistant
from commitments import dashboard_views as dashboards
from commitments import export_views as exports
from commitments import import_views as imports
from commitments import need_views as needs
from commitments import offline_views as offline
from commitments import plan_views as plans
from commitments import queue_views as queues
from commitments import views as commitment_views
from ksbb import health
from ksbb import views as ksbb_views
from locations import indicator_views as indicators
from locations import views as map_views
from programs import views as program_views

urlpatterns = [
    path("", ksbb_views.home, name="home"),
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
    path("wilayah/<str:code>/", commitment_views.area_detail, name="area-detail"),
    path("wilayah/<str:code>/panel/", commitment_views.area_panel, name="area-panel"),
    path("asisten/", assistant.assistant, name="assistant"),
    path("asisten/cara-kerja/", assistant.assistant_method, name="assistant-method"),
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
    path("ruang-kerja/", queues.workspace, name="workspace"),
    path("ruang-kerja/komitmen/", queues.my_commitments, name="my-commitments"),
    path("ruang-kerja/fasilitator/", queues.facilitator_inbox, name="facilitator-inbox"),
    path("ruang-kerja/luring/", offline.offline_list, name="offline-commitments"),
    path("ruang-kerja/luring/baru/", offline.offline_create, name="offline-commitment-create"),
    path("ruang-kerja/dasbor/", dashboards.dashboard, name="dashboard"),
    path(
        "ruang-kerja/dasbor/<slug:slug>/",
        dashboards.program_dashboard,
        name="program-dashboard",
    ),
    path(
        "ruang-kerja/asisten/",
        assistant.assistant_weights_programs,
        name="assistant-weights-programs",
    ),
    path("ruang-kerja/asisten/<slug:slug>/", assistant.assistant_weights, name="assistant-weights"),
    path("ruang-kerja/verifikasi/", queues.verification_queue, name="verification-queue"),
    path(
        "ruang-kerja/verifikasi/<slug:slug>/",
        queues.verify_collaborator,
        name="verify-collaborator",
    ),
    path("ruang-kerja/kebutuhan/", needs.my_needs, name="my-needs"),
    path("ruang-kerja/kebutuhan/baru/", needs.need_add, name="need-add"),
    path("ruang-kerja/kebutuhan/<int:pk>/", needs.need_detail, name="need-detail"),
    path("ruang-kerja/kebutuhan/<int:pk>/ubah/", needs.need_edit, name="need-edit"),
    path("ruang-kerja/kebutuhan/<int:pk>/tutup/", needs.need_close_view, name="need-close"),
    path(
        "ruang-kerja/kebutuhan/wilayah/<str:code>/konfirmasi/",
        needs.needs_reconfirm_view,
        name="needs-reconfirm",
    ),
    path("ruang-kerja/kebutuhan/impor/", imports.need_import_upload, name="need-import"),
    path(
        "ruang-kerja/kebutuhan/impor/templat/",
        imports.need_import_template,
        name="need-import-template",
    ),
    path(
        "ruang-kerja/kebutuhan/impor/<int:import_id>/",
        imports.need_import_detail,
        name="need-import-detail",
    ),
    path(
        "ruang-kerja/kebutuhan/impor/<int:import_id>/status.json",
        imports.need_import_status,
        name="need-import-status",
    ),
    path(
        "ruang-kerja/kebutuhan/impor/<int:import_id>/terapkan/",
        imports.need_import_apply_view,
        name="need-import-apply",
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
    # One view for both names: GET lists the user's exports, POST asks for a new one.
    path("ruang-kerja/ekspor/", exports.exports, name="export-create"),
    path("ruang-kerja/ekspor/", exports.exports, name="export-list"),
    path("ruang-kerja/ekspor/<int:pk>/", exports.export_detail, name="export-detail"),
    path("ruang-kerja/ekspor/<int:pk>/status.json", exports.export_status, name="export-status"),
    path("ruang-kerja/ekspor/<int:pk>/unduh/", exports.export_download, name="export-download"),
    path("ruang-kerja/ekspor/<int:pk>/ulangi/", exports.export_retry_view, name="export-retry"),
    path("notifikasi/", queues.notifications, name="notifications"),
    path("janji/<int:need_id>/", act.pledge_create, name="pledge-create"),
    path("asisten/ikrar/", plans.plan_pledge_view, name="assistant-pledge"),
    path("komitmen/<int:pk>/", act.commitment_detail, name="commitment-detail"),
    path("komitmen/<int:pk>/status/", act.commitment_status, name="commitment-status"),
    path("komitmen/<int:pk>/penyaluran/", act.delivery_create, name="delivery-create"),
    path(
        "komitmen/<int:pk>/penyaluran/<int:delivery_id>/terima/",
        act.delivery_confirm_view,
        name="delivery-confirm",
    ),
    path("komitmen/<int:pk>/bukti/<int:proof_id>/", act.proof_file, name="proof-file"),
    path("komitmen/<int:pk>/surat/", act.statement_file, name="statement-file"),
    path("favicon.ico", ksbb_views.favicon),
    path("kesehatan/", health.health, name="health"),
    path("", include("api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
