"""数据月报 rendering: HTML (inline SVG charts) and PDF, from application.reports.MonthlyReport."""

from __future__ import annotations

from pathlib import Path

from application.reports import MonthlyReport
from interfaces.report.html import render_html
from interfaces.report.pdf import render_pdf


def write_report(report: MonthlyReport, out_dir: Path) -> tuple[Path, Path]:
    """Write `<stem>.html` and `<stem>.pdf` into out_dir; their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"{report.file_stem}.html"
    pdf_path = out_dir / f"{report.file_stem}.pdf"
    html_path.write_text(render_html(report), encoding="utf-8")
    render_pdf(report, pdf_path)
    return html_path, pdf_path


__all__ = ["render_html", "render_pdf", "write_report"]
