"""The /stats chart: visits per week for the last 12 weeks, new vs returning customers."""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display: render to PNG bytes only

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

NEW_COLOUR = "#c4622d"
RETURNING_COLOUR = "#3c2a21"


@dataclass(frozen=True)
class WeeklyChart:
    title: str
    week_labels: tuple[str, ...]
    new: tuple[int, ...]
    returning: tuple[int, ...]
    new_label: str
    returning_label: str
    y_label: str


def render_weekly_visits(chart: WeeklyChart) -> bytes:
    """PNG bytes of a stacked bar chart. CPU-bound: call it through ``asyncio.to_thread``."""
    figure = Figure(figsize=(8, 4.5), dpi=100)  # a Figure, not pyplot: no global state, thread-safe
    axes = figure.subplots()
    positions = range(len(chart.week_labels))
    axes.bar(positions, chart.returning, color=RETURNING_COLOUR, label=chart.returning_label)
    axes.bar(positions, chart.new, bottom=chart.returning, color=NEW_COLOUR, label=chart.new_label)
    axes.set_xticks(list(positions), chart.week_labels, rotation=45, ha="right", fontsize=8)
    axes.set_ylabel(chart.y_label)
    axes.set_title(chart.title)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
