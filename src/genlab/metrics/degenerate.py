"""Degenerate results: a run whose generated samples are constant or near constant, or whose
scores sit at their metric's floor. Its numbers measure nothing about the model, so reports
name it instead of ranking it.

The thresholds and why (docs/metrics.md, "Degenerate results", has the numbers):

- ``SAMPLE_STD_FLOOR``: the mean over pixels of the standard deviation across the evaluated
  samples, as a fraction of the pixel range. Fashion-MNIST's test images: 0.274; its least
  varied class alone (sneakers): 0.126; GANs after 20 to 30 steps (grey images): 0.008 to 0.029;
  ``budget=smoke`` runs of reproduce.py (12 steps): 0 to 0.0005; a blank image: 0. 0.05 sits
  between the grey images and a model that draws one class.
- ``IS_FLOOR_MARGIN``: IS is 1 when every image gets the same class distribution. 20-step runs
  score 1.0000 to 1.0015, a blank set 1.000, uniform noise 1.097, real images of one class
  1.304: an IS within 0.01 of 1 is the floor.
- precision and recall both exactly 0: not one generated image inside any real image's
  neighbourhood and not one real image inside a generated one's (blank: 0 and 0; the real
  test split: 0.87 and 0.87).
- ``SAME_FID_DIGITS``: two different models or variants with the same FID to 9 significant
  digits drew the same images: a constant output both (20-step runs of different models differ
  from the second digit on).
- ``SEEDS_CAP``: a seed count above 100 per variant is not a budget anyone runs; reports say
  "not reachable at this budget" instead of the number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

SAMPLE_STD_FLOOR = 0.05
IS_FLOOR_MARGIN = 0.01
SAME_FID_DIGITS = 9
SEEDS_CAP = 100

SAMPLE_STD_KEY = "sample_pixel_std"  # summary.json: the measured spread of the samples
DEGENERATE_KEY = "degenerate"  # summary.json: {"flag": bool, "reasons": [...]}
MARK = "⚠"  # beside a flagged run's or variant's numbers in every report
# The start of every report's footnote on its degenerate runs; each report says what it withholds.
FOOTNOTE = (
    f"{MARK} Degenerate runs (constant or near-constant samples, or scores at their floor; "
    "docs/metrics.md): their numbers say nothing about the models"
)
NOT_REACHABLE = "not reachable at this budget"


def sample_pixel_std(images: Iterable[Any]) -> float:
    """The mean over pixels of the standard deviation across ``images`` (uint8 tensors of one
    shape), as a fraction of the pixel range [0, 255]; 0 for fewer than 2 images."""
    import torch

    total = squares = None
    count = 0
    for image in images:
        x = image.to(torch.float64)
        total = x if total is None else total + x
        squares = x * x if squares is None else squares + x * x
        count += 1
    if count < 2 or total is None or squares is None:
        return 0.0
    mean = total / count
    variance = (squares / count - mean * mean).clamp(min=0) * count / (count - 1)
    return float(variance.sqrt().mean()) / 255


def reasons(scores: Mapping[str, Any]) -> list[str]:
    """Why one run's evaluation is degenerate (from its summary or evaluation results); empty
    when it is not."""
    found = []
    spread = scores.get(SAMPLE_STD_KEY)
    if spread is not None and float(spread) < SAMPLE_STD_FLOOR:
        found.append(
            f"near-constant samples (pixel std across samples {float(spread):.3g} < "
            f"{SAMPLE_STD_FLOOR})"
        )
    inception = scores.get("is_mean")
    if inception is not None and float(inception) - 1 < IS_FLOOR_MARGIN:
        found.append(f"IS at its floor of 1 ({float(inception):.4f})")
    if scores.get("precision") == 0 and scores.get("recall") == 0:
        found.append("precision and recall both 0")
    return found


def record(scores: Mapping[str, Any]) -> dict[str, Any]:
    """summary.json's ``degenerate`` field."""
    found = reasons(scores)
    return {DEGENERATE_KEY: {"flag": bool(found), "reasons": found}}


def same_fid(entries: Iterable[tuple[str, str, float | None]]) -> dict[str, str]:
    """Among ``(name, model, fid)`` entries, those whose FID equals that of an entry of another
    model or variant to ``SAME_FID_DIGITS`` significant digits, each with the reason naming the
    other models. Equal FIDs of one model (the same seed run twice) are no sign."""
    known = [(n, m, float(f)) for n, m, f in entries if f is not None and math.isfinite(f)]
    flagged: dict[str, str] = {}
    for name, model, fid in known:
        twins = sorted(
            {
                other_model
                for _, other_model, value in known
                if other_model != model and math.isclose(fid, value, rel_tol=10.0**-SAME_FID_DIGITS)
            }
        )
        if twins:
            flagged[name] = (
                f"the same FID as {', '.join(twins)} to {SAME_FID_DIGITS} digits "
                f"({fid:.{SAME_FID_DIGITS}g}): constant output"
            )
    return flagged


def flagged_runs(runs: Iterable[tuple[str, str, Mapping[str, Any]]]) -> dict[str, list[str]]:
    """The degenerate runs among ``(name, model or variant, summary)``: each one's reasons (its
    own scores, then an FID shared with another model's run). Reports call this rather than
    trusting a summary's recorded flag, so run dirs older than the flag are judged too."""
    runs = list(runs)
    flagged = {name: reasons(summary) for name, _, summary in runs}
    for name, reason in same_fid((n, m, s.get("fid")) for n, m, s in runs).items():
        flagged[name].append(reason)
    return {name: found for name, found in flagged.items() if found}


def below_noise(difference: float, eval_std: float) -> bool:
    """Whether a difference is within the evaluation noise measured for it (one std of the
    same checkpoint re-scored with other metric seeds); False when the noise is unmeasured."""
    return math.isfinite(eval_std) and math.isfinite(difference) and abs(difference) <= eval_std


def seeds_cell(seeds_needed: float) -> str:
    """A seeds-needed figure as reports show it: the count, or NOT_REACHABLE above the cap."""
    if math.isnan(seeds_needed):
        return ""
    return NOT_REACHABLE if seeds_needed > SEEDS_CAP else f"{seeds_needed:.0f}"
