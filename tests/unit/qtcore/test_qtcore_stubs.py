"""The compiled modules' type stubs (python/quantumtrader/qtcore/*.pyi,
installed beside the modules) name every public name of their module, and
every public member of the classes the module defines."""

from __future__ import annotations

import ast
import importlib
import inspect
import pathlib
import types

import pytest

import quantumtrader.qtcore

COMPILED = ["audit", "book", "evlog", "features", "layout", "nresult", "pipeline", "predict", "profit_csv",
            "profitdll", "ring"]
STUBS = pathlib.Path(quantumtrader.qtcore.__file__).resolve().parent


def _stub_names(tree: ast.Module) -> tuple[set[str], dict[str, set[str]]]:
    names: set[str] = set()
    members: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
            defs = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
            attrs = {n.target.id for n in node.body
                     if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
            members[node.name] = defs | attrs
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names.update(a.asname or a.name for a in node.names)
    return names, members


def _public(names: list[str]) -> set[str]:
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("name", COMPILED)
def test_stub_names_every_public_name(name: str) -> None:
    mod = importlib.import_module(f"quantumtrader.qtcore.{name}")
    stub = STUBS / f"{name}.pyi"
    assert stub.is_file(), f"{stub} is missing"
    names, members = _stub_names(ast.parse(stub.read_text(encoding="utf-8")))
    public = {n for n in _public(dir(mod)) if not isinstance(getattr(mod, n), types.ModuleType)}
    assert sorted(public - names) == [], f"{stub.name} lacks these public names of the module"
    for cls_name in sorted(public):
        cls = getattr(mod, cls_name)
        if inspect.isclass(cls) and cls.__module__ == mod.__name__:
            missing = _public(list(vars(cls))) - members.get(cls_name, set())
            assert sorted(missing) == [], f"{stub.name}: class {cls_name} lacks these members"


def test_every_compiled_module_has_a_stub() -> None:
    """No stub for a module that is not compiled (a stale stub after a rename)."""
    assert sorted(p.stem for p in STUBS.glob("*.pyi")) == COMPILED
