"""genlab's packages keep the layering docs/development.md writes down ("Package layering"): a
module imports only its own level and the levels below, and no two packages import each other,
directly or round a loop. The imports are read from the source (``ast``), lazy imports inside
functions and ``TYPE_CHECKING`` imports included: each is a dependency all the same."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import REPO

SOURCE = REPO / "src"
PACKAGE = SOURCE / "genlab"
DEVELOPMENT = REPO / "docs" / "development.md"
ROOT = "genlab"  # the package itself: genlab/__init__.py


@dataclass(frozen=True)
class Import:
    """One import of another genlab unit (a top-level module or a subpackage)."""

    file: Path
    line: int
    statement: str
    source: str
    target: str

    def __str__(self) -> str:
        return f"{self.file.relative_to(REPO)}:{self.line}: `{self.statement}`"


def documented_levels(text: str) -> dict[str, int]:
    """Each unit's level, from the table under "## Package layering": ``| level | `unit`, ... |``."""
    section = text.split("\n## Package layering\n", 1)[1].split("\n## ", 1)[0]
    levels: dict[str, int] = {}
    for row in re.finditer(r"^\| *(\d+) *\|([^|]*)\|", section, re.M):
        for unit in re.findall(r"`([\w.]+)`", row.group(2)):
            assert unit not in levels, f"{unit} is on two levels of the layering table"
            levels[unit] = int(row.group(1))
    return levels


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    """``genlab.tracking.summary`` -> ``tracking``; ``genlab.errors`` -> ``errors``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def imported_modules(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The genlab modules an import statement names (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
        named = ".".join([*base, *([node.module] if node.module else [])])
    else:
        named = node.module or ""
    if named == ROOT:  # `from genlab import checkpoints`: the names may be subpackages
        return [f"{ROOT}.{alias.name}" for alias in node.names]
    return [named]


def genlab_imports() -> Iterator[Import]:
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for named in imported_modules(node, module, path.name == "__init__.py"):
                if named != ROOT and not named.startswith(f"{ROOT}."):
                    continue
                source, target = unit_of(module), unit_of(named)
                if source != target:
                    yield Import(path, node.lineno, ast.unparse(node), source, target)


def units() -> set[str]:
    """Every top-level module and subpackage of genlab, and the package itself."""
    found = {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    found |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    return found | {ROOT}


def import_cycle(imports: list[Import]) -> list[Import] | None:
    """One loop of imports between units (each import one edge), or None when there is none."""
    edges: dict[str, dict[str, Import]] = {}
    for imp in imports:
        edges.setdefault(imp.source, {}).setdefault(imp.target, imp)
    done: set[str] = set()

    def visit(unit: str, path: list[Import]) -> list[Import] | None:
        on_path = [imp.source for imp in path]
        if unit in on_path:
            return path[on_path.index(unit) :]
        if unit in done:
            return None
        for target, imp in sorted(edges.get(unit, {}).items()):
            cycle = visit(target, [*path, imp])
            if cycle is not None:
                return cycle
        done.add(unit)
        return None

    for unit in sorted(edges):
        cycle = visit(unit, [])
        if cycle is not None:
            return cycle
    return None


LEVELS = documented_levels(DEVELOPMENT.read_text())


def test_every_package_and_module_has_a_level() -> None:
    missing = sorted(units() - LEVELS.keys())
    assert missing == [], (
        f"docs/development.md's package layering gives no level to {missing}: "
        "add each to the row of the lowest level whose units it needs"
    )
    stale = sorted(LEVELS.keys() - units())
    assert stale == [], f"the package layering names {stale}, which genlab does not have"


def test_no_module_imports_a_package_above_its_level() -> None:
    upward = [
        f"{imp} imports {imp.target} (level {LEVELS[imp.target]}) into {imp.source} "
        f"(level {LEVELS[imp.source]})"
        for imp in genlab_imports()
        if imp.source in LEVELS and LEVELS.get(imp.target, -1) > LEVELS[imp.source]
    ]
    assert upward == [], "imports above their level (docs/development.md):\n" + "\n".join(upward)


def test_packages_import_each_other_in_no_cycle() -> None:
    cycle = import_cycle(list(genlab_imports()))
    assert cycle is None, (
        " -> ".join([cycle[0].source, *(imp.target for imp in cycle)])
        + " import each other in a loop:\n"
        + "\n".join(map(str, cycle))
    )


def test_the_checks_find_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    """The checks themselves: a low module importing a higher one, and a two-package loop."""
    low = Import(tmp_path, 1, "from genlab.tracking import x", "process", "tracking")
    back = Import(tmp_path, 2, "from genlab.process import y", "tracking", "process")
    assert LEVELS["tracking"] > LEVELS["process"]
    assert import_cycle([low, back]) == [low, back]
    assert import_cycle([low]) is None
    levels = documented_levels("x\n## Package layering\n| 0 | `a`, `b` | low |\n| 1 | `c` |\n")
    assert levels == {"a": 0, "b": 0, "c": 1}
