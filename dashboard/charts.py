"""The pages' plotly figures, each made once per data version and arguments and shared by every run.

Plotly Express takes 0.1-0.4 s to make one small figure (measured on this machine, issue 20 stop 33:
docs/measurements.md), and a page made its figures again on every run, a click on a widget included:
three figures were most of a warm Compliance overview or Repayments collections view. `figure` keeps
the figure itself (st.cache_resource: the very object, not a copy; a copy would be validated again,
~0.1 s) keyed by the data version (dashboard.data) and the builder's arguments. st.plotly_chart only
reads a figure (it serialises a copy), so sharing one is safe.

A builder takes plain hashable arguments (the sidebar's `Filters`, a choice, a label), reads its data
through `load` (the same cache entries as the page's own calls) and returns a figure; it never reads
session state, so one figure serves every session that asks for the same thing.
"""
from __future__ import annotations

import importlib

import plotly.express as px
import streamlit as st

from analysis import repayments
from analysis.compliance import evidence, workspace
from analysis.sentiment import report
from dashboard.data import data_version, load

LEGEND = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}


@st.cache_resource(ttl=600, max_entries=256, show_spinner=False)
def _built(version: str, module: str, name: str, args: tuple):
    return getattr(importlib.import_module(module), name)(*args)


def figure(builder, *args):
    """`builder(*args)`, made once per data version and arguments (do not mutate the result)."""
    return _built(data_version(), builder.__module__, builder.__name__, args)


# --- Compliance: overview ------------------------------------------------------------------------------

def breaches_by_bar(filters, by: str, label: str):
    counts = load(workspace.breaches_by, filters, by)
    fig = px.bar(counts.head(40), x="value", y="breaches", labels={"value": label, "breaches": "breaches"},
                 hover_data=["contacts", "accounts"])
    fig.update_layout(height=340, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis={"type": "category"})
    return fig


def breach_trend_bar(filters):
    trend = load(workspace.trend, filters)
    trend = trend[trend["rule_id"].notna()]
    fig = px.bar(trend, x="month", y="breaches", color="rule_id", labels={"month": "month (UTC)", "rule_id": "rule"})
    fig.update_layout(height=340, margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h", "y": -0.2})
    return fig


def breach_rate_line(filters):
    rate = load(workspace.trend_totals, filters).dropna(subset=["breaches_per_1000_calls"])
    fig = px.line(rate, x="month", y="breaches_per_1000_calls", markers=True,
                  labels={"month": "month (UTC)", "breaches_per_1000_calls": "breaches per 1,000 placed calls"})
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


# --- Repayments: collections ----------------------------------------------------------------------------

def collected_bar(filters, split: str, label: str):
    monthly = load(repayments.collected_by_month, filters, split)
    fig = px.bar(monthly, x="month_start", y="collected_amount", color="segment",
                 labels={"month_start": "Month", "collected_amount": "Collected", "segment": label})
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend=LEGEND, legend_title_text="")
    return fig


def payers_bar(filters):
    totals = load(repayments.monthly_totals, filters)
    fig = px.bar(totals, x="month_start", y="paying_accounts",
                 labels={"month_start": "Month", "paying_accounts": "Accounts with a payment > 0"})
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def retention_line(filters):
    totals = load(repayments.monthly_totals, filters)
    fig = px.line(totals, x="month_start", y="retention_pct", markers=True,
                  labels={"month_start": "Month", "retention_pct": "% of last month's payers paying again"})
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis_range=[0, 100])
    return fig


# --- Compliance: one breach -----------------------------------------------------------------------------

def breach_timeline(contact_id: str, rule_id: str):
    """The breach's timeline (analysis.compliance.evidence, 0.3 s to make): the same for every role, as before."""
    return evidence.timeline_figure(load(workspace.breach_detail, contact_id, rule_id))


# --- Conversations: sentiment ---------------------------------------------------------------------------

LABEL_COLOURS = {"negative": "#d62728", "neutral": "#9e9e9e", "positive": "#2ca02c"}


def sentiment_histogram(filters, by: str):
    hist = report.histogram_of(load(report.sentiment_cells, filters, by))
    fig = px.bar(hist, x="bin_start", y="conversations", color="label", color_discrete_map=LABEL_COLOURS,
                 labels={"bin_start": "customer mean score (bin start)", "conversations": "conversations"},
                 title="Distribution of customer sentiment per conversation")
    fig.update_layout(bargap=0.05, height=330)
    return fig


def sentiment_trend(filters, by: str):
    tr = report.trend_of(load(report.sentiment_cells, filters, by), by)
    fig = px.line(tr, x="month", y="negative_pct", color=by, markers=True,
                  labels={"negative_pct": "negative conversations (%)", "month": "month (UTC)"},
                  title=f"Share of negative conversations by {by}, per month")
    fig.update_layout(height=360)
    return fig
