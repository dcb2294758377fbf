"""The package's layout: each folder imports only the folders before it, and
no module imports itself back through others.

Read from the installed package's source with `ast`, so every import counts,
also those inside functions (which run later, but still tie the modules).
"""
import ast
from pathlib import Path

import initcore

ROOT = Path(initcore.__file__).parent
# The folders in the order in which they may import each other.
ORDER = ["common", "fills", "torch", "networks", "propagation", "training", "sweeps", "app"]
# `Simulation.plot()` (as pandas' and xarray's plot accessors) reaches the
# plots on demand: the one import of `app` from below it.
ACCESSORS = {("propagation.simulate", "app.plots")}


def _modules():
    """{dotted name under initcore: path} of every Python module."""
    return {".".join(path.relative_to(ROOT).with_suffix("").parts): path for path in ROOT.rglob("*.py")}


def _imports(name, path):
    """The initcore modules that module `name` imports, anywhere in it."""
    package = name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{target}.{alias.name}" if target else alias.name
                found.add(candidate if candidate in MODULES else target)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("initcore."):
            found.add(node.module.removeprefix("initcore."))
    return {m for m in found if m in MODULES or f"{m}.__init__" in MODULES}


MODULES = _modules()


def _folder(module):
    head = module.split(".")[0]
    return head if head in ORDER else None


def test_each_folder_imports_only_the_folders_before_it():
    wrong = []
    for name, path in MODULES.items():
        folder = _folder(name)
        if folder is None:
            continue
        for target in _imports(name, path):
            other = _folder(target)
            if other is None:
                wrong.append(f"{name} imports the top-level module {target}")
            elif ORDER.index(other) > ORDER.index(folder) and (name, target) not in ACCESSORS:
                wrong.append(f"{name} ({folder}) imports {target} ({other})")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_itself_back():
    graph = {name: _imports(name, path) - {name} for name, path in MODULES.items()}
    for accessor in ACCESSORS:
        graph[accessor[0]].discard(accessor[1])
    state, cycles = {}, []

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(trail[trail.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


def test_the_accessors_are_the_only_exceptions_and_still_exist():
    """An exception that no longer happens must leave ACCESSORS, so the list
    cannot hide a new one."""
    for name, target in ACCESSORS:
        assert target in _imports(name, MODULES[name]), (name, target)


def test_dir_lists_the_lazy_names():
    listed = dir(initcore)
    for name in ("MLP", "simulate", "train", "Simulation", "TrainResult", "jacobian_spectrum", "meanfield",
                 "datasets", "normal", "Generator", "sweep", "read_sweep"):
        assert name in listed
