"""The executive scorecard: SPEC section 3 metrics for a month, and the `scorecard` command.

- `metrics`: the metric table, months of the reporting zone, the queries and the scorecard table.
- `render`: page frames and tiles, CSS, CSV text, Plotly charts and the PDF.
- `cli`: `python -m analysis scorecard` (`add_arguments`, `run`).

The names below are the package's public interface (the dashboard page, the CLI, tests and the
benchmarks use `analysis.scorecard.<name>`).
"""
from __future__ import annotations

from analysis.scorecard.cli import add_arguments, run
from analysis.scorecard.metrics import (
    BREACH_SOURCES,
    BY_NAME,
    DEFAULT_RULES,
    METRIC_NAMES,
    METRICS,
    SECTIONS,
    STORED_AUDIT,
    TARGETS_FILE,
    Metric,
    add_months,
    breach_rule_set,
    check_tz,
    data_months,
    default_month,
    load_targets,
    month_choices,
    month_label,
    month_values,
    monthly_metrics,
    parse_month,
    require_month,
    scorecard,
    status,
    trend_months,
)
from analysis.scorecard.render import (
    HEADLINE,
    STATUS_CSS,
    STATUS_LABEL,
    STATUS_RGB,
    breach_caption,
    csv_from_table,
    csv_text,
    display_frame,
    display_value,
    format_value,
    headline,
    pdf_bytes,
    section_figures,
    status_style,
)

__all__ = [
    "BREACH_SOURCES", "BY_NAME", "DEFAULT_RULES", "HEADLINE", "METRICS", "METRIC_NAMES", "SECTIONS", "STATUS_CSS",
    "STATUS_LABEL", "STATUS_RGB", "STORED_AUDIT", "TARGETS_FILE", "Metric", "add_arguments", "add_months",
    "breach_caption", "breach_rule_set", "check_tz", "csv_from_table",
    "csv_text", "data_months", "default_month", "display_frame", "display_value", "format_value", "headline",
    "load_targets", "month_choices", "month_label", "month_values", "monthly_metrics", "parse_month", "pdf_bytes",
    "require_month", "run", "scorecard", "section_figures", "status", "status_style", "trend_months",
]
