"""Pages of the chain through aggregators and executors (commitments.web.pooling_views)."""

from django.urls import path

from . import pooling_views as pooling
from . import pooling_work_views as work

urlpatterns = [
    path("ruang-kerja/donasi/", pooling.my_gifts, name="pooling-my-gifts"),
    path("ruang-kerja/donasi/baru/", pooling.give, name="pooling-give"),
    path("ruang-kerja/donasi/<int:pk>/", pooling.contribution_detail, name="pooling-contribution"),
    path(
        "ruang-kerja/donasi/<int:pk>/terima/",
        pooling.contribution_receive_view,
        name="pooling-receive",
    ),
    path(
        "ruang-kerja/donasi/<int:pk>/tolak/",
        pooling.contribution_refuse_view,
        name="pooling-refuse",
    ),
    path(
        "ruang-kerja/donasi/<int:pk>/bukti/<int:proof_id>/",
        pooling.chain_delivery_proof,
        name="pooling-chain-proof",
    ),
    path(
        "ruang-kerja/donasi/<int:pk>/distribusi/<int:proof_id>/",
        pooling.chain_distribution_proof,
        name="pooling-chain-distribution-proof",
    ),
    path("ruang-kerja/agregator/<slug:slug>/", pooling.aggregator_page, name="pooling-aggregator"),
    path(
        "ruang-kerja/agregator/<slug:slug>/buku-donasi.csv",
        work.aggregator_ledger_download,
        {"fmt": "csv"},
        name="pooling-ledger-csv",
    ),
    path(
        "ruang-kerja/agregator/<slug:slug>/buku-donasi.xlsx",
        work.aggregator_ledger_download,
        {"fmt": "xlsx"},
        name="pooling-ledger-xlsx",
    ),
    path("ruang-kerja/distribusi/", work.to_distribute, name="pooling-to-distribute"),
    path(
        "ruang-kerja/agregator/<slug:slug>/komit/<int:need_id>/",
        pooling.pooled_commit,
        name="pooling-commit",
    ),
    path(
        "komitmen/<int:pk>/penyaluran/<int:delivery_id>/distribusi/",
        pooling.distribution_create,
        name="pooling-distribution-create",
    ),
    path(
        "komitmen/<int:pk>/distribusi/<int:proof_id>/",
        pooling.distribution_proof,
        name="pooling-distribution-proof",
    ),
]
