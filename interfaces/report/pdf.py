"""The monthly report as a PDF (A4 landscape pages drawn by matplotlib: no system dependency)."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from application.reports import MonthlyReport
from interfaces.report import charts
from interfaces.report.tables import COLUMNS, Table, key_figures, sections, supervision_tables

A4_LANDSCAPE = (11.69, 8.27)
ROWS_PER_PAGE = 24
ROW_HEIGHT, TITLE_HEIGHT, NOTE_HEIGHT, GAP, BOTTOM = 0.03, 0.035, 0.03, 0.03, 0.04


def _page(title: str) -> Figure:
    fig = Figure(figsize=A4_LANDSCAPE)
    fig.text(0.04, 0.95, title, fontsize=15, va="top")
    return fig


def _table(fig: Figure, first: str, rows: list[list[str]], top: float, height: float) -> None:
    ax = fig.add_axes((0.04, top - height, 0.92, height))
    ax.axis("off")
    table = ax.table(
        cellText=[[_fit(r[0]), *r[1:]] for r in rows],
        colLabels=[first, *(c.replace("（", "\n（") for c in COLUMNS)],
        colWidths=[0.3] + [0.7 / len(COLUMNS)] * len(COLUMNS),
        cellLoc="right",
        loc="upper center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.5)
    for (row, col), cell in table.get_celld().items():
        cell.set_edgecolor("#bbbbcc")
        if row == 0:
            cell.set_facecolor("#eef2f8")
            cell.get_text().set_horizontalalignment("center")
            cell.set_height(cell.get_height() * 2)
        elif col == 0:
            cell.get_text().set_horizontalalignment("left")


def _widths(t: Table, rows: list[list[str]]) -> list[float]:
    """Column widths in proportion to their longest text (CJK characters count double)."""

    def size(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)

    longest = [max([size(h), *(size(r[i]) for r in rows)]) for i, h in enumerate(t.headers)]
    total = sum(max(n, 4) for n in longest)
    return [max(n, 4) / total for n in longest]


def _free_table(fig: Figure, t: Table, title: str, rows: list[list[str]], top: float) -> float:
    """Draw a titled table from `top` down; the height it took (figure fraction)."""
    fig.text(0.04, top, title, fontsize=11.5, va="top", color="#1f3f6b")  # the font has no bold
    rows = [[_fit(c, 60) if i < t.text_columns else c for i, c in enumerate(r)] for r in rows]
    height = ROW_HEIGHT * (len(rows) + 1)
    ax = fig.add_axes((0.04, top - TITLE_HEIGHT - height, 0.92, height))
    ax.axis("off")
    table = ax.table(
        cellText=rows, colLabels=list(t.headers), colWidths=_widths(t, rows), cellLoc="right", loc="upper center"
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    table.scale(1, 1.4)
    for (row, col), cell in table.get_celld().items():
        cell.set_edgecolor("#bbbbcc")
        if row == 0:
            cell.set_facecolor("#eef2f8")
            cell.get_text().set_horizontalalignment("center")
        elif col < t.text_columns:
            cell.get_text().set_horizontalalignment("left")
    used = TITLE_HEIGHT + height
    if t.note:
        fig.text(0.04, top - used - 0.01, t.note, fontsize=8.5, color="#555555", va="top")
        used += NOTE_HEIGHT
    return used + GAP


def _needed(t: Table, rows: int) -> float:
    return TITLE_HEIGHT + ROW_HEIGHT * (rows + 1) + (NOTE_HEIGHT if t.note else 0)


def _supervision_pages(pdf: PdfPages, heading: str, tables: list[Table]) -> None:
    """The supervisor's tables, several to a page while they fit, a long one over several pages."""
    page, top = None, 0.0
    for t in tables:
        for start in range(0, max(len(t.rows), 1), ROWS_PER_PAGE):
            chunk = t.rows[start : start + ROWS_PER_PAGE]
            if page is None or top - _needed(t, len(chunk)) < BOTTOM:
                if page is not None:
                    pdf.savefig(page)
                page, top = _page(f"{heading} — 监管与服务评价"), 0.89
            suffix = f"（续 {start // ROWS_PER_PAGE + 1}）" if start else ""
            top -= _free_table(page, t, t.title + suffix, chunk, top)
    if page is not None:
        pdf.savefig(page)


def _fit(label: str, width: int = 26) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def _chart_page(pdf: PdfPages, title: str, chart: Figure) -> None:
    chart.suptitle(title, x=0.04, ha="left", fontsize=13)
    chart.set_size_inches(*A4_LANDSCAPE)
    chart.tight_layout(rect=(0.02, 0.02, 0.98, 0.94))
    pdf.savefig(chart)


def render_pdf(report: MonthlyReport, path: Path) -> None:
    heading = f"{report.region_name}工程建设项目审批数据月报（{report.month}）"
    with charts.cjk(), PdfPages(path) as pdf:
        summary, *breakdowns = sections(report)
        first = _page(heading)
        first.text(
            0.04,
            0.89,
            f"统计期间：{report.period_start} 至 {report.period_end}（按收件业务日期）　"
            f"地区：{report.region_name}（{report.region_code}）　在办与超期截至：{report.as_of}",
            fontsize=10,
            color="#555555",
        )
        _table(first, summary[1], summary[2], 0.84, 0.12)
        first.text(
            0.04,
            0.62,
            "口径：办结（通过）含容缺通过；超期指办结晚于承诺时限或在办已超时限（工作日，见 docs/supervision.md）；\n"
            "按时办结率 = 时限内办结 / 办结；用时为受理次日起的工作日，补正与特别程序期间不计；P90 为第 90 百分位（最近秩）。",
            fontsize=9,
            color="#555555",
            va="top",
        )
        if key_figures(report):
            first.text(0.04, 0.52, "监管与服务评价", fontsize=13, va="top")
            first.text(0.04, 0.47, "\n".join(key_figures(report)), fontsize=10.5, va="top", linespacing=1.8)
        pdf.savefig(first)
        for title, column, rows in breakdowns:
            for start in range(0, max(len(rows), 1), ROWS_PER_PAGE):
                chunk = rows[start : start + ROWS_PER_PAGE]
                suffix = f"（续 {start // ROWS_PER_PAGE + 1}）" if start else ""
                page = _page(f"{heading} — {title}{suffix}")
                _table(page, column, chunk or [["（无）", *[""] * len(COLUMNS)]], 0.88, 0.035 * (len(chunk) + 2))
                pdf.savefig(page)
        _supervision_pages(pdf, heading, supervision_tables(report))
        for chart in charts.charts_for(report):
            _chart_page(pdf, heading, chart(report))
        info = pdf.infodict()
        info["Title"] = heading
        info["Subject"] = "数据月报"
