"""The package's floors, read from the source: imports point down (or across one floor), never
up, and never round in a cycle, counting imports inside functions too.

Bottom to top: ``_checks``/``_io``/``_torch``/``_distributed`` → ``layers`` → ``models`` → ``registry``
(with ``pretrained``, which its ``pretrained=True`` calls) → the
modules that use models (``cost``, ``cam``, ``scaling``, ``data``, ``train``, ``memory``,
``quantize``, ``manifold``, ``zoo``, ``experiments``, ``utils`` and the public face
``lightnets/__init__``, which only re-exports them) → ``plots`` → ``widgets`` → the notebooks.
A module not named here is on the floor of the modules that use models.

One home per kind: every figure builder is in ``plots/``, every widget in ``widgets/``, every cost
formula in ``cost/``, and each package's ``__init__`` is only a face over its modules.

Inside ``lightnets.deploy`` the same rule holds one level down: BatchNorm folding → the ONNX
Runtime wrapper (which exports the folded copy) → int8 (which quantizes that export) → the face
``lightnets.deploy``, which dispatches to them and which none of them imports.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lightnets"

FLOORS = {"_checks": 0, "_io": 0, "_torch": 0, "_distributed": 0, "layers": 1, "models": 2, "registry": 3,
          "pretrained": 3, "plots": 5, "widgets": 6}
USES_MODELS = 4


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


DEPLOY_FLOORS = {"lightnets.deploy.folding": 0, "lightnets.deploy.onnx_runtime": 1,
                 "lightnets.deploy.int8": 2, "lightnets.deploy": 3}


def floor(module: str) -> int:
    parts = module.split(".")
    return FLOORS.get(parts[1], USES_MODELS) if len(parts) > 1 else USES_MODELS


def _resolve(module: str, is_package: bool, node) -> list:
    """The lightnets modules an import statement names (``from a import b``: a.b when that is a
    module, else a)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == "lightnets"]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[:len(package) - node.level + 1]
        base = ".".join(package + ([base] if base else []))
    if base.split(".")[0] != "lightnets":
        return []
    found = []
    for alias in node.names:
        full = f"{base}.{alias.name}"
        found.append(full if full in MODULES else base)
    return found


def imports() -> dict:
    """module → [(imported module, line)] for every import statement, at any depth."""
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        edges = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _resolve(module, path.name == "__init__.py", node):
                    if target != module:
                        edges.append((target, node.lineno))
        graph[module] = edges
    return graph


def test_the_import_reader_sees_imports_inside_functions():
    graph = imports()
    assert ("lightnets.models", 99) in graph["lightnets.registry"] or any(
        target == "lightnets.models" for target, _ in graph["lightnets.registry"])
    assert len(MODULES) > 20 and floor("lightnets.models.base") == 2


def test_imports_only_point_down_the_floors():
    upward = [f"{module} (floor {floor(module)}) imports {target} (floor {floor(target)}) at "
              f"line {line}"
              for module, edges in imports().items() for target, line in edges
              if floor(target) > floor(module)]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_cycles():
    graph = {m: sorted({t for t, _ in edges if t in MODULES}) for m, edges in imports().items()}
    lines = {(m, t): line for m, edges in imports().items() for t, line in edges}
    state: dict = {}
    cycles = []

    def visit(module: str, path: list) -> None:
        state[module] = "open"
        for target in graph.get(module, []):
            if state.get(target) == "open":
                loop = path[path.index(target):] + [target] if target in path else [module, target]
                cycles.append(" -> ".join(f"{a} (line {lines.get((a, b), '?')})"
                                          for a, b in zip(loop, loop[1:])) + f" -> {loop[-1]}")
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_deploy_modules_import_only_the_ones_below_them_and_never_the_face():
    assert set(DEPLOY_FLOORS) == {m for m in MODULES if m.startswith("lightnets.deploy")}, (
        "a new module in lightnets.deploy needs its place in DEPLOY_FLOORS")
    upward = [f"{module} imports {target} at line {line}"
              for module, edges in imports().items() if module in DEPLOY_FLOORS
              for target, line in edges
              if DEPLOY_FLOORS.get(target, -1) >= DEPLOY_FLOORS[module]]
    assert not upward, "upward imports in lightnets.deploy:\n" + "\n".join(upward)


@pytest.mark.parametrize("source, target", [("lightnets.layers", "lightnets.models.base"),
                                            ("lightnets.models.efficientnet", "lightnets.scaling")])
def test_an_upward_import_would_be_caught(source, target):
    assert floor(target) > floor(source)


def test_no_top_level_module_outside_its_home():
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    strays = [name for name in top
              if name.startswith(("plots_", "widgets_")) or name.endswith("_cost")]
    assert not strays, f"these belong in plots/, widgets/ or cost/: {strays}"


@pytest.mark.parametrize("package", ["plots", "widgets"])
def test_a_package_init_is_only_a_face(package):
    """Imports, a docstring and ``__all__``: no builder is defined in the face itself."""
    path = PACKAGE / package / "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined = [node.name for node in tree.body
               if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
    assert not defined, f"{path.name} of {package} defines {defined}: move them to a module"
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 150


@pytest.mark.parametrize("package", ["plots", "widgets"])
def test_the_face_shows_every_public_function_of_its_modules(package):
    import importlib
    import inspect

    face = importlib.import_module(f"lightnets.{package}")
    missing = []
    for path in sorted((PACKAGE / package).glob("[!_]*.py")):
        module = importlib.import_module(f"lightnets.{package}.{path.stem}")
        for name in getattr(module, "__all__", ()):
            if inspect.isfunction(getattr(module, name)) and name not in face.__all__:
                missing.append(f"{path.stem}.{name}")
    assert not missing, f"lightnets.{package} does not show: {missing}"
