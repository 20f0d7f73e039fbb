"""Accuracy of GET /api/ask on the project's question set (tests/data/ask-questions.json) and the shared
public sample (../shared/questions-sample.json), per category, against a live server.

    python3 tests/ask_eval.py            # starts `kg-service serve` on a free port, prints the table
    python3 tests/ask_eval.py --url http://127.0.0.1:8000

A question is right when: answerable ones are understood, have items, every `expect` regex matches the
items' text (labels, qualifiers, evidence, nested labels), no `forbid` regex matches an item's label, and
every evidence span is exactly the source text at its offsets; unanswerable ones are declined
(understood false, no items). tests/test_ask.py asserts the same for each question; a question marked
`known_gap` (with the reason) is one the service is known to get wrong: it counts as wrong here and is an
expected failure there, which fails once it passes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
OWN = sorted((ROOT / "tests" / "data").glob("ask-questions*.json"))
SAMPLE = ROOT.parent / "shared" / "questions-sample.json"


def load_questions() -> list[dict]:
    """Our set, then the shared sample (category 'sample' unless it has one)."""
    questions = [dict(q, set="own", file=path.name) for path in OWN for q in json.loads(path.read_text())["questions"]]
    if SAMPLE.exists():
        questions += [dict(q, set="sample", file=SAMPLE.name, category=q.get("category", "sample"))
                      for q in json.loads(SAMPLE.read_text())["questions"]]
    return questions


def strings(value) -> Iterator[str]:
    """Every string inside an item (labels, qualifiers, quotes, nested steps and drug details)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def evidence_spans(value) -> Iterator[dict]:
    if isinstance(value, dict):
        if {"quote", "start", "end"} <= value.keys():
            yield value
        for v in value.values():
            yield from evidence_spans(v)
    elif isinstance(value, list):
        for v in value:
            yield from evidence_spans(v)


def failures(question: dict, body: dict, source_text: str) -> list[str]:
    """Why the answer is wrong (empty when it is right)."""
    items = body["answer"]["items"]
    if question.get("answerable", True) is False:
        return [] if not body["understood"] and not items else \
            [f"should decline, answered {body['interpretation']['intent']} with {len(items)} items"]
    problems = []
    if not body["understood"] or not items:
        return [f"declined: {body['answer'].get('note')}"]
    text = "\n".join(strings(items))
    problems += [f"expected /{p}/ not found" for p in question.get("expect", [])
                 if not re.search(p, text, flags=re.IGNORECASE | re.MULTILINE)]
    labels = [item["label"] for item in items]
    problems += [f"forbidden /{p}/ in {label!r}" for p in question.get("forbid", []) for label in labels
                 if re.search(p, label, flags=re.IGNORECASE)]
    problems += [f"item {item['label']!r} has no evidence" for item in items if not list(evidence_spans(item))]
    problems += [f"evidence {e['start']}-{e['end']} is not the source text" for e in evidence_spans(items)
                 if source_text[e["start"]:e["end"]] != e["quote"]]
    return problems


def evaluate(client: httpx.Client, source_text: str) -> list[tuple[dict, list[str]]]:
    results = []
    for question in load_questions():
        response = client.get("/api/ask", params={"q": question["q"]})
        response.raise_for_status()
        results.append((question, failures(question, response.json(), source_text)))
    return results


def table(results: list[tuple[dict, list[str]]]) -> str:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for question, problems in results:
        keys = [(question["set"], question["category"]), (question["set"], "all")]
        if question["set"] == "own":
            keys.append((question["set"], f"all of {question['file']}"))
        for key in keys:
            counts[key][0] += not problems
            counts[key][1] += 1
    lines = ["| set | category | right | accuracy |", "|---|---|---|---|"]
    order = lambda kv: (kv[0][0], kv[0][1].startswith("all"), kv[0][1] == "all", kv[0][1])
    for (which, category), (right, total) in sorted(counts.items(), key=order):
        lines.append(f"| {which} | {category} | {right}/{total} | {100 * right // total} % |")  # floor: 278/279 is 99 %
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running service (default: start one)")
    args = parser.parse_args()
    source_text = (ROOT / "ontology" / "sources" / "knee-night-soreness.txt").read_text(encoding="utf-8")
    server = None
    if args.url is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from conftest import start_server

        server = start_server(Path(tempfile.mkdtemp(prefix="ask-eval-")))
    try:
        with httpx.Client(base_url=args.url or server.url, timeout=60) as client:
            results = evaluate(client, source_text)
    finally:
        if server is not None:
            from conftest import stop_server

            stop_server(server)
    print(table(results))
    for question, problems in results:
        if problems:
            gap = f" (known gap: {question['known_gap']})" if question.get("known_gap") else ""
            print(f"{question['id']} {question['q']!r}: " + "; ".join(problems) + gap)
    return 0 if all(not p or q.get("known_gap") for q, p in results) else 1


if __name__ == "__main__":
    sys.exit(main())
