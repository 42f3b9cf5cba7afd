"""The report's charts (matplotlib, no pyplot state): Chinese labels in Noto Sans CJK SC, which the
`mplfonts` package ships, so no system font is needed."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources

import matplotlib as mpl
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from application.reports import MonthlyReport

FONT_FILE = "NotoSansCJKsc-Regular.otf"
BLUE, GREEN, RED, GREY = "#2f6db5", "#3a9a5b", "#c8443a", "#8a8f98"


@cache
def cjk_font() -> str:
    """Register the bundled CJK font once; its family name."""
    path = str(resources.files("mplfonts").joinpath("fonts", FONT_FILE))
    font_manager.fontManager.addfont(path)
    return str(font_manager.FontProperties(fname=path).get_name())


@contextmanager
def cjk() -> Iterator[None]:
    with mpl.rc_context({"font.family": [cjk_font()], "axes.unicode_minus": False, "svg.fonttype": "path"}):
        yield


def by_region(report: MonthlyReport) -> Figure:
    """Horizontal bars: received and approved per region."""
    groups = list(reversed(report.by_region))
    fig = Figure(figsize=(10, max(3.0, 0.32 * len(groups) + 1.2)))
    ax = fig.subplots()
    y = range(len(groups))
    ax.barh([i + 0.2 for i in y], [g.received for g in groups], height=0.4, color=BLUE, label="收件")
    ax.barh([i - 0.2 for i in y], [g.approved for g in groups], height=0.4, color=GREEN, label="办结（通过）")
    ax.set_yticks(list(y), [g.label for g in groups])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"各{report.region_level_label}收件与办结（通过）件数")
    ax.set_xlabel("件数")
    ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def on_time_by_stage(report: MonthlyReport) -> Figure:
    """Bars: on-time rate per stage (stages with no decided case show no bar)."""
    groups = report.by_stage
    fig = Figure(figsize=(10, 3.8))
    ax = fig.subplots()
    labels = [f"{g.key} {g.label}" for g in groups]
    rates = [(g.on_time_rate or 0) * 100 for g in groups]
    bars = ax.bar(labels, rates, color=[GREEN if (g.on_time_rate or 0) >= 0.9 else RED for g in groups])
    for bar, g in zip(bars, groups, strict=True):
        text = "无办结" if g.on_time_rate is None else f"{g.on_time_rate * 100:.1f}%"
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom")
    ax.set_ylim(0, 110)
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_title("各阶段按时办结率")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def by_day(report: MonthlyReport) -> Figure:
    """Line: cases received per day of the month."""
    fig = Figure(figsize=(10, 3.4))
    ax = fig.subplots()
    days = [d.day.day for d in report.by_day]
    ax.plot(days, [d.received for d in report.by_day], marker="o", color=BLUE)
    ax.set_xticks(days[::2])
    ax.set_xlim(days[0] - 0.5, days[-1] + 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.set_title(f"{report.month} 每日收件量")
    ax.set_xlabel("日")
    ax.set_ylabel("件数")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


CHARTS = (by_region, on_time_by_stage, by_day)


def svg(fig: Figure) -> str:
    """Inline SVG (glyphs drawn as paths: no font needed in the browser)."""
    buffer = io.StringIO()
    with cjk():
        fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]
