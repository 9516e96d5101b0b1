"""Finds genlab's uses of library internals: a private name (``_name``) or an internal module
of Lightning, W&B, Optuna, torch-fidelity, Hydra/omegaconf, torch or submitit.

What counts as a use:

- an import from a private module (``optuna.storages._heartbeat``), of a private name, or from
  a module the library does not offer to its users (W&B's ``wandb.sdk``/``wandb.proto``,
  torch-fidelity's functions its package does not export);
- an attribute ``x._name`` that genlab defines nowhere (so it is a library's);
- inside a class derived from a library class, a ``_name`` method or attribute that the
  library's class has too (an override of, or a write to, the library's internals).

Names with Hydra's public underscore form (``_target_``) are not private.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LIBRARIES = (
    "lightning", "pytorch_lightning", "lightning_fabric", "lightning_utilities", "wandb",
    "optuna", "torch_fidelity", "hydra", "omegaconf", "torch", "submitit",
)  # fmt: skip
# Modules of a library that are not its users' API although no part of the path is private.
INTERNAL_MODULES = ("wandb.sdk", "wandb.proto", "wandb.apis.internal", "wandb.wandb_agent")
HYDRA_KEY = re.compile(r"^_[a-z]+_$")  # _target_, _partial_, _recursive_, _convert_, _args_
NAMEDTUPLE_API = {"_asdict", "_replace", "_fields", "_make", "_field_defaults"}


@dataclass(frozen=True, order=True)
class PrivateUse:
    path: str  # relative to the checkout
    line: int
    name: str  # the library's private name, as written

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.name}"


def is_private(name: str) -> bool:
    return (
        name.startswith("_")
        and not name.startswith("__")
        and not HYDRA_KEY.match(name)
        and name not in NAMEDTUPLE_API
    )


def library_of(module: str) -> str | None:
    root = module.split(".")[0]
    return root if root in LIBRARIES else None


@cache
def torch_fidelity_exports() -> frozenset[str]:
    import torch_fidelity

    return frozenset(
        name for name in dir(torch_fidelity) if not inspect.ismodule(getattr(torch_fidelity, name))
    )


def private_import(module: str, name: str | None) -> bool:
    """Whether ``from module import name`` (or ``import module`` with ``name`` None) reaches
    into a library's internals."""
    if library_of(module) is None:
        return False
    if any(is_private(part) for part in module.split(".")):
        return True
    if any(module == m or module.startswith(m + ".") for m in INTERNAL_MODULES):
        return True
    if name is not None and is_private(name):
        return True
    if module == "torch_fidelity" or module.startswith("torch_fidelity."):
        return (name is None and module != "torch_fidelity") or (
            name is not None and name not in torch_fidelity_exports()
        )
    return False


def python_sources(checkout: Path, folders: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(path relative to the checkout, source) of each Python file and notebook code cell."""
    for folder in folders:
        for path in sorted((checkout / folder).rglob("*.py")):
            yield path.relative_to(checkout).as_posix(), path.read_text()
        for path in sorted((checkout / folder).rglob("*.ipynb")):
            cells = json.loads(path.read_text())["cells"]
            code = [c for c in cells if c["cell_type"] == "code"]
            for index, cell in enumerate(code):
                source = "".join(cell["source"])
                # IPython magics are not Python.
                source = "\n".join(
                    "" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines()
                )
                yield f"{path.relative_to(checkout).as_posix()}#cell{index}", source


def defined_names(tree: ast.AST) -> set[str]:
    """The private names a file defines: functions, classes, assigned names and attributes,
    parameters and import aliases."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.alias) and node.asname:
            names.add(node.asname)
    return {name for name in names if is_private(name)}


def imported_objects(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted path of what the file imports from the libraries."""
    objects: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                objects[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                objects[alias.asname or alias.name.split(".")[0]] = (
                    alias.asname and alias.name
                ) or alias.name.split(".")[0]
    return {local: path for local, path in objects.items() if library_of(path)}


def dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def resolve(path: str) -> object | None:
    """The object at a dotted path (``pytorch_lightning.callbacks.ModelCheckpoint``)."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attr in parts[split:]:
            obj = getattr(obj, attr, None)
        return obj
    return None


@cache
def library_class_names(cls: type) -> frozenset[str]:
    """The private names a library class and its library bases define or set on ``self``."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if library_of(klass.__module__) is None:
            continue
        names.update(name for name in vars(klass) if is_private(name))
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        names.update(re.findall(r"\bself\.(_[A-Za-z0-9]\w*)", source))
    return frozenset(name for name in names if is_private(name))


def library_bases(node: ast.ClassDef, imports: dict[str, str]) -> list[type]:
    bases = []
    for base in node.bases:
        name = dotted(base)
        if name is None:
            continue
        head, _, rest = name.partition(".")
        if head not in imports:
            continue
        obj = resolve(imports[head] + ("." + rest if rest else ""))
        if isinstance(obj, type):
            bases.append(obj)
    return bases


def attribute_lookup(call: ast.Call) -> str | None:
    """The name ``getattr(x, "name")``, ``hasattr`` or ``setattr`` looks up."""
    if not isinstance(call.func, ast.Name) or call.func.id not in ("getattr", "hasattr", "setattr"):
        return None
    if len(call.args) < 2:
        return None
    key = call.args[1]
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None


def private_uses(path: str, source: str, genlab_names: set[str]) -> list[PrivateUse]:
    tree = ast.parse(source)
    imports = imported_objects(tree)
    found: set[PrivateUse] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if private_import(node.module, alias.name):
                    found.add(PrivateUse(path, node.lineno, f"{node.module}.{alias.name}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if private_import(alias.name, None):
                    found.add(PrivateUse(path, node.lineno, alias.name))
        elif isinstance(node, ast.Attribute) and is_private(node.attr):
            if node.attr not in genlab_names:
                found.add(PrivateUse(path, node.lineno, node.attr))
        elif (
            isinstance(node, ast.Call)
            and (key := attribute_lookup(node)) is not None
            and is_private(key)
            and key not in genlab_names
        ):
            found.add(PrivateUse(path, node.lineno, key))
        if isinstance(node, ast.ClassDef):
            found.update(class_overrides(path, node, imports))
    return sorted(found)


def class_overrides(path: str, node: ast.ClassDef, imports: dict[str, str]) -> Iterator[PrivateUse]:
    """A library class's private names that a genlab subclass defines, sets or reads."""
    library_names: set[str] = set()
    for base in library_bases(node, imports):
        library_names |= library_class_names(base)
    if not library_names:
        return
    for inner in ast.walk(node):
        if isinstance(inner, ast.FunctionDef) and inner.name in library_names:
            yield PrivateUse(path, inner.lineno, inner.name)
        elif (
            isinstance(inner, ast.Attribute)
            and inner.attr in library_names
            and (dotted(inner.value) in ("self", "cls") or isinstance(inner.value, ast.Call))
        ):
            yield PrivateUse(path, inner.lineno, inner.attr)


def scan(checkout: Path, folders: tuple[str, ...]) -> list[PrivateUse]:
    """Every private library use in the folders' Python files and notebooks."""
    sources = list(python_sources(checkout, folders))
    genlab_names: set[str] = set()
    for _path, source in python_sources(checkout, ("src",)):
        genlab_names |= defined_names(ast.parse(source))
    uses: list[PrivateUse] = []
    for path, source in sources:
        uses.extend(private_uses(path, source, genlab_names | defined_names(ast.parse(source))))
    return sorted(uses)


if __name__ == "__main__":
    import sys

    root = Path(__file__).resolve().parents[1]
    uses = scan(root, tuple(sys.argv[1:]) or ("src", "scripts", "tests", "benchmarks", "notebooks"))
    for use in uses:
        print(use)
    print(len(uses), "uses of", len({u.name for u in uses}), "names")
