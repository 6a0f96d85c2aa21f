"""URLs of API v1 (/api/v1/), its OpenAPI schema and its documentation.

One router holds every endpoint, so the schema, the permission-matrix test and the docs
all see the same list. Reads register in api.views, writes in api.write_views; each
module's `register(router)` adds its viewsets and `extra_urls` holds its plain paths.
"""

from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from . import adoption_views, views, write_views
from .docs import RedocView
from .need_state import NeedStateView

# No ".json" suffix routes: ?format= and the Accept header choose the format.
router = DefaultRouter()
router.include_format_suffixes = False
views.register(router)
write_views.register(router)
adoption_views.register(router)  # area adoptions (issue 21): reads only
# Needs and commitments are registered by write_views (read + write subclasses); until it
# does, the reads alone serve these prefixes.
views.register_missing_reads(router)

# Redoc comes from drf-spectacular-sidecar (no CDN). It injects its own <style> elements and
# runs its search in a Worker made from a blob: URL. (Swagger UI is not offered: axe finds
# controls nested in controls and text below 4.5:1 in its own markup, which we cannot fix.)
docs_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})

urlpatterns = [
    path(
        "api/v1/",
        include(
            [
                path("need-state/<str:level>/", NeedStateView.as_view(), name="api-need-state"),
                *views.extra_urls,
                *write_views.extra_urls,
                *router.urls,
            ]
        ),
    ),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        docs_csp(RedocView.as_view(url_name="api-schema", template_name="api/redoc.html")),
        name="api-docs",
    ),
    path("api/problems/", views.problem_types, name="api-problems"),
    # Last: any other /api/ path answers a problem body.
    re_path(r"^api/", views.api_not_found, name="api-not-found"),
]
