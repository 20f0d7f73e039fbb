"""The causal picture as server-side SVG: causes -> mechanisms -> symptoms, triggers beside the mechanisms
they set off, and what the text advises for each cause in one box per cause, grouped by kind, with the advice
that needs a physician marked.

The data comes from two stored queries (causal_diagram, advice_by_kind); Graphviz `dot` lays it out. The SVG
is computed once per graph version (and per cause) and kept in the state's cache. Pages inline it, so it works
without JavaScript, and every node links to its entity page.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

from kg_service.api.common import local_id
from kg_service.state import ServiceState

DOT_TIMEOUT_S = 20  # a layout of this size takes ~0.1 s; the bound only guards against a stuck process
WRAP_CHARS = 26
SUPERVISED_MARK = "⚕"
# Edges of the causal chain, as drawn: (relation, reversed?, style). has_trigger is drawn trigger -> mechanism.
EDGE_STYLES = {
    "causes_symptom": ("causes", False, 'style="solid"'),
    "leads_to_condition": ("leads to", False, 'style="solid"'),
    "has_mechanism": ("through", False, 'style="solid"'),
    "results_in": ("results in", False, 'style="solid"'),
    "has_trigger": ("triggers", True, 'style="dashed", class="trigger-edge"'),
}

FILLS = {"cause": "#fde2c8", "mechanism": "#dbe8fb", "trigger": "#fff4b3", "symptom": "#f8d0d0", "advice": "#e8f3e2"}


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    category: str


@dataclass(frozen=True)
class Advice:
    """One piece of advice in a condition's box."""

    id: str
    label: str
    kind: str
    supervised: bool


@dataclass
class Picture:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (subject id, relation, object id)
    advice: dict[str, list[Advice]] = field(default_factory=dict)  # condition id -> advice, grouped by kind

    def reachable(self, start: str, skip: tuple[str, str, str] | None = None) -> set[str]:
        """Nodes downstream of `start` along causal edges (triggers are not followed), optionally without one edge."""
        seen, frontier = {start}, [start]
        while frontier:
            current = frontier.pop()
            for edge in self.edges:
                subject, relation, obj = edge
                if subject == current and relation != "has_trigger" and edge != skip and obj not in seen:
                    seen.add(obj)
                    frontier.append(obj)
        return seen

    def drawn_edges(self) -> list[tuple[str, str, str]]:
        """Edges worth an arrow: a direct cause -> symptom edge is left out when a mechanism already leads there,
        so the picture reads cause -> mechanism -> symptom instead of a fan of parallel arrows."""
        return [e for e in self.edges
                if not (e[1] == "causes_symptom" and e[2] in self.reachable(e[0], skip=e))]

    def focus(self, cause_id: str) -> Picture:
        """The part one cause's page shows: what it leads to, downstream, and the triggers on that path."""
        keep = self.reachable(cause_id)
        keep |= {obj for subject, relation, obj in self.edges if relation == "has_trigger" and subject in keep}
        edges = [e for e in self.edges if e[0] in keep and e[2] in keep]
        return Picture(nodes={k: v for k, v in self.nodes.items() if k in keep}, edges=edges,
                       advice={cause_id: self.advice.get(cause_id, [])})


def causal_picture(state: ServiceState) -> Picture:
    """The whole article's causal picture, from the stored queries."""
    picture = Picture()
    for row in state.catalog.select(state.backend, "causal_diagram"):
        subject, obj = local_id(row["subject"]), local_id(row["object"])
        picture.nodes.setdefault(subject, Node(subject, str(row["subject_label"]), str(row["subject_category"])))
        picture.nodes.setdefault(obj, Node(obj, str(row["object_label"]), str(row["object_category"])))
        edge = (subject, local_id(row["relation"]), obj)
        if edge not in picture.edges:
            picture.edges.append(edge)
    for row in state.catalog.select(state.backend, "advice_by_kind"):
        condition = local_id(row["condition"])
        items = picture.advice.setdefault(condition, [])
        item = Advice(local_id(row["intervention"]), str(row["label"]), str(row["type_label"]),
                      str(row["requires_medical_supervision"]).lower() in ("true", "1"))
        if item not in items:
            items.append(item)
    return picture


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrapped(label: str) -> str:
    return "\\n".join(textwrap.wrap(label, WRAP_CHARS)).replace('"', '\\"')


def _advice_label(items: Iterable[Advice]) -> str:
    """A Graphviz HTML-like table: one heading per kind, one linked row per intervention."""
    by_kind: dict[str, list[Advice]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    rows = []
    for kind in sorted(by_kind):
        rows.append(f'<TR><TD ALIGN="LEFT"><B>{html.escape(kind)}</B></TD></TR>')
        for item in sorted(by_kind[kind], key=lambda a: a.label):
            mark = f" {SUPERVISED_MARK}" if item.supervised else ""
            tip = "needs a physician, as the text says" if item.supervised else item.label
            rows.append(f'<TR><TD ALIGN="LEFT" HREF="/entity/{html.escape(item.id)}" TOOLTIP="{html.escape(tip)}">'
                        f'  {html.escape(item.label)}{mark}</TD></TR>')
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"


def to_dot(picture: Picture) -> str:
    """DOT source, left to right: advice, causes and triggers, mechanisms, symptoms."""
    lines = ['digraph causal {', '  rankdir=LR; nodesep=0.18; ranksep=0.45; bgcolor="transparent";',
             '  node [fontname="DejaVu Sans", fontsize=11, shape=box, style="rounded,filled", margin="0.12,0.06"];',
             '  edge [fontname="DejaVu Sans", fontsize=9, arrowsize=0.7];']
    shapes = {"trigger": 'shape=note, style="filled"', "symptom": 'shape=box, style="rounded,filled,bold"'}
    for node in picture.nodes.values():
        extra = ", ".join(filter(None, [shapes.get(node.category, ""), f'fillcolor="{FILLS.get(node.category, "#eeeeee")}"']))
        lines.append(f'  {_quote(node.id)} [label="{_wrapped(node.label)}", class="{node.category}", '
                     f'URL="/entity/{node.id}", tooltip={_quote(node.label + " (" + node.category + ")")}'
                     f', {extra}];')
    symptoms = [n.id for n in picture.nodes.values() if n.category == "symptom"]
    if symptoms:
        lines.append("  { rank=max; " + " ".join(_quote(s) for s in symptoms) + " }")
    for subject, relation, obj in picture.drawn_edges():
        text, reverse, style = EDGE_STYLES.get(relation, (relation, False, 'style="solid"'))
        tail, head = (obj, subject) if reverse else (subject, obj)
        lines.append(f'  {_quote(tail)} -> {_quote(head)} [{style}, tooltip={_quote(text)}];')
    for condition, items in picture.advice.items():
        if not items or condition not in picture.nodes:
            continue
        box = f"advice-{condition}"
        lines.append(f'  {_quote(box)} [shape=box, style="filled", fillcolor="{FILLS["advice"]}", class="advice", label={_advice_label(items)}];')
        if picture.nodes[condition].category == "symptom":  # closing advice sits after the symptom
            lines.append(f'  {_quote(condition)} -> {_quote(box)} [style="dotted", arrowhead=none, class="advice-edge"];')
        else:
            lines.append(f'  {_quote(box)} -> {_quote(condition)} [style="dotted", arrowhead=none, class="advice-edge"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


class DiagramUnavailable(Exception):
    """Graphviz is missing or failed; pages show the reason instead of the picture."""


def render_svg(dot_source: str) -> str:
    """Run `dot -Tsvg` (bounded in time) and return an inline-ready <svg> element."""
    dot = shutil.which("dot")
    if dot is None:
        raise DiagramUnavailable("Graphviz is not installed (Debian: apt-get install graphviz).")
    try:
        done = subprocess.run([dot, "-Tsvg"], input=dot_source.encode(), capture_output=True,
                              timeout=DOT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise DiagramUnavailable(f"Graphviz took longer than {DOT_TIMEOUT_S} s.") from None
    if done.returncode != 0:
        raise DiagramUnavailable(f"Graphviz failed: {done.stderr.decode(errors='replace').strip()[:300]}")
    svg = done.stdout.decode()
    svg = svg[svg.index("<svg"):]
    # Scale with the page: keep the viewBox, drop the fixed size, and name the picture for screen readers.
    svg = re.sub(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"',
                 lambda m: f'<svg class="diagram" role="img" aria-labelledby="diagram-title" '
                           f'style="max-width:{float(m.group(1)) * 4 / 3:.0f}px"', svg, count=1)
    return re.sub(r"<title>causal</title>", '<title id="diagram-title">Causal diagram</title>', svg, count=1)


def diagram_svg(state: ServiceState, cause_id: str | None = None) -> str:
    """The SVG of the whole article (or of one cause), once per graph version."""
    def render() -> str:
        picture = causal_picture(state)
        return render_svg(to_dot(picture if cause_id is None else picture.focus(cause_id)))

    return state.cache.derived(("diagram-svg", cause_id), render)
