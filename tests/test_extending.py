"""docs/extending.md's walk-through, run as written: its files are written into a temporary
folder and genlab trains with them through the CLI, so the guide cannot drift from the code."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.helpers import REPO, run_cli

GUIDE = REPO / "docs" / "extending.md"
# A fenced block whose first line names its file: "# my_genlab/flow.py", "# conf/model/x.yaml".
FILE_BLOCK = re.compile(r"```(?:python|yaml)\n(.*?)```", re.S)
FILE_NAME = re.compile(r"# ((?:my_genlab|conf)/[\w/]+\.(?:py|yaml))\n")


def guide_files() -> dict[str, str]:
    """The walk-through's files, by path, as the guide shows them (indentation removed)."""
    walk_through = GUIDE.read_text().split("\n## Walk-through", 1)[1].split("\n## ", 1)[0]
    files = {}
    for block in FILE_BLOCK.findall(walk_through):
        lines = block.splitlines()
        indent = len(lines[0]) - len(lines[0].lstrip())
        text = "\n".join(line[indent:] for line in lines) + "\n"
        named = FILE_NAME.match(text)
        if named:
            files[named.group(1)] = text
    return files


def test_the_guide_names_the_files_of_a_loss_a_generator_and_a_model_family() -> None:
    assert set(guide_files()) == {
        "my_genlab/losses.py", "conf/model/loss/softplus.yaml",
        "my_genlab/nets.py", "conf/model/generator/linear.yaml",
        "my_genlab/flow.py", "conf/model/flow.yaml",
    }  # fmt: skip


@pytest.fixture
def own_package(tmp_path: Path) -> Path:
    for name, text in guide_files().items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "my_genlab" / "__init__.py").write_text("")
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize(
    "choice",
    [["model/loss=softplus", "model/generator=linear"], ["model=flow"]],
    ids=["loss_and_generator", "model_family"],
)
def test_the_guides_loss_generator_and_model_train_through_the_cli(
    own_package: Path, fashion_mnist_root: Path, tmp_path: Path, choice: list[str]
) -> None:
    run_dir = tmp_path / "run"
    result = run_cli(
        "train", *choice, "debug=fast", "logger=csv", f"data.root={fashion_mnist_root}",
        f"hydra.searchpath=[file://{own_package / 'conf'}]", f"hydra.run.dir={run_dir}",
        # Before the caller's path, not instead of it: genlab's sources may be on it.
        env={"PYTHONPATH": os.pathsep.join([str(own_package), os.environ.get("PYTHONPATH", "")])},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["global_step"] == 20
    assert summary["fid"] is not None  # scored like any shipped model
    assert (run_dir / "samples" / "samples_step0000020.png").is_file()
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    if choice == ["model=flow"]:
        config = (run_dir / ".hydra" / "config.yaml").read_text()
        assert "my_genlab.flow.ElementwiseFlow" in config
        assert summary["train/nll"] is not None  # its logged value reached the summary
