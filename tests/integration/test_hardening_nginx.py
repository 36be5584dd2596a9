"""Issue 13 items 10 and 13 at the edge: the rendered production nginx config (scripts/prod_nginx_conf.sh)
refuses an oversize body from its Content-Length, before reading it, with 413 and a sentence, and sends
the strict CSP on what it serves itself. Runs the real Debian nginx when it is installed."""

import os
import shutil
import socket
import subprocess
import time

import pytest

from loveloveshot.middleware import CONTENT_SECURITY_POLICY
from tests.conftest import REPO

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
if NGINX is None:  # `make test` installs it (scripts/system_packages.sh --with-browser): a missing nginx is an error
    raise pytest.UsageError("nginx is not installed: bash scripts/system_packages.sh --with-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def nginx(tmp_path):
    port = _free_port()
    site = subprocess.run(
        ["bash", "scripts/prod_nginx_conf.sh"], cwd=REPO, check=True, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "NGINX_LISTEN": f"127.0.0.1:{port}", "NGINX_LOG_DIR": str(tmp_path),
             "STATIC_ROOT": str(REPO / "static"), "PRIVATE_MEDIA_ROOT": str(tmp_path / "private")},
    ).stdout
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "body").mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n include /etc/nginx/mime.types;\n client_body_temp_path {tmp_path}/body;\n"
        f" proxy_temp_path {tmp_path}/proxy;\n include {tmp_path}/site.conf;\n}}\n"
    )
    proc = subprocess.Popen([NGINX, "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(10)


def test_nginx_refuses_an_oversize_body_before_reading_it(nginx):
    with socket.create_connection(("127.0.0.1", nginx), timeout=30) as s:
        # headers only: 60 MB announced, not one byte of it sent
        s.sendall(b"POST /studio/new/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 62914560\r\n"
                  b"Content-Type: multipart/form-data; boundary=x\r\n\r\n")
        data = b""
        while b"</html>" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert f"Content-Security-Policy: {CONTENT_SECURITY_POLICY}".encode() in head
    assert "더 작은 사진".encode() in body and b"too large to send at once" in body


def test_nginx_sends_the_csp_on_static_files(nginx):
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{nginx}/static/css/site.css", timeout=30) as r:
        assert r.status == 200
        assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
