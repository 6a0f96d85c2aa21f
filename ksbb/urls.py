from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from programs import views as program_views

urlpatterns = [
    path("", program_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
