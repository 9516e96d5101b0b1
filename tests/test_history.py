"""metrics_history.jsonl: a line cut off by a kill or damaged on disk is skipped by the readers
and removed by the writer, naming the file; an evaluation of a step again replaces its row."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from genlab.tracking.history import HISTORY_FILE, HistoryFollower, append_history, read_history


def rows(*steps: int) -> list[dict]:
    return [{"step": step, "fid": 100.0 - step} for step in steps]


def lines(records: list[dict]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_readers_skip_a_cut_off_and_a_damaged_line_naming_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / HISTORY_FILE
    good = rows(10, 20, 30)
    path.write_text(lines(good[:1]) + "\x00\x00garbled\n" + lines(good[1:]) + '{"step": 40, "fi')
    with caplog.at_level(logging.WARNING):
        assert read_history(tmp_path) == good
    (warning,) = warnings_of(caplog)
    assert warning.startswith(f"{path}: skipping line 2 (")
    assert "garbled" in warning and 'the cut-off last line (\'{"step": 40, "fi\')' in warning
    assert "the other 3 evaluations are kept" in warning


def test_the_writer_removes_a_cut_off_line_before_appending(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / HISTORY_FILE
    path.write_text(lines(rows(10, 20)) + '{"step": 30, "fid": 7')  # killed mid-write
    with caplog.at_level(logging.WARNING):
        append_history(path, rows(30)[0])
    (warning,) = warnings_of(caplog)
    assert warning.startswith(f'{path}: removing the cut-off last line (\'{{"step": 30')
    assert path.read_text() == lines(rows(10, 20, 30))
    caplog.clear()
    append_history(path, rows(40)[0])  # a clean file: appended, nothing to say
    assert path.read_text() == lines(rows(10, 20, 30, 40)) and not warnings_of(caplog)


def test_the_writer_removes_a_damaged_line_and_keeps_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / HISTORY_FILE
    path.write_text(lines(rows(10)) + '["not", "an evaluation"]\n' + lines(rows(20)))
    with caplog.at_level(logging.WARNING):
        append_history(path, rows(30)[0])
    (warning,) = warnings_of(caplog)
    assert warning.startswith(f"{path}: removing line 2 (")
    assert path.read_text() == lines(rows(10, 20, 30))


def test_a_whole_last_record_without_its_newline_is_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / HISTORY_FILE
    path.write_text(lines(rows(10, 20)).removesuffix("\n"))  # cut off after its last brace
    with caplog.at_level(logging.WARNING):
        assert read_history(tmp_path) == rows(10, 20)
        append_history(path, rows(30)[0])
    assert path.read_text() == lines(rows(10, 20, 30)) and not warnings_of(caplog)


def test_an_evaluation_of_a_step_again_replaces_its_row_and_the_later_ones(tmp_path: Path) -> None:
    """A resume re-evaluates the step of its checkpoint (after a garbled or failed summary) or
    trains again from an older checkpoint: each step has one row, the newest."""
    path = tmp_path / HISTORY_FILE
    for record in rows(10, 20, 30):
        append_history(path, record)
    again = {"step": 20, "fid": 1.5}
    append_history(path, again)
    assert path.read_text() == lines([*rows(10), again])
    assert read_history(tmp_path) == [*rows(10), again]


def test_a_file_with_repeated_steps_reads_as_the_latest_evaluation_of_each(tmp_path: Path) -> None:
    """As an earlier genlab left it after a resume: steps 10, 20, then 20 and 30 again."""
    again = [{"step": 20, "fid": 1.0}, {"step": 30, "fid": 0.5}]
    (tmp_path / HISTORY_FILE).write_text(lines(rows(10, 20) + again))
    assert read_history(tmp_path) == [*rows(10), *again]


def test_the_follower_waits_for_a_line_being_written_and_skips_a_damaged_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / HISTORY_FILE
    follower = HistoryFollower(path)
    assert follower.new() == []  # no file yet
    path.write_text(lines(rows(10)) + '{"step": 20, "fi')
    with caplog.at_level(logging.WARNING):
        assert follower.new() == rows(10)
        assert follower.new() == []
    assert not warnings_of(caplog)  # a line being written is not damage
    with path.open("a") as history:
        history.write('d": 80.0}\n' + "not json\n" + lines(rows(30)))
    with caplog.at_level(logging.WARNING):
        assert follower.new() == rows(20, 30)
    (warning,) = warnings_of(caplog)
    assert warning == f"{path}: skipping line 3 ('not json'), which cannot be read"
    assert follower.last_step == 30


def test_the_follower_reads_a_rewritten_file_past_the_last_step(tmp_path: Path) -> None:
    path = tmp_path / HISTORY_FILE
    path.write_text(lines(rows(10, 20)) + "{")
    follower = HistoryFollower(path)
    assert follower.new() == rows(10, 20)
    append_history(path, rows(30)[0])  # removes the cut-off line: a new file
    assert follower.new() == rows(30)
