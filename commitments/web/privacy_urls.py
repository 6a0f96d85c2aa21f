"""A person's own data (Law 27/2022), beside the other /akun/ pages; the record of
processing for administrators."""

from django.urls import path

from . import privacy_views as privacy

urlpatterns = [
    path("akun/privasi/", privacy.privacy, name="privacy"),
    path("akun/privasi/data-saya/", privacy.my_data_page, name="my-data"),
    path("akun/privasi/data-saya.json", privacy.my_data_json, name="my-data-json"),
    path("akun/privasi/hapus/", privacy.erasure, name="erasure-request"),
    path("ruang-kerja/catatan-pemrosesan/", privacy.processing_record, name="processing-record"),
]
