"""Pages of the recipients' feedback channel (commitments.web.feedback_views): public ones
under /lapor/ (no account needed), the handlers' under /ruang-kerja/laporan/."""

from django.urls import path

from . import feedback_views as feedback

urlpatterns = [
    path("lapor/", feedback.report_new, name="feedback-new"),
    path("lapor/terkirim/<str:tracking_code>/", feedback.report_sent, name="feedback-sent"),
    path("lapor/lacak/", feedback.track, name="feedback-track"),
    path("lapor/lacak/<str:tracking_code>/", feedback.track_code, name="feedback-track-code"),
    path("ruang-kerja/laporan/", feedback.report_list, name="feedback-list"),
    path("ruang-kerja/laporan/<int:report_id>/", feedback.report_detail, name="feedback-detail"),
    path(
        "ruang-kerja/laporan/<int:report_id>/foto/",
        feedback.report_photo,
        name="feedback-photo",
    ),
]
