"""The API's documentation pages (Redoc, Swagger UI) from drf-spectacular.

Their views render an HTML template for every answer, so DRF's metadata answer to OPTIONS
(a dict, with no template to show it in) was a server error; here OPTIONS answers what a
page does: 200 with the methods it allows and no body.
"""

from django.http import HttpResponse
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


class DocsOptions:
    def options(self, request, *args, **kwargs):
        return HttpResponse(headers={"Allow": ", ".join(self.allowed_methods)})


class RedocView(DocsOptions, SpectacularRedocView):
    pass


class SwaggerView(DocsOptions, SpectacularSwaggerSplitView):
    pass
