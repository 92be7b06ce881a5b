"""The stories drawn as one graph (`parlez visualize`, Rasa's `rasa visualize`): each
conversation the stories describe (checkpoints and OR steps expanded) is a path from START
through the customer's turns and the assistant's actions to END, and turns that have the same
`max_history` turns before them are one node, as a policy with that history tells them
apart. Written as a page of its own (SVG, no script, nothing fetched), laid out in layers.
"""

from __future__ import annotations

import html
import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from parlez.events import ActionExecuted, Event, UserUttered
from parlez.training_data.stories import StoryBlock
from parlez.training_data.story_graph import conversations
from parlez.training_data.story_writer import UNWRITTEN
from parlez.training_data.training_data import TrainingData

START, END = "START", "END"


@dataclass
class Graph:
    """Nodes (a label and a kind each: "end", "user" for a customer's turn, "action" for
    the assistant's) and the edges between them; node 0 is START and node 1 is END."""

    labels: list[str] = field(default_factory=lambda: [START, END])
    kinds: list[str] = field(default_factory=lambda: ["end", "end"])
    edges: set[tuple[int, int]] = field(default_factory=set)
    _keys: dict[tuple[str, ...], int] = field(default_factory=dict, repr=False)

    def node(self, key: tuple[str, ...], kind: str) -> int:
        found = self._keys.get(key)
        if found is None:
            found = self._keys[key] = len(self.labels)
            self.labels.append(key[-1])
            self.kinds.append(kind)
        return found


def story_graph(
    blocks: list[StoryBlock], max_history: int = 2, nlu: TrainingData | None = None
) -> Graph:
    """The graph of the conversations `blocks` describe. A customer's turn is shown as its
    intent (`/greet`), or as the first example of that intent in `nlu` when one is given."""
    examples = _first_examples(nlu)
    graph = Graph()
    for conversation in conversations(blocks):
        history: list[str] = []
        previous = 0
        for label, kind in _turns(conversation.events, examples):
            history.append(label)
            # a turn is known by itself and the `max_history` turns before it
            key = (kind, *history[-(max_history + 1) :])
            current = graph.node(key, kind)
            graph.edges.add((previous, current))
            previous = current
        graph.edges.add((previous, 1))
    return graph


def _first_examples(nlu: TrainingData | None) -> dict[str, str]:
    examples: dict[str, str] = {}
    for example in nlu.intent_examples if nlu is not None else []:
        if example.intent and example.text:
            examples.setdefault(example.intent, example.text)
    return examples


def _turns(events: Iterable[Event], examples: dict[str, str]) -> Iterable[tuple[str, str]]:
    for event in events:
        if isinstance(event, UserUttered):
            intent = event.intent_name
            if intent:
                yield examples.get(intent, f"/{intent}"), "user"
            elif event.text:
                yield event.text, "user"
        elif isinstance(event, ActionExecuted):
            if event.action_name in UNWRITTEN:  # what a story never names
                continue
            label = event.action_name or event.action_text
            if label:
                yield label, "action"


# ---- layout and drawing -----------------------------------------------------------------

ROW = 72
GAP = 28
CHAR = 7.4
PAD = 14
HEIGHT = 30


@dataclass
class Layout:
    """Where the nodes go: rows of nodes, top to bottom, with a waypoint (a number past the
    graph's nodes) in each row an edge crosses on its way down; each edge's path through
    them; and the edges that go back up, round a loop."""

    rows: list[list[int]]
    paths: dict[tuple[int, int], list[int]]
    back: set[tuple[int, int]]


def layout(graph: Graph) -> Layout:
    """Each node one row below the furthest of its predecessors (edges round a loop left
    out), END in the last row; within a row, ordered so that edges cross little (each node
    near the mean place of its neighbours, four sweeps down and up)."""
    forward = _without_back_edges(graph)
    children = _children(forward)
    rank = {0: 0}
    for node in _topological(len(graph.labels), children):
        for child in children.get(node, []) if node in rank else []:
            rank[child] = max(rank.get(child, 0), rank[node] + 1)
    last = max((r for n, r in rank.items() if n != 1), default=0) + 1
    rank[1] = last
    for node in range(len(graph.labels)):
        rank.setdefault(node, last)  # reached only round a loop: not from START
    paths: dict[tuple[int, int], list[int]] = {}
    steps: set[tuple[int, int]] = set()
    waypoint = len(graph.labels)
    for a, b in sorted(forward):
        path = [a]
        for row in range(rank[a] + 1, rank[b]):
            rank[waypoint] = row
            path.append(waypoint)
            waypoint += 1
        path.append(b)
        paths[(a, b)] = path
        steps |= set(itertools.pairwise(path))
    rows: list[list[int]] = [[] for _ in range(last + 1)]
    for node in sorted(rank):
        rows[rank[node]].append(node)
    for _ in range(4):
        for index in range(1, len(rows)):
            _order_by(rows[index], rows[index - 1], steps, upward=True)
        for index in range(len(rows) - 2, -1, -1):
            _order_by(rows[index], rows[index + 1], steps, upward=False)
    return Layout(rows, paths, graph.edges - forward)


def _order_by(
    row: list[int], other: list[int], edges: set[tuple[int, int]], *, upward: bool
) -> None:
    """Sort `row` by the mean place of each node's neighbours in `other` (a node with none
    keeps its place)."""
    place = {node: index for index, node in enumerate(other)}
    now = {node: index for index, node in enumerate(row)}
    near: dict[int, list[int]] = {}
    for a, b in edges:
        mine, theirs = (b, a) if upward else (a, b)
        if mine in now and theirs in place:
            near.setdefault(mine, []).append(place[theirs])
    means = {
        node: sum(near[node]) / len(near[node]) if node in near else float(now[node])
        for node in row
    }
    row.sort(key=lambda node: (means[node], node))


def _without_back_edges(graph: Graph) -> set[tuple[int, int]]:
    """The edges but those that close a loop, found by a depth-first walk from START."""
    children = _children(graph.edges)
    state: dict[int, int] = {}  # 1 on the walk's path, 2 done
    back: set[tuple[int, int]] = set()
    stack: list[tuple[int, int]] = [(0, 0)]
    state[0] = 1
    while stack:
        node, next_child = stack[-1]
        kids = children.get(node, [])
        if next_child < len(kids):
            stack[-1] = (node, next_child + 1)
            child = kids[next_child]
            if state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, 0))
        else:
            state[node] = 2
            stack.pop()
    return graph.edges - back


def _children(edges: set[tuple[int, int]]) -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for a, b in sorted(edges):
        children.setdefault(a, []).append(b)
    return children


def _topological(count: int, children: dict[int, list[int]]) -> list[int]:
    """The nodes, each after every node with an edge to it (the edges have no loop)."""
    incoming = dict.fromkeys(range(count), 0)
    for targets in children.values():
        for child in targets:
            incoming[child] += 1
    ready = deque(n for n in range(count) if incoming[n] == 0)
    order: list[int] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for child in children.get(node, []):
            incoming[child] -= 1
            if incoming[child] == 0:
                ready.append(child)
    return order


def html_page(graph: Graph, title: str = "Stories") -> str:
    """The graph as an HTML page of its own, around its `svg` drawing."""
    return PAGE.format(title=html.escape(title), svg=svg(graph, title))


def svg(graph: Graph, title: str = "Stories") -> str:
    """The graph drawn in SVG, its style inside it (a page or the console shows it as it
    is): rows top to bottom, the customer's turns in blue, the assistant's actions in grey,
    loops drawn as dashed edges. Every label is escaped."""
    placed = layout(graph)
    count = len(graph.labels)

    def width(node: int) -> float:
        return max(60.0, len(graph.labels[node]) * CHAR + 2 * PAD) if node < count else 6.0

    row_widths = [sum(width(n) for n in row) + GAP * (len(row) - 1) for row in placed.rows]
    total = max(row_widths, default=0) + 2 * GAP + 60
    centre: dict[int, tuple[float, float]] = {}
    for index, row in enumerate(placed.rows):
        x = (total - row_widths[index]) / 2
        for node in row:
            centre[node] = (x + width(node) / 2, GAP + index * ROW + HEIGHT / 2)
            x += width(node) + GAP
    height = GAP * 2 + (len(placed.rows) - 1) * ROW + HEIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {total:.0f} {height:.0f}" role="img" aria-label="{html.escape(title)}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#666"/></marker></defs>',
        f"<style>{STYLE}</style>",
    ]
    for _edge, path in sorted(placed.paths.items()):
        # down from the bottom of each node or waypoint to the top of the next
        d = []
        for a, b in itertools.pairwise(path):
            (x1, y1), (x2, y2) = centre[a], centre[b]
            y1 += HEIGHT / 2 if a < count else 0
            y2 -= HEIGHT / 2 if b < count else 0
            bend = (y2 - y1) / 2
            d.append(
                f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} "
                f"{x2:.1f},{y2:.1f}"
            )
        joined = " ".join(d)
        parts.append(f'<path class="edge" d="{joined}" marker-end="url(#arrow)"/>')
    for a, b in sorted(placed.back):
        # round a loop: up out of the node's top into the other's bottom, bent to the right
        # of the edges that come down between them
        (x1, y1), (x2, y2) = centre[a], centre[b]
        y1, y2 = y1 - HEIGHT / 2, y2 + HEIGHT / 2
        side, bend = 36, max(12.0, (y1 - y2) / 2)
        loop = (
            f"M{x1:.1f},{y1:.1f} C{x1 + side:.1f},{y1 - bend:.1f} "
            f"{x2 + side:.1f},{y2 + bend:.1f} {x2:.1f},{y2:.1f}"
        )
        parts.append(f'<path class="edge loop" d="{loop}" marker-end="url(#arrow)"/>')
    for node, label in enumerate(graph.labels):
        x, y = centre[node]
        kind = graph.kinds[node]
        w = width(node)
        parts.append(
            f'<g class="node {kind}"><rect x="{x - w / 2:.1f}" y="{y - HEIGHT / 2:.1f}" '
            f'width="{w:.1f}" height="{HEIGHT}" rx="{HEIGHT / 2 if kind != "action" else 5}"/>'
            f'<text x="{x:.1f}" y="{y + 4.5:.1f}">{html.escape(label)}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


STYLE = """
.edge { fill: none; stroke: #666; stroke-width: 1.2; }
.edge.loop { stroke-dasharray: 5 4; }
.node rect { stroke: #555; stroke-width: 1; }
.node.user rect { fill: #dbeafe; stroke: #1d4ed8; }
.node.action rect { fill: #f3f4f6; }
.node.end rect { fill: #222; }
.node.end text { fill: #fff; font-weight: 600; }
.node text { font-size: 12px; text-anchor: middle; font-family: ui-monospace, monospace; fill: #222; }
"""
#: what the graph shows, said above it on the page and in the console
LEGEND = (
    "Each conversation of the stories runs from START to END. Blue: what the customer says; "
    "grey: what the assistant does; dashed: going round a loop."
)
PAGE = (
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{ font-family: system-ui, sans-serif; margin: 1rem; color: #222; }}
@media (max-width: 700px) {{ svg {{ width: 100%; height: auto; }} }}</style>
</head>
<body>
<h1>{title}</h1>
<p>"""
    + LEGEND
    + """</p>
{svg}
</body>
</html>
"""
)
