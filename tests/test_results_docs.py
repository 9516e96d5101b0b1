"""The docs' measured tables against their results records (docs/results/), and a script
writing a real record."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genlab.errors import ConfigError
from genlab.results import (
    BLOCK,
    MEASURED_PAGES,
    NOT_MEASURED,
    RESULTS_DIR_VARIABLE,
    figure_cell,
    load_record,
    pages,
    render_record,
    render_text,
    under_load,
    unrecorded_tables,
)
from tests.helpers import REPO, assert_machine_block, cli_env, run_cli

RESULTS = REPO / "docs" / "results"
RECORDS = sorted(RESULTS.glob("*.json"))


def page_id(page: Path) -> str:
    return str(page.relative_to(REPO))


@pytest.mark.parametrize("page", pages(REPO), ids=page_id)
def test_every_results_block_is_what_its_record_gives(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert render_text(text, RESULTS) == text, f"{page_id(page)}: run `make docs`"


@pytest.mark.parametrize("page", MEASURED_PAGES)
def test_every_table_of_a_measured_page_has_a_record(page: str) -> None:
    lines = unrecorded_tables((REPO / page).read_text(encoding="utf-8"))
    assert lines == [], (
        f"{page}: the tables at lines {lines} are neither a rendered results block nor "
        f"marked {NOT_MEASURED} (docs/development.md)"
    )


def test_every_record_is_rendered_and_complete() -> None:
    texts = [page.read_text(encoding="utf-8") for page in pages(REPO)]
    named = {block.group(2) for text in texts for block in BLOCK.finditer(text)}
    assert RECORDS and named == {record.stem for record in RECORDS}, (
        "a record no page shows, or the reverse"
    )
    for path in RECORDS:
        record = json.loads(path.read_text(encoding="utf-8"))
        assert record["name"] == path.stem
        assert "python scripts/" in record["command"], record["command"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", record["date"])
        assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", record["commit"])
        if record["machine"] is None:
            assert "not recorded" in record["machine_note"]
        else:
            assert record["commit"] == record["machine"]["genlab_commit"]
        columns, rows = record["table"]["columns"], record["table"]["rows"]
        assert rows and all(len(row) == len(columns) for row in rows), path.name


def test_an_edited_number_in_a_record_fails_the_comparison(tmp_path: Path) -> None:
    edited = tmp_path / "results"
    shutil.copytree(RESULTS, edited)
    record = json.loads((edited / "benchmark.json").read_text())
    row = next(r for r in record["table"]["rows"] if r[0] == "`lightning_vs_plain_ratio`")
    row[1] = "0.99" if row[1] != "0.99" else "0.98"
    (edited / "benchmark.json").write_text(json.dumps(record))
    page = (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert render_text(page, edited) != page
    assert f"| `lightning_vs_plain_ratio` | {row[1]} |" in render_text(page, edited)
    # The same through the command: --check names the page and changes nothing.
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "render_docs.py"), "--check"],
        env={**cli_env(), RESULTS_DIR_VARIABLE: str(edited)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "docs/benchmarks.md" in result.stdout, result
    assert (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8") == page


def test_a_block_naming_a_missing_record_is_an_error(tmp_path: Path) -> None:
    text = "# Page\n\n<!-- results: no_such_record -->\n<!-- /results -->\n"
    with pytest.raises(ConfigError, match="no results record 'no_such_record'"):
        render_text(text, tmp_path)


def test_a_table_without_a_record_is_found() -> None:
    table = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    text = (
        f"# P\n\n{table}\n{NOT_MEASURED}\n{table}\n<!-- results: x -->\n{table}<!-- /results -->\n"
    )
    assert unrecorded_tables(text) == [3]


def test_time_command_writes_a_record_the_docs_can_render(tmp_path: Path) -> None:
    pytest_line = "print('==== 2 passed, 1 skipped, 3 deselected in 0.50s ====')"
    result = run_cli(
        "time_command", "--record", "timed", "--", sys.executable, "-c", pytest_line,
        env={RESULTS_DIR_VARIABLE: str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    record = load_record("timed", tmp_path)
    assert record["command"].startswith("python scripts/time_command.py --record timed -- ")
    assert_machine_block(record["machine"], precision=None, threads=torch.get_num_threads())
    assert record["commit"] == record["machine"]["genlab_commit"]
    assert isinstance(record["under_load"], bool)
    figures = record["figures"]
    assert figures["exit_status"] == 0 and figures["wall_s"] > 0
    assert figures["peak_memory_mib"] > 1  # the child Python's resident set
    assert (figures["passed"], figures["skipped"], figures["deselected"]) == (2, 1, 3)
    assert record["table"]["rows"][0][-1] == "2 passed, 1 skipped"
    rendered = render_record(record)
    assert record["machine"]["cpu_model"] in rendered and "threads, load" in rendered
    assert ("**under load**" in rendered) is record["under_load"]
    # The command's own exit status is time_command's; a bad record name is one line.
    failed = run_cli(
        "time_command", "--", sys.executable, "-c", "import sys; sys.exit(3)",
        env={RESULTS_DIR_VARIABLE: str(tmp_path)},
    )  # fmt: skip
    assert failed.returncode == 3
    bad = run_cli("time_command", "--record", "../x", "--", "true")
    assert bad.returncode == 2 and "argument --record" in bad.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(1.4, 3.4, False), (1.6, 0.5, True), (0.2, 3.6, True), (None, 1.0, None)],
)
def test_under_load_is_the_documented_rule_on_2_cpus(
    start: float | None, end: float, expected: bool | None
) -> None:
    machine = {"load_1min": {"start": start, "end": end}, "cpus_usable": 2, "cpu_count": 8}
    assert under_load(machine) is expected


def test_figures_read_as_the_docs_show_them() -> None:
    cells = [figure_cell(x) for x in (0.9234, 0.0795, 8.73, 192.4, 65177.3, 10000)]
    assert cells == ["0.923", "0.0795", "8.73", "192", "65,177", "10,000"]
