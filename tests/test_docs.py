"""The README routes and the docs stay true to the repository: links resolve, the layout
names every module and console script, and `train.py --help` lists every option it offers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO, run_cli

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^()\s]+)\)")
HELP = REPO / "conf" / "hydra" / "help" / "train.yaml"
# Groups of conf/ that the train app does not offer for choosing: the sweep and baseline
# definitions belong to sweep.py and reproduce.py; `hydra` and `hydra/help` are the apps' own.
NOT_TRAIN_GROUPS = {"sweep", "baseline", "hydra", "hydra/help"}


def without_code(text: str) -> str:
    """The text outside fenced code blocks and inline code spans."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
    return {slug(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.M)}


def relative_links(path: Path) -> list[str]:
    links = LINK.findall(without_code(path.read_text()))
    return [link for link in links if not re.match(r"[a-z]+:", link)]


def test_readme_is_at_most_200_lines() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail into docs/"


def test_the_docs_pages_exist_and_readme_links_each() -> None:
    linked = {link.split("#")[0] for link in relative_links(README)}
    missing = [f"docs/{page.name}" for page in DOCS if f"docs/{page.name}" not in linked]
    assert DOCS and missing == []


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_points_at_an_existing_file_and_heading(page: Path) -> None:
    broken = []
    for link in relative_links(page):
        target, _, anchor = link.partition("#")
        file = (page.parent / target).resolve() if target else page
        if not file.exists():
            broken.append(f"{link} (no such file)")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{link} (no such heading)")
    assert broken == [], f"{page.name}: {broken}"


def layout_section() -> str:
    text = (REPO / "docs" / "development.md").read_text()
    match = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert match, "docs/development.md has no '## Layout' section"
    return match.group(1)


def test_layout_lists_every_subpackage_and_module() -> None:
    package = REPO / "src" / "genlab"
    subpackages = sorted(p.name for p in package.iterdir() if (p / "__init__.py").is_file())
    modules = sorted(p.name for p in package.glob("*.py") if p.name != "__init__.py")
    assert "cli" in subpackages and "config.py" in modules
    layout = layout_section()
    missing = [f"{name}/" for name in subpackages if not re.search(rf"^ +{name}/ ", layout, re.M)]
    missing += [name for name in modules if not re.search(rf"^ +{re.escape(name)} ", layout, re.M)]
    assert missing == [], f"docs/development.md's layout does not list {missing}"


def test_layout_lists_every_console_script() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    scripts = pyproject["project"]["scripts"]
    assert "genlab-train" in scripts
    layout = layout_section()
    missing = [name for name in scripts if f"`{name}`" not in layout]
    assert missing == [], f"docs/development.md's layout does not list {missing}"


def help_groups() -> dict[str, list[str]]:
    """`group: option, option   description` lines of the train app's help template."""
    template = yaml.safe_load(HELP.read_text())["template"]
    block = template.split("== Config groups", 1)[1].split("\n== ", 1)[0]
    groups: dict[str, list[str]] = {}
    for line in block.splitlines()[1:]:
        if not line.strip():
            continue
        match = re.match(r"(\S+): (.+)$", line)
        assert match, f"not a 'group: options  description' line: {line!r}"
        options = re.split(r"\s{2,}", match.group(2))[0]
        groups[match.group(1)] = [o.strip() for o in options.split(",")]
    return groups


def chosen_groups() -> dict[str, set[str]]:
    """Every group under conf/ a training run chooses from, with its non-private options."""
    conf = REPO / "conf"
    groups: dict[str, set[str]] = {}
    for folder in sorted(p for p in conf.rglob("*") if p.is_dir()):
        group = folder.relative_to(conf).as_posix()
        if group in NOT_TRAIN_GROUPS or group.split("/")[0] in {"sweep", "baseline"}:
            continue
        if any(part.startswith("_") for part in group.split("/")):
            continue
        options = {p.stem for p in folder.glob("*.yaml") if not p.name.startswith("_")}
        if options:
            groups[group] = options
    return groups


def test_help_template_lists_every_option_of_every_chosen_group_and_nothing_else() -> None:
    listed = help_groups()
    expected = chosen_groups()
    assert "model" in expected and "experiment/lucic2018" in expected
    assert sorted(listed) == sorted(expected)
    for group, options in listed.items():
        assert len(options) == len(set(options)), f"{group}: an option listed twice"
        assert set(options) == expected[group], group


def test_train_help_shows_the_chosen_groups_and_no_private_parts() -> None:
    result = run_cli("train", "--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    groups = help_groups()
    for group, options in groups.items():
        assert f"{group}: {', '.join(options)}" in out
    group_lines = [line for line in out.splitlines() if re.match(r"[\w/]+: ", line)]
    assert not [line for line in group_lines if line.split(":")[0] in {"sweep", "baseline"}]
    assert not re.search(r"(^|[ /,:])_\w", "\n".join(group_lines))


def test_train_help_names_a_quick_start_for_every_model_family() -> None:
    """Each `quickstart*` experiment has its command in --help's quick-start section."""
    template = yaml.safe_load(HELP.read_text())["template"]
    section = template.split("== Quick starts", 1)[1].split("\n  == ", 1)[0]
    listed = set(re.findall(r"experiment=(\w+)", section))
    presets = {p.stem for p in (REPO / "conf" / "experiment").glob("quickstart*.yaml")}
    assert listed == presets and {"quickstart", "quickstart_vae", "quickstart_wgan_gp"} <= presets


@pytest.mark.parametrize(
    "app", ["sample", "evaluate", "sweep", "reproduce", "train_extractor", "calibrate_metrics"]
)
def test_other_apps_help_still_works(app: str) -> None:
    result = run_cli(app, "--help")
    assert result.returncode == 0 and "== Config" in result.stdout, result.stderr


def test_compare_help_lists_every_key_of_its_config() -> None:
    """`compare.py --help` is written by hand: one `key=...` line per key of conf/compare.yaml."""
    keys = set(yaml.safe_load((REPO / "conf" / "compare.yaml").read_text())) - {"defaults", "hydra"}
    result = run_cli("compare", "--help")
    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"^(\w+)=", result.stdout, flags=re.M))
    assert listed == keys
