"""The sweep report: genlab's figures of a real study as PNGs beside trials.md, after a sweep
and on demand (report=true); what each figure shows is checked on the figure itself: its labels,
ticks and scales."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import optuna
import yaml
from matplotlib.text import Text
from PIL import Image

from genlab.compare.expected_best import expected_best_curve
from genlab.figures import tick_labels_overlap
from genlab.sweeps.definition import SweepDefinition
from genlab.sweeps.report import (
    FORMER_PNGS,
    REPORT_PNGS,
    StudyView,
    expected_best_of_study,
    history_figure,
    importances_figure,
    intermediate_figure,
    slice_figure,
    write_report,
)
from genlab.sweeps.search_space import suggest
from tests.helpers import assert_user_error, run_cli, sweep_env

DEFINITION = SweepDefinition.from_dict(
    {
        "name": "report",
        "method": "random",
        "metric": {"name": "genlab/fid", "goal": "minimize"},
        "parameters": {
            "debug": {"value": "fast"},
            "model.optimizer_g.lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-2},
            "model.loss._target_": {"values": ["genlab.losses.HingeLoss", "genlab.losses.MinimaxLoss"]},
        },
    },
    "report",
)  # fmt: skip


def one_parameter(name: str = "one") -> SweepDefinition:
    """The definition with the learning rate fixed: the loss is the only searched parameter."""
    fixed = {**DEFINITION.parameters, "model.optimizer_g.lr": {"value": 1e-3}}
    return SweepDefinition.from_dict({**DEFINITION.config, "name": name, "parameters": fixed}, name)


def make_study(
    storage: str | None = None,
    definition: SweepDefinition = DEFINITION,
    trials: int = 8,
    degenerate: tuple[int, ...] = (),
) -> optuna.Study:
    """Eight trials whose FID falls with the learning rate and reports 3 evaluations; one
    (the 6th) pruned after its first; the trials numbered in ``degenerate`` recorded so, as
    the sweep engine records grey samples."""
    study = optuna.create_study(
        study_name="report", storage=storage, sampler=optuna.samplers.RandomSampler(seed=0)
    )
    for number in range(trials):
        trial = study.ask()
        params = suggest(trial, definition)
        fid = 80 + 10 * math.log10(params["model.optimizer_g.lr"]) + (number % 3)
        for step in (1, 2, 3):
            trial.report(fid + 10 / step, step)
            if number == 5:
                break
        if number == 5:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            trial.set_user_attr("status", "ok")  # as the sweep engine records it
            if number in degenerate:
                trial.set_user_attr("degenerate", ["IS at its floor of 1 (1.0001)"])
            study.tell(trial, fid)
    return study


def assert_plots(folder: Path) -> None:
    for name in REPORT_PNGS:
        with Image.open(folder / name) as image:
            pixels = np.asarray(image.convert("L"), dtype=float)
        assert image.width >= 300 and image.height >= 200, (name, image.size)
        assert pixels.std() > 5, f"{name} is blank"
        assert (pixels < 128).mean() > 0.002, f"{name} has almost nothing drawn"


def test_the_report_draws_every_plot_of_a_study(tmp_path: Path) -> None:
    written = write_report(make_study(), DEFINITION, tmp_path)
    assert sorted(p.name for p in written) == sorted(REPORT_PNGS)
    assert_plots(tmp_path)


def test_one_searched_parameter_gets_no_importance_plot_and_former_figures_go(
    tmp_path: Path,
) -> None:
    """With one searched parameter there is nothing to weigh it against; a parallel-coordinate
    plot an earlier report drew is removed with it."""
    one = one_parameter()
    for name in ("importances.png", *FORMER_PNGS):
        (tmp_path / name).write_bytes(b"an older report's figure")
    written = write_report(make_study(definition=one), one, tmp_path)
    assert sorted(p.name for p in written) == [
        "expected_best.png", "history.png", "intermediate.png", "slice.png",
    ]  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


def test_trials_that_all_tie_get_no_importance_plot_and_no_warning(tmp_path: Path) -> None:
    """Every trial at one FID (constant output, as 20-step runs leave): PED-ANOVA would weigh
    every parameter the same, and warn."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(3):
        trial = study.ask()
        suggest(trial, DEFINITION)
        trial.set_user_attr("status", "ok")
        study.tell(trial, 72.8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = write_report(study, DEFINITION, tmp_path)
    assert sorted(p.name for p in written) == ["history.png", "slice.png"]


def test_figures_show_short_names_whole_numbers_and_labels_apart() -> None:
    (ax,) = history_figure(StudyView.of(make_study(trials=2), DEFINITION)).axes
    assert is_whole(visible_ticks(ax.get_xticks(), ax.get_xlim()))  # trial numbers 0 and 1
    view = StudyView.of(make_study(), DEFINITION)
    (ax,) = history_figure(view).axes
    best = min(view.finished, key=lambda t: t.value)
    assert view.best == best.number
    stars = [c for c in ax.collections if c.get_label() == "best trial"]
    assert [tuple(p) for p in stars[0].get_offsets()] == [(best.number, best.value)]

    panels = [ax for ax in slice_figure(view).axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in panels] == ["lr", "loss"]
    assert panels[0].get_xscale() == "log"  # log_uniform_values in the definition
    assert [t.get_text() for t in panels[1].get_xticklabels()] == ["hinge", "minimax"]
    assert not any(tick_labels_overlap(ax.figure, ax) for ax in panels)

    (ax,) = intermediate_figure(view).axes  # evaluations 1 to 3
    assert is_whole(visible_ticks(ax.get_xticks(), ax.get_xlim()))
    (pruned,) = (t for t in view.study.trials if t.state == optuna.trial.TrialState.PRUNED)
    crosses = [line for line in ax.lines if line.get_marker() == "x"]
    assert [(line.get_xdata()[0], line.get_ydata()[0]) for line in crosses] == [
        (1, pruned.intermediate_values[1])
    ]

    (ax,) = importances_figure(view).axes
    assert sorted(t.get_text() for t in ax.get_yticklabels()) == ["loss", "lr"]


def test_a_degenerate_trial_is_drawn_hollow_and_never_the_best() -> None:
    """The trial with the lowest FID made grey samples: it is no star and no best so far."""
    finished = make_study().get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    lowest = min(finished, key=lambda t: t.value)
    view = StudyView.of(make_study(degenerate=(lowest.number,)), DEFINITION)
    assert view.best is not None and view.best != lowest.number
    (ax,) = history_figure(view).axes
    drawn = {c.get_label(): [tuple(p) for p in c.get_offsets()] for c in ax.collections}
    assert drawn["degenerate ⚠ (never best)"] == [(lowest.number, lowest.value)]
    best = view.study.trials[view.best]
    assert drawn["best trial"] == [(best.number, best.value)]
    (best_so_far,) = (line for line in ax.lines if line.get_label() == "best so far")
    assert min(best_so_far.get_ydata()) == best.value > lowest.value


def test_titles_fit_their_figures_and_overlap_no_axes() -> None:
    """A long sweep name over one slice panel: each title wraps to its figure's width."""
    name = "a_sweep_of_the_adversarial_losses_at_one_learning_rate"
    definition = one_parameter(name)
    view = StudyView.of(make_study(definition=definition), definition)
    for fig in (history_figure(view), slice_figure(view), intermediate_figure(view)):
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        texts = fig.findobj(Text)
        (title,) = (t for t in texts if "".join(t.get_text().split()).startswith(f"sweep{name}:"))
        box = title.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width, title.get_text()
        assert not any(box.overlaps(ax.get_window_extent(renderer)) for ax in fig.axes)


def test_many_long_categories_are_shortened_and_turned_until_they_do_not_overlap() -> None:
    """Eight experiments: the start they share moves to the axis label, the rest of each name
    stays whole, turned where the names would overlap; the layout keeps room for them."""
    names = ["non_saturating", "minimax", "least_squares", "hinge", "wasserstein", "wgan_gp",
             "dragan", "began"]  # fmt: skip
    experiments = [f"lucic2018/fashion_mnist_{name}" for name in names]
    definition = SweepDefinition.from_dict(
        {**DEFINITION.config, "parameters": {"experiment": {"values": experiments}}}, "long"
    )
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for number, experiment in enumerate(experiments):
        study.enqueue_trial({"experiment": experiment})
        trial = study.ask()
        suggest(trial, definition)
        study.tell(trial, 50.0 + number)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns when the labels leave the axes no room
        fig = slice_figure(StudyView.of(study, definition))
        (ax,) = fig.axes
        labels = ax.get_xticklabels()
        assert [t.get_text() for t in labels] == names  # whole, in the definition's order
        assert ax.get_xlabel() == "experiment (lucic2018/fashion_mnist_…)"
        assert labels[0].get_rotation() > 0 and not tick_labels_overlap(fig, ax)
        fig.draw_without_rendering()


def visible_ticks(ticks: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
    low, high = sorted(limits)
    return ticks[(ticks >= low) & (ticks <= high)]


def is_whole(ticks: np.ndarray) -> bool:
    return len(ticks) >= 2 and bool(np.all(ticks == np.round(ticks)))


def test_a_study_without_finished_trials_draws_nothing_and_removes_old_plots(
    tmp_path: Path,
) -> None:
    write_report(make_study(), DEFINITION, tmp_path)
    empty = optuna.create_study()
    empty.enqueue_trial({})
    assert write_report(empty, DEFINITION, tmp_path) == []
    assert not any((tmp_path / name).exists() for name in REPORT_PNGS)


def test_report_true_writes_the_report_of_an_existing_sweep_on_demand(tmp_path: Path) -> None:
    definitions = tmp_path / "conf" / "sweep"
    definitions.mkdir(parents=True)
    (definitions / "report.yaml").write_text(yaml.safe_dump(DEFINITION.config))
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    make_study(f"sqlite:///{sweep_dir / 'optuna.db'}")
    args = ["sweep=report", f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "backend=local"]
    result = run_cli(
        "sweep", *args, "report=true", f"sweep_dir={sweep_dir}", env=sweep_env(tmp_path)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_plots(sweep_dir)
    assert (sweep_dir / "trials.md").read_text().count("| ok |") == 7
    missing = run_cli(
        "sweep", *args, "report=true", f"sweep_dir={tmp_path / 'none'}", env=sweep_env(tmp_path)
    )
    assert_user_error(missing, "nothing to report")


def test_the_expected_best_curve_counts_pruned_and_degenerate_trials_as_spent_never_best() -> None:
    study = make_study(degenerate=(2,))
    fig = expected_best_of_study(StudyView.of(study, DEFINITION))
    assert fig is not None
    (curve,) = fig.axes[0].get_lines()
    values = [t.value if t.number not in (2, 5) else None for t in study.get_trials()]
    assert len(values) == 8  # the pruned trial (5) and the degenerate one (2) are trials too
    expected = [e.mean for e in expected_best_curve(values, minimize=True)]
    assert list(curve.get_xdata()) == list(range(1, 9))
    assert np.allclose(curve.get_ydata(), expected)
    assert curve.get_ydata()[-1] == min(v for v in values if v is not None)
    assert "expected best FID" in fig.axes[0].get_ylabel()
