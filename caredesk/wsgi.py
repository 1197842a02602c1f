import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caredesk.settings")
django_application = get_wsgi_application()

from caredesk.status.fastpath import StatusFastPath  # noqa: E402 -- needs Django set up

# The public status JSON is answered from its cache before the middleware stack.
application = StatusFastPath(django_application)
