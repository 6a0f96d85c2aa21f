from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = _("Commitments")

    def ready(self) -> None:
        # Registers the Celery tasks that commitments.jobs asks for by name.
        from . import tasks  # noqa: F401
