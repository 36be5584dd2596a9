"""daphne runs on Twisted's HTTP request, which parses every multipart or urlencoded POST body into
``request.args`` with the stdlib e-mail parser once the body has arrived — in the reactor thread,
holding the GIL, before daphne hands the raw body to Django (which parses it again, in its own
thread, in chunks). daphne never reads ``request.args`` of a POST, so that first parse is pure waste,
and it stalls every other request and websocket of the process while it runs: about 17 ms for a
two-photo submit (600 KB), over 100 ms for two phone photos (issue 14: submit time under load).

Twisted ≥ 24.10 can switch that parse off per request (``parsePOSTFormSubmission``); daphne builds its
requests without passing it, so :func:`skip_twisted_form_parsing` pins it off on daphne's request
class. Called from ``loveloveshot/asgi.py`` (daphne imports that module before it serves)."""

from __future__ import annotations

import inspect


def skip_twisted_form_parsing() -> bool:
    """Make daphne's requests skip Twisted's own POST body parse. True when it is off now; False when
    this daphne/Twisted cannot (older Twisted, no daphne): bodies are then parsed twice, as before."""
    try:
        from daphne.http_protocol import WebRequest
        from twisted.web import http
    except ImportError:
        return False
    if "parsePOSTFormSubmission" not in inspect.signature(http.Request.__init__).parameters:
        return False
    # http.Request.__init__ assigns the attribute; a property on the class wins over that assignment.
    WebRequest._parsePOSTFormSubmission = property(lambda self: False, lambda self, value: None)
    return True
