"""A tiny OpenID Connect provider for tests (no network): discovery, authorize (redirects straight
back with a code, as if the person had logged in and agreed), token and userinfo endpoints.
allauth's real openid_connect provider code talks to it over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse


class OidcStub:
    def __init__(self, *, client_id: str = "lls-test-client", secret: str = "lls-test-secret",
                 user: dict | None = None):
        self.client_id, self.secret = client_id, secret
        self.user = user or {"sub": "stub-user-1", "email": "social@example.com", "email_verified": True,
                             "name": "Social Couple"}
        self.codes: dict[str, str] = {}
        self.tokens: set[str] = set()
        self.calls: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlparse(self.path)
                stub.calls.append("GET " + url.path)
                if url.path == "/.well-known/openid-configuration":
                    return self._json(200, {
                        "issuer": stub.url,
                        "authorization_endpoint": stub.url + "/authorize",
                        "token_endpoint": stub.url + "/token",
                        "userinfo_endpoint": stub.url + "/userinfo",
                        "jwks_uri": stub.url + "/jwks",
                        "token_endpoint_auth_methods_supported": ["client_secret_post"],
                    })
                if url.path == "/authorize":
                    q = {k: v[0] for k, v in parse_qs(url.query).items()}
                    if q.get("client_id") != stub.client_id:
                        return self._json(400, {"error": "unauthorized_client"})
                    code = secrets.token_urlsafe(16)
                    stub.codes[code] = q["redirect_uri"]
                    self.send_response(302)
                    self.send_header("Location", q["redirect_uri"] + "?" + urlencode({"code": code,
                                                                                      "state": q.get("state", "")}))
                    self.end_headers()
                    return None
                if url.path == "/userinfo":
                    token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                    if token not in stub.tokens:
                        return self._json(401, {"error": "invalid_token"})
                    return self._json(200, stub.user)
                return self._json(404, {"error": "not_found"})

            def do_POST(self):
                url = urlparse(self.path)
                stub.calls.append("POST " + url.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if url.path != "/token":
                    return self._json(404, {"error": "not_found"})
                if form.get("client_id") != stub.client_id or form.get("client_secret") != stub.secret:
                    return self._json(401, {"error": "invalid_client"})
                if stub.codes.pop(form.get("code", ""), None) != form.get("redirect_uri"):
                    return self._json(400, {"error": "invalid_grant"})
                token = secrets.token_urlsafe(16)
                stub.tokens.add(token)
                return self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OidcStub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def env(self, provider_id: str = "stub", name: str = "Stub ID") -> dict[str, str]:
        """The environment that configures LoveLoveShot's OpenID Connect login for this stub."""
        return {"LLS_OIDC_SERVER_URL": self.url, "LLS_OIDC_CLIENT_ID": self.client_id, "LLS_OIDC_SECRET": self.secret,
                "LLS_OIDC_PROVIDER_ID": provider_id, "LLS_OIDC_NAME": name}
