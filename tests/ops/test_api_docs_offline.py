"""/api/docs/ works offline: Swagger UI comes from drf-spectacular-sidecar through our own static
files, the page has no inline script and references only same-origin URLs, and every one answers."""

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


class Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.urls.append(a["src"])
            else:
                self.inline_scripts += 1
        elif tag == "link" and a.get("href"):
            self.urls.append(a["href"])
        elif tag in {"img", "iframe"} and a.get("src"):
            self.urls.append(a["src"])


def _fetch(client, url):
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_swagger_ui_is_served_by_the_site_itself(client):
    page = client.get(reverse("api-docs"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn" not in html.lower() and "@latest" not in html

    parser = Assets()
    parser.feed(html)
    assert parser.inline_scripts == 0
    assert len(parser.urls) >= 4, parser.urls  # css, favicon, bundle, standalone preset, init script
    for url in parser.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"external asset on /api/docs/: {url}"
        response, body = _fetch(client, url)
        assert response.status_code == 200, url
        assert len(body) > 0, url
    scripts = [u for u in parser.urls if u.endswith(".js")]
    assert any("swagger-ui-bundle" in u for u in scripts)
    # The init script (SpectacularSwaggerSplitView) loads the schema from our own /api/schema/.
    init = [u for u in parser.urls if "?" in u and "script" in u]
    assert len(init) == 1
    _, body = _fetch(client, init[0])
    assert reverse("api-schema").encode() in body


def test_no_template_or_static_file_loads_from_another_host():
    """Anything the pages load (script/link/img src/href, CSS url()/@import) is same-origin."""
    import re

    external = re.compile(
        r"""(?:src|href)\s*=\s*["'](?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import\s+["']?(?:https?:)?//""",
        re.I,
    )
    hits = []
    for folder in ("templates", "static"):
        for path in (REPO / folder).rglob("*"):
            if path.suffix in {".html", ".css", ".js"} and path.is_file():
                for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                    if external.search(line):
                        hits.append(f"{path.relative_to(REPO)}:{n}: {line.strip()[:120]}")
    assert hits == []
