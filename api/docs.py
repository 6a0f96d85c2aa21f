"""The API's documentation page (Redoc) from drf-spectacular.

Its view renders an HTML template for every answer, so DRF's metadata answer to OPTIONS
(a dict, with no template to show it in) was a server error; here OPTIONS answers what a
page does: 200 with the methods it allows and no body.
"""

from django.http import HttpResponse
from drf_spectacular.views import SpectacularRedocView


class DocsOptions:
    def options(self, request, *args, **kwargs):
        return HttpResponse(headers={"Allow": ", ".join(self.allowed_methods)})


class RedocView(DocsOptions, SpectacularRedocView):
    pass
