"""Measure the shape of the code: the figures docs/architecture.md records before and after.

    python -m bench.architecture [TREE]     (TREE: a checkout; default: this one)

Largest module, modules over 400 lines (outside tests and benchmarks), import cycles between
modules (strongly connected groups in grimp's import graph, TYPE_CHECKING imports excluded),
modules importing the composition root (``notifier.bootstrap``), ``Mapping[str, Any]``
annotations, and hand-written JSON-schema lines in ``notifier/api/openapi*.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

LIMIT = 400
# A line of a JSON schema written by hand: one of its keywords as a dict key.
SCHEMA_KEYWORD = re.compile(r'"(type|properties|enum|required|items|\$ref|format|oneOf|anyOf)":')
# They build the context; everything below them is handed one.
ENTRY_POINTS = {"notifier/__init__.py", "notifier/tasks.py", "notifier/bootstrap.py"}

GRAPH = """
import json, sys, grimp
graph = grimp.build_graph("notifier", exclude_type_checking_imports=True)
edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
print(json.dumps(edges))
"""


def strongly_connected(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively: the groups of modules that import each other in a ring."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def measure(tree: Path) -> dict[str, object]:
    """Return the figures for the checkout at ``tree``."""
    sources = sorted(p for p in (tree / "notifier").rglob("*.py") if "migrations" not in p.parts)
    sizes = {str(p.relative_to(tree)): len(p.read_text(encoding="utf-8").splitlines()) for p in sources}
    largest = max(sizes, key=lambda k: sizes[k])
    text = {name: (tree / name).read_text(encoding="utf-8") for name in sizes}
    graph = subprocess.run(
        [sys.executable, "-c", GRAPH],
        cwd=tree,
        env={"PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    )
    cycles = strongly_connected(json.loads(graph.stdout))
    openapi = sum(
        1
        for name in sizes
        if re.match(r"notifier/api/openapi\w*\.py$", name)
        for line in text[name].splitlines()
        if SCHEMA_KEYWORD.search(line)
    )
    return {
        "modules": len(sizes),
        "largest module": f"{largest} ({sizes[largest]} lines)",
        f"modules over {LIMIT} lines": sorted(n for n in sizes if sizes[n] > LIMIT),
        "import cycles": cycles,
        "modules below the entry points importing the composition root": sorted(
            n
            for n in sizes
            if n not in ENTRY_POINTS
            and not n.startswith("notifier/cli")
            and re.search(r"from notifier(\.bootstrap)? import (.*\b)?(bootstrap|Context)\b", text[n])
        ),
        "Mapping[str, Any] annotations": sum(t.count("Mapping[str, Any]") for t in text.values()),
        "hand-written JSON-schema lines in the OpenAPI modules": openapi,
    }


def main() -> None:
    tree = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    for name, value in measure(tree).items():
        if isinstance(value, list):
            print(f"{name}: {len(value)}")
            for item in value:
                print(f"    {item}")
        else:
            print(f"{name}: {value}")


if __name__ == "__main__":
    main()
