from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from collaborators import views as collaborator_views
from commitments import views as commitment_views
from locations import views as map_views
from programs import views as program_views

urlpatterns = [
    path("", program_views.home, name="home"),
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
    path("wilayah/<str:code>/", commitment_views.area_detail, name="area-detail"),
    path("wilayah/<str:code>/panel/", commitment_views.area_panel, name="area-panel"),
    path("kolaborator/", collaborator_views.gallery, name="collaborator-gallery"),
    path(
        "kolaborator/<slug:slug>/",
        collaborator_views.collaborator_detail,
        name="collaborator-detail",
    ),
    path("akun/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
