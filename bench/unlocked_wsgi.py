"""The portal with the pledge's claim switched off, for bench/pledge_contention.py only:
everything else about the endpoint stays the same, so the difference is the claim."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ksbb.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

from commitments.lifecycle import pledges  # noqa: E402

pledges.need_claim = lambda **kwargs: True
