"""The monthly report as one self-contained HTML page: tables and inline SVG charts."""

from __future__ import annotations

from html import escape

from application.reports import MonthlyReport
from interfaces.report import charts
from interfaces.report.tables import COLUMNS, Table, key_figures, sections, supervision_tables

STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } .meta { color: #666; margin-bottom: 1.5em; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccd; padding: 4px 6px; } th { background: #eef2f8; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } figure { margin: 1em 0; }
figure svg { width: 100%; height: auto; }
"""


def _table(title: str, first: str, rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in (first, *COLUMNS))
    body = "".join(
        "<tr>" + f"<td>{escape(r[0])}</td>" + "".join(f'<td class="n">{escape(c)}</td>' for c in r[1:]) + "</tr>"
        for r in rows
    )
    return f'<h2>{escape(title)}</h2>\n<table class="report">\n<tr>{head}</tr>\n{body}\n</table>'


def _free_table(t: Table) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in t.headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(c)}</td>" if i < t.text_columns else f'<td class="n">{escape(c)}</td>'
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in t.rows
    )
    note = f'\n<p class="meta">{escape(t.note)}</p>' if t.note else ""
    return f'<h2>{escape(t.title)}</h2>\n<table class="supervision">\n<tr>{head}</tr>\n{body}\n</table>{note}'


def render_html(report: MonthlyReport) -> str:
    with charts.cjk():  # fonts are fixed when the texts are created
        figures = "\n".join(
            f'<figure class="chart" id="{chart.__name__}">{charts.svg(chart(report))}</figure>'
            for chart in charts.charts_for(report)
        )
    tables = "\n".join(_table(*section) for section in sections(report))
    supervision = "\n".join(_free_table(t) for t in supervision_tables(report))
    if key_figures(report):
        items = "".join(f"<li>{escape(line)}</li>" for line in key_figures(report))
        supervision = f"<h2>监管与服务评价</h2>\n<ul>{items}</ul>\n{supervision}"
    title = f"{report.region_name}工程建设项目审批数据月报（{report.month}）"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="meta">统计期间：{report.period_start} 至 {report.period_end}（按收件业务日期）　地区：{escape(report.region_name)}（{report.region_code}）
　在办与超期截至：{report.as_of}</p>
{tables}
{supervision}
<h2>图表</h2>
{figures}
<p class="meta">口径：办结（通过）含容缺通过；超期指办结晚于承诺时限或在办已超时限；按时办结率 = 时限内办结 / 办结；
用时为受理次日起的工作日，补正与特别程序期间不计（超期的定义见 docs/supervision.md “Overdue (超期)”）。</p>
</body></html>
"""
