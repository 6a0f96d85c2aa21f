"""The commitments app's pages (URL names are global: templates and tests use them)."""

from django.urls import include, path

from . import assistant_views as assistant
from . import commitment_views as act
from . import dashboard_views as dashboards
from . import export_views as exports
from . import field_views as field
from . import import_views as imports
from . import need_views as needs
from . import offline_views as offline
from . import outbox_views
from . import plan_views as plans
from . import public_pages as commitment_views
from . import workspace_views as queues

urlpatterns = [
    path("", commitment_views.home, name="home"),
    path("wilayah/<str:code>/", commitment_views.area_detail, name="area-detail"),
    path("wilayah/<str:code>/panel/", commitment_views.area_panel, name="area-panel"),
    path("asisten/", assistant.assistant, name="assistant"),
    path("asisten/cara-kerja/", assistant.assistant_method, name="assistant-method"),
    path("ruang-kerja/", queues.workspace, name="workspace"),
    path("ruang-kerja/komitmen/", queues.my_commitments, name="my-commitments"),
    path("ruang-kerja/fasilitator/", queues.facilitator_inbox, name="facilitator-inbox"),
    path("ruang-kerja/lapangan/halaman.json", field.field_pages, name="field-pages"),
    path("ruang-kerja/luring/", offline.offline_list, name="offline-commitments"),
    path("ruang-kerja/luring/baru/", offline.offline_create, name="offline-commitment-create"),
    path("ruang-kerja/antrean/", outbox_views.outbox, name="outbox"),
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
    path("", include("commitments.web.asset_urls")),
    path("", include("commitments.web.adoption_urls")),
    path("", include("commitments.web.pooling_urls")),
    path("", include("commitments.web.accountability_urls")),
    path("", include("commitments.web.feedback_urls")),
    path("", include("commitments.web.privacy_urls")),
]
