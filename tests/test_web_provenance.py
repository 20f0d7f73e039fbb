"""Entity pages say where each relation comes from, as the REST API and the stored queries record it: text
relations with the hedge as written, their condition and their own span marked in place; curated background
(relations and entities) marked as such with its reference linked. Rules over every entity, not instances."""

from __future__ import annotations

import html as html_lib
import re

import httpx
import pytest

HTML = {"Accept": "text/html"}
KS = "https://w3id.org/knee-soreness/"
CATEGORIES = ("causes", "interventions", "mechanisms", "symptoms")


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start:html.index("</section>", start)]


def relation_item(html: str, heading_id: str, relation_iri: str, other_id: str) -> str:
    """The list item that shows one relation (by property IRI) to or from entity `other_id` on a page."""
    for row in section(html, heading_id).split("<tr>"):
        if f'<abbr title="{relation_iri}">' not in row:
            continue
        for item in row.split("<li ")[1:]:
            if f'href="/entity/{other_id}"' in item.split("</a>", 1)[0]:
                return item
    raise AssertionError(f"{relation_iri} with {other_id} is not under #{heading_id}")


def entity_header(html: str) -> str:
    return html.split('<article class="entity">', 1)[1].split("</header>", 1)[0]


def curated_marked_with(fragment: str, references: set[str]) -> bool:
    return 'class="badge curated"' in fragment and "curated background" in fragment and all(
        f'<a href="{html_lib.escape(r)}"' in fragment for r in references)


@pytest.fixture(scope="module")
def curated_rows(client: httpx.Client) -> list[dict[str, str]]:
    bindings = client.get("/api/queries/curated_background").json()["bindings"]
    assert bindings, "the graph has curated background"
    return [{k: v["value"] for k, v in b.items()} for b in bindings]


@pytest.fixture(scope="module")
def entity_ids(client: httpx.Client) -> list[str]:
    ids = [item["id"] for plural in CATEGORIES for item in client.get(f"/api/{plural}?limit=100").json()["items"]]
    assert len(ids) > 20
    return ids


def test_every_curated_relation_is_marked_curated_with_its_reference_on_both_pages(
        client: httpx.Client, curated_rows: list[dict[str, str]]) -> None:
    relations: dict[tuple[str, str, str], set[str]] = {}
    for row in curated_rows:
        if "relation" in row:
            relations.setdefault((row["entity"], row["relation"], row["object"]), set()).add(row["reference"])
    assert relations
    for (subject, relation, obj), references in relations.items():
        subject_id, object_id = subject.removeprefix(KS), obj.removeprefix(KS)
        out_item = relation_item(client.get(f"/entity/{subject_id}", headers=HTML).text, "relations-heading",
                                 relation, object_id)
        assert curated_marked_with(out_item, references), (subject_id, relation, object_id)
        in_item = relation_item(client.get(f"/entity/{object_id}", headers=HTML).text, "inverse-heading",
                                relation, subject_id)
        assert curated_marked_with(in_item, references), (subject_id, relation, object_id)


def test_every_curated_entity_is_marked_curated_with_its_reference_under_its_heading(
        client: httpx.Client, curated_rows: list[dict[str, str]]) -> None:
    entities: dict[str, set[str]] = {}
    for row in curated_rows:
        if "relation" not in row:
            entities.setdefault(row["entity"].removeprefix(KS), set()).add(row["reference"])
    assert entities
    for entity_id, references in entities.items():
        header = entity_header(client.get(f"/entity/{entity_id}", headers=HTML).text)
        assert curated_marked_with(header, references), entity_id
        assert client.get(f"/api/entities/{entity_id}").json()["provenance"] == "curated"


def test_text_entities_are_not_marked_curated(client: httpx.Client, entity_ids: list[str]) -> None:
    for entity_id in entity_ids:
        detail = client.get(f"/api/entities/{entity_id}").json()
        header = entity_header(client.get(f"/entity/{entity_id}", headers=HTML).text)
        assert ("curated background" in header) == (detail["provenance"] == "curated"), entity_id


def test_every_relation_shows_what_the_api_says_of_it(client: httpx.Client, entity_ids: list[str],
                                                      source_text: str) -> None:
    """Each relation of a cause, intervention, mechanism or symptom page, as /api/entities/{id} lists it: curated
    ones marked with their reference; text ones with their hedge and condition as written and each evidence
    span marked inside the source text at its offsets."""
    seen = {"text": 0, "curated": 0, "hedged": 0, "conditional": 0}
    for entity_id in entity_ids:
        detail = client.get(f"/api/entities/{entity_id}").json()
        page = client.get(f"/entity/{entity_id}", headers=HTML).text
        for relation in detail["relations"]:
            item = relation_item(page, "relations-heading", KS + relation["relation"], relation["object"])
            where = (entity_id, relation["relation"], relation["object"])
            if relation["provenance"] == "curated":
                seen["curated"] += 1
                assert curated_marked_with(item, set(relation["reference"])), where
                continue
            assert relation["provenance"] == "text" and "curated background" not in item, where
            seen["text"] += 1
            if relation["qualifier"]:
                seen["hedged"] += 1
                assert f"“{html_lib.escape(relation['qualifier'])}”" in item, where
            if relation["holds_when"]:
                seen["conditional"] += 1
                assert html_lib.escape(relation["holds_when"]) in item, where
            assert relation["evidence"], where
            for span in relation["evidence"]:
                match = re.search(r"<blockquote[^>]*>([^<]*)<mark>([^<]*)</mark>([^<]*)</blockquote>\s*"
                                  rf"<figcaption>characters {span['start']}–{span['end']} ", item)
                assert match, (where, span)
                before = html_lib.unescape(match.group(1)).removeprefix("… ")
                assert html_lib.unescape(match.group(2)) == source_text[span["start"]:span["end"]] == span["quote"]
                assert source_text[:span["start"]].endswith(before) and before, (where, span)  # in place
    assert all(seen.values()), seen  # the rule met every kind of relation


def test_entity_index_marks_curated_entities(client: httpx.Client) -> None:
    """The no-JavaScript index and its search results tell curated background from what the text names."""
    curated_seen = set()
    for path in ("/entities", "/entities?q=drug"):
        items = re.findall(r'<li><a href="/entity/([^"]+)"[^>]*>[^<]*</a>(.*?)</li>', client.get(path, headers=HTML).text,
                           flags=re.DOTALL)
        assert items, path
        for entity_id, rest in items:
            curated = client.get(f"/api/entities/{entity_id}").json()["provenance"] == "curated"
            assert ("curated background" in rest) == curated, (path, entity_id)
            if curated:
                curated_seen.add(path)
    assert len(curated_seen) == 2  # both lists hold curated background


def test_search_results_carry_the_entity_provenance(client: httpx.Client, curated_rows: list[dict[str, str]]) -> None:
    curated = {row["label"] for row in curated_rows if "relation" not in row}
    names = [*curated, "knee", "calcium", "ibuprofen"]
    checked = 0
    for name in names:
        for result in client.get("/api/search", params={"q": name, "limit": 100}).json()["results"]:
            assert result["provenance"] == client.get(f"/api/entities/{result['id']}").json()["provenance"], result
            checked += 1
    assert checked > len(names)
