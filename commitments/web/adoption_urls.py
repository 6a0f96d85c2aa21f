"""Area adoption URLs (included from commitments.web.urls)."""

from django.urls import path

from . import adoption_proof_views as proofs
from . import adoption_views as views

urlpatterns = [
    path("adopsi/", views.adoption_list, name="adoption-list"),
    path("adopsi/usul/", views.adoption_propose_view, name="adoption-propose"),
    path("adopsi/<int:pk>/", views.adoption_detail, name="adoption-detail"),
    path("adopsi/<int:pk>/ubah/", views.adoption_edit_view, name="adoption-edit"),
    path("adopsi/<int:pk>/komentar/", views.adoption_comment_view, name="adoption-comment"),
    path("adopsi/<int:pk>/keputusan/", views.adoption_decide, name="adoption-decide"),
    path("adopsi/<int:pk>/tarik/", views.adoption_withdraw_view, name="adoption-withdraw"),
    path("adopsi/<int:pk>/karya/baru/", views.adoption_work_create, name="adoption-work-add"),
    path("ruang-kerja/adopsi/", views.my_adoptions, name="my-adoptions"),
    path(
        "komitmen/<int:pk>/bukti/<int:proof_id>/publik/",
        proofs.proof_public_toggle,
        name="proof-public",
    ),
    path("peta/data/adopsi.json", views.adopted_areas_map, name="map-adopted"),
    path("bukti-publik/<int:proof_id>/", proofs.proof_public_file, name="proof-public-file"),
]
