"""dashboard.charts: a page's figure is made once per data version and arguments and then shared, so
a rerun (a click on a widget) does not make its Plotly Express figures again (0.1-0.5 s each)."""
from __future__ import annotations

from dashboard import charts

MADE: list[tuple] = []


def _builder(*args):
    MADE.append(args)
    return {"figure": args}


def test_a_figure_is_made_once_per_data_version_and_arguments(monkeypatch):
    charts._built.clear()
    MADE.clear()
    version = ["v1"]
    monkeypatch.setattr(charts, "data_version", lambda: version[0])
    first = charts.figure(_builder, "North", 1)
    assert charts.figure(_builder, "North", 1) is first  # the very object: no copy to validate again
    assert MADE == [("North", 1)]
    charts.figure(_builder, "South", 1)  # other arguments: another figure
    assert MADE == [("North", 1), ("South", 1)]
    version[0] = "v2"  # a new data version (an import was published): made again from the new data
    assert charts.figure(_builder, "North", 1) is not first
    assert MADE == [("North", 1), ("South", 1), ("North", 1)]
