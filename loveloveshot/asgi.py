import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loveloveshot.settings.local")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from loveloveshot.daphne_tuning import skip_twisted_form_parsing  # noqa: E402
from loveloveshot.middleware import RequestSizeLimitASGI  # noqa: E402
from studio.routing import websocket_urlpatterns  # noqa: E402

skip_twisted_form_parsing()  # daphne: Django parses POST bodies; Twisted need not (issue 14)

application = ProtocolTypeRouter(
    {
        "http": RequestSizeLimitASGI(django_asgi_app),  # 413 before Django reads an oversize body
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
