"""The shape of the tree: dependencies point one way, no import circles, small modules.

DESIGN.md: ``protocol <- sync <- {edge, cloud}``; nothing imports edge or cloud but
their own entry points. An import circle, or an import hidden inside a function to
dodge one, is how a package starts to need all of itself for any one change.
"""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("protocol", "sync", "edge", "cloud")
LAYER = {"protocol": 0, "sync": 1, "edge": 2, "cloud": 2}
MAX_LINES = 600
LONG_ALLOWED = ("protocol/models.py", "protocol/migrations/")


def _modules():
    found = {}
    for package in PACKAGES:
        for folder, _, files in os.walk(os.path.join(ROOT, package)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    dotted = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                    if dotted.endswith(".__init__"):
                        dotted = dotted[:-len(".__init__")]
                    found[dotted] = path
    return found


MODULES = _modules()


def _imports(module, path):
    """[(imported module of ours, inside a function?)] of one module."""
    tree = ast.parse(open(path).read(), path)
    package = module.split(".") if path.endswith("__init__.py") else module.split(".")[:-1]
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            names = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package[:len(package) - child.level + 1]
                    base = ".".join(parts + ([child.module] if child.module else []))
                subs = [base + "." + alias.name for alias in child.names]
                names = [s for s in subs if s in MODULES] or [base]
            for name in names:
                while name and name not in MODULES:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    found.append((name, inside))
            visit(child, inside)
    visit(tree, False)
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _cycles():
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w, _ in GRAPH[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))
    for module in sorted(GRAPH):
        if module not in index:
            strong(module)
    return components


def test_the_tree_is_read_whole():
    assert {"protocol.store", "protocol.orders", "sync.client", "edge.server",
            "cloud.server"} <= set(MODULES)
    assert ("protocol.database", False) in GRAPH["protocol.store"]


def test_no_import_circles():
    assert _cycles() == []


def test_no_import_hidden_in_a_function():
    hidden = sorted("%s -> %s" % (module, name) for module, edges in GRAPH.items()
                    for name, inside in edges if inside)
    assert hidden == []


def test_dependencies_point_one_way():
    upward = sorted("%s -> %s" % (module, name) for module, edges in GRAPH.items()
                    for name, _ in edges
                    if LAYER[name.split(".")[0]] > LAYER[module.split(".")[0]]
                    or {module.split(".")[0], name.split(".")[0]} == {"edge", "cloud"})
    assert upward == []


def test_modules_stay_small():
    long = sorted("%s: %d lines" % (os.path.relpath(path, ROOT), lines)
                  for path in MODULES.values()
                  if not os.path.relpath(path, ROOT).startswith(LONG_ALLOWED)
                  for lines in [sum(1 for _ in open(path))] if lines > MAX_LINES)
    assert long == []
