"""genlab's figures: matplotlib without a display, one size and resolution, labels that are
never cut and tick labels that do not overlap, saved as PNG (and PDF)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, also without a display
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

DPI = 200  # a 7.5-inch figure is 1500 pixels wide: sharp when a page scales it to its width
WIDTH = 7.5  # inches
FONT_SIZE = 8  # legends and tick labels


def save(fig: Figure, path: Path, pdf: bool = False) -> None:
    """The figure as PNG (200 dpi, for pages) and with ``pdf`` beside it as PDF (vector, for
    papers); the figure is closed."""
    try:
        fig.savefig(path, dpi=DPI)
        if pdf:
            fig.savefig(path.with_suffix(".pdf"))
    finally:
        plt.close(fig)


def wrap(label: str, width: int) -> str:
    """``label`` in lines of at most ``width`` characters, broken after its commas (between
    the settings of a variant) or spaces; a longer word stays whole: nothing is cut."""
    return "\n".join(textwrap.wrap(label, width, break_long_words=False, break_on_hyphens=False))


def fit_width(fig: Figure, text: Text) -> None:
    """Wraps ``text`` (a title) over more lines until it is narrower than the figure; a word
    wider than the figure (a long sweep name) is broken over lines as a last resort."""
    words = text.get_text()
    renderer = fig.canvas.get_renderer()
    for break_words in (False, True):
        for width in range(len(words), 9, -4):
            lines = textwrap.wrap(
                words, width, break_long_words=break_words, break_on_hyphens=False
            )
            text.set_text("\n".join(lines))
            if text.get_window_extent(renderer).width <= 0.95 * fig.bbox.width:
                return


def integer_ticks(axis: Axis) -> None:
    """Ticks at whole numbers only (trial numbers, evaluations)."""
    axis.set_major_locator(MaxNLocator(integer=True))


def log_x_axis(ax: Axes) -> None:
    """A log scale on x (call it once the data is drawn) with ticks at 1, 2 and 5 of each
    decade over two decades or less, else at each decade, labelled as plain numbers
    (``0.0002``), and no labels at the minor ticks."""
    ax.set_xscale("log")
    low, high = ax.get_xlim()
    subs = (1.0, 2.0, 5.0) if math.log10(high / low) <= 2 else (1.0,)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def keep_tick_labels_apart(fig: Figure, ax: Axes) -> None:
    """Turns the x tick labels of ``ax`` by 30 degrees, then 90, while two of them overlap."""
    for rotation in (30, 90):
        if not tick_labels_overlap(fig, ax):
            return
        for label in ax.get_xticklabels(which="both"):
            label.set(rotation=rotation, horizontalalignment="right", rotation_mode="anchor")


def tick_labels_overlap(fig: Figure, ax: Axes) -> bool:
    """Whether two visible x tick labels of ``ax`` overlap where the figure draws them."""
    labels = ax.get_xticklabels(which="both")
    return texts_overlap(fig, [label for label in labels if label.get_text()])


def texts_overlap(fig: Figure, texts: list[Text]) -> bool:
    renderer = fig.canvas.get_renderer()
    fig.draw_without_rendering()
    boxes = [text.get_window_extent(renderer) for text in texts if text.get_visible()]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
