"""The report's charts (matplotlib, no pyplot state): Chinese labels in Noto Sans CJK SC, which the
`mplfonts` package ships, so no system font is needed."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources

import matplotlib as mpl
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from application.report_supervision import SupervisionSections
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


def _empty(ax: Axes, text: str = "本月无数据") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=GREY, fontsize=12)
    ax.set_xticks([])
    ax.set_yticks([])


def _barh(ax: Axes, labels: list[str], values: list[int], color: str, title: str) -> None:
    ax.set_title(title)
    if not any(values):
        _empty(ax)
        return
    y = list(range(len(labels)))
    bars = ax.barh(y, values, color=color, height=0.6)
    ax.set_yticks(y, labels)
    ax.set_ylim(max(len(labels), 4) - 0.4, -0.6)  # first on top; a few bars stay bars, not blocks
    ax.bar_label(bars, padding=3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max(values) * 1.15 + 0.5)
    ax.grid(axis="x", alpha=0.3)


def warnings_trend(report: MonthlyReport) -> Figure:
    """Lines: warnings raised per month over six months, per rule and in total."""
    w = _supervision(report).warnings
    fig = Figure(figsize=(10, 4.2))
    ax = fig.subplots()
    months = [m[2:] for m in w.months]
    ax.set_title("预警趋势（近六个月，按规则）")
    if not any(w.trend_total):
        _empty(ax, "近六个月无预警")
    else:
        ax.plot(months, w.trend_total, marker="o", color="#222222", linewidth=2.2, label="合计")
        palette = mpl.colormaps["tab10"]
        for n, (rule, counts) in enumerate(w.trend.items()):
            ax.plot(months, counts, marker=".", color=palette(n % 10), label=rule)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        ax.set_ylabel("预警数")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def warnings_this_month(report: MonthlyReport) -> Figure:
    """Bars: the month's warnings by rule and by region."""
    w = _supervision(report).warnings
    fig = Figure(figsize=(10, max(3.6, 0.3 * max(len(w.by_region), len(w.by_rule)) + 1.4)))
    left, right = fig.subplots(1, 2)
    _barh(left, [c.label for c in w.by_rule], [c.count for c in w.by_rule], RED, "本月预警 — 按规则")
    _barh(
        right,
        [c.label for c in w.by_region],
        [c.count for c in w.by_region],
        BLUE,
        f"本月预警 — 按{report.region_level_label}",
    )
    fig.tight_layout()
    return fig


def ratings_and_feedback(report: MonthlyReport) -> Figure:
    """Bars: ratings per level, the bad reviews' rectification, feedback per category."""
    s = _supervision(report)
    fig = Figure(figsize=(10, 3.8))
    levels, rectification, feedback = fig.subplots(1, 3)
    by_level = s.ratings.by_level
    levels.set_title(f"好差评等级（{s.ratings.total} 件）")
    if s.ratings.total:
        colours = [RED if int(c.key) <= 2 else GREEN for c in by_level]
        bars = levels.bar([c.label for c in by_level], [c.count for c in by_level], color=colours)
        levels.bar_label(bars, padding=2)
        levels.tick_params(axis="x", labelrotation=30, labelsize=8)
        levels.yaxis.set_major_locator(MaxNLocator(integer=True))
        levels.set_ylim(0, max(c.count for c in by_level) * 1.18 + 0.5)
    else:
        _empty(levels)
    states = Counter(b.rectification for b in s.ratings.bad_reviews)
    order = ["已按时整改", "逾期整改", "整改中", "逾期未整改"]
    _barh(rectification, order, [states[k] for k in order], RED, f"差评整改（{s.ratings.bad} 件）")
    cats = s.feedback.by_category
    _barh(feedback, [c.label for c in cats], [c.count for c in cats], GREY, f"体验员反馈（{s.feedback.total} 件）")
    fig.tight_layout()
    return fig


def _supervision(report: MonthlyReport) -> SupervisionSections:
    assert report.supervision is not None, "a supervision chart needs the supervision sections"
    return report.supervision


CHARTS = (by_region, on_time_by_stage, by_day)
SUPERVISION_CHARTS = (warnings_trend, warnings_this_month, ratings_and_feedback)


def charts_for(report: MonthlyReport) -> tuple[Callable[[MonthlyReport], Figure], ...]:
    return CHARTS + (SUPERVISION_CHARTS if report.supervision is not None else ())


def svg(fig: Figure) -> str:
    """Inline SVG (glyphs drawn as paths: no font needed in the browser)."""
    buffer = io.StringIO()
    with cjk():
        fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]
