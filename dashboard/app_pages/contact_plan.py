"""Contact plan: who to contact on a date, ranked by expected collection within each account's contact
headroom, against contacting as many accounts at random; the propensity model's out-of-time evaluation;
the dialer's file."""
from __future__ import annotations

from datetime import date, timedelta

import plotly.graph_objects as go
import streamlit as st

from analysis import catalog
from analysis.propensity import sample_note
from analysis.compliance.rules import load_rules
from analysis.plan import summary
from dashboard import audit, ui
from dashboard.data import load, load_kept, load_later

QUEUES = {"all": "All queues", "dialer": "Dialer", "specialist": "Specialist"}
LATER_DAYS = 14  # how far past the data's end a plan may be made (the history it reads stops there)

ui.header("Contact plan", "one date's plan; the sidebar's portfolio, team, strategy and channel apply, its date range does not")
card = load(summary.model_card)
if card is None:
    st.info(summary.NO_MODEL[:1].upper() + summary.NO_MODEL[1:] + ".")
    st.stop()


def url_date(lo: date, hi: date, default: date) -> date:
    try:
        wanted = date.fromisoformat(st.query_params.get("date", ""))
    except ValueError:  # absent or malformed: the default
        return default
    return min(max(wanted, lo), hi)


latest = load(summary.default_date, card["scores_as_of"])
first_day = load_kept(catalog.filter_options)["min_date"] + timedelta(days=1)
last_day = latest + timedelta(days=LATER_DAYS)
# Seeded from the URL once (a link or a reload), then the widgets own their values.
if "cp_date" not in st.session_state:
    st.session_state["cp_date"] = url_date(first_day, last_day, latest)
if "cp_rank" not in st.session_state:
    wanted = st.query_params.get("rank")
    st.session_state["cp_rank"] = wanted if wanted in summary.RANKINGS else summary.DEFAULT_RANKING

c1, c2, c3, c4 = st.columns([1, 1, 1.3, 1])
day = c1.date_input("Plan date", key="cp_date", min_value=first_day, max_value=last_day, format="YYYY-MM-DD",
                    help="A local date in each account's zone. The model scores what was known before it.") or latest
ranking = c2.selectbox("Rank by", list(summary.RANKINGS), format_func=summary.RANKINGS.get, key="cp_rank",
                       help="Expected collection is the propensity to pay in 30 days × the balance.")
queue = c3.segmented_control("Queue", list(QUEUES), format_func=QUEUES.get, default="all", key="cp_queue") or "all"
n = int(c4.number_input("Accounts to contact (N)", min_value=1, value=summary.DEFAULT_N, step=100, key="cp_n"))
st.query_params["date"] = day.isoformat()
st.query_params["rank"] = ranking

queues = () if queue == "all" else (queue,)
f = summary.plan_filters(ui.filters())
model_id = card["model_id"]
rules = load_rules()  # read on every run: an edited rules file is planned with at once (the stored plan is not used)
if ranking == summary.DEFAULT_RANKING and load(summary.has_stored_plan, day, model_id, rules):
    # The plan stored with the scores: only the figures and the first rows leave the database.
    shown = load(summary.stored_view, day, model_id, f, queues, n, ui.SHOWN_ROWS)
    dialer_file = load_later(summary.stored_dialer_rows, day, model_id, f, queues)
else:
    got = load(summary.plan_for, day, ranking, model_id, rules)
    shown = summary.frame_view(got["plan"], got["accounts"], f, queues, n, ui.SHOWN_ROWS)
    dialer_file = lambda: summary.dialer_rows(summary.select(got["plan"], f, queues))  # noqa: E731
head, listed, total = shown["head"], shown["rows"], shown["selected_rows"]


def money(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


m1, m2, m3, m4 = st.columns(4)
m1.metric("Accounts offered", f"{head['accounts_offered']:,}", help="Accounts with at least one channel offered on this date, in this selection.")
m2.metric("Dialer queue", f"{head['dialer']:,}", help="Accounts the dialer may work.")
m3.metric("Specialist queue", f"{head['specialist']:,}",
          help="Accounts flagged vulnerable, with a vulnerability cue in a conversation, or with an open complaint.")
m4.metric("No headroom", f"{head['no_headroom']:,}", help=f"Open accounts of the sidebar's portfolio, team and strategy "
          f"({head['open_accounts']:,} in all) that no rule leaves room to contact on any channel on this date.")
random_expected = head["random_expected"]
r1, r2, r3 = st.columns(4)[:3]
r1.metric(f"Plan's first {head['top_n']:,} accounts", money(head["plan_expected"]),
          delta=None if not random_expected else f"{head['plan_expected'] / random_expected:.1f}× random",
          help="Expected collection in 30 days (propensity × balance) of the list's first N accounts.")
r2.metric(f"{head['top_n']:,} accounts at random", money(random_expected),
          help="N × the mean expected collection of the open accounts of the sidebar's portfolio, team and strategy.")
r3.metric("Gain over random", money(None if random_expected is None else head["plan_expected"] - random_expected))

st.subheader("Ranked list")
more = f" · the first {ui.SHOWN_ROWS:,} are listed here, the dialer file has every dialer row" if total > ui.SHOWN_ROWS else ""
st.caption(f"{total:,} rows (an account once per channel offered), best first by "
           f"{summary.RANKINGS[ranking].lower()} · window: when one more contact breaches no active rule (both ends "
           f"allowed), in the account's local time and in UTC · cooldown ends in UTC{more}")
if listed.empty:
    st.info("No account has contact headroom on this date in this selection.")
else:
    st.dataframe(ui.masked(summary.table(listed)), hide_index=True, height=420, key="cp_table", column_config={
        "rank": st.column_config.NumberColumn("rank"),
        "account_id": "account",
        "propensity": st.column_config.NumberColumn("propensity", format="%.3f"),
        "balance": st.column_config.NumberColumn("balance", format="%.2f"),
        "expected_collection": st.column_config.NumberColumn("expected collection", format="%.2f"),
        "window_local": "window (local)", "window_utc": "window (UTC)",
        "best_local_hour": st.column_config.NumberColumn("best local hour", format="%d:00"),
        "calls_left": st.column_config.NumberColumn("calls left", format="%d"),
        "cooldown_ends": st.column_config.DatetimeColumn("cooldown ends (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    })
dialer_count = shown["dialer_rows"]
# The file is made when the button is clicked, not on every run.
audit.download_button("Dialer file (CSV)", ui.masked_csv(dialer_file), what="contact plan dialer file",
                      rows=dialer_count, file_name=f"dialer-plan-{day.isoformat()}.csv", mime="text/csv",
                      key="cp_dialer_csv", disabled=dialer_count == 0)

st.subheader("The model")
ev = card["evaluation"]
st.caption(f"Model `{card['model_id']}`, fitted on what was known before {card['as_of']} · out-of-time evaluation: "
           f"a model fitted only on months whose 30-day outcome was known by {ev.get('cutoff', '–')} "
           f"({ev.get('n_train', 0):,} account-months), measured on the {ev.get('n_test', 0):,} accounts open on that "
           f"date (paid or not in the 30 days after it){sample_note(ev)}")
k1, k2, k3 = st.columns(3)
k1.metric("AUC", f"{ev['auc']:.3f}", help="0.5 is a coin toss, 1 ranks every payer above every non-payer.")
k2.metric("Top-decile lift", f"{ev['top_decile_lift']:.2f}×", help="Payment rate of the 10% scored highest over the base rate.")
k3.metric("Base rate", f"{ev['base_rate']:.1%}", help="Share of open accounts that paid in the 30 days after the cutoff.")
calibration = summary.calibration_frame(card)
left, right = st.columns([3, 2])
with left:
    top = max(0.05, float(calibration[["mean_predicted", "observed_rate"]].max().max() or 0)) if len(calibration) else 1.0
    fig = go.Figure([
        go.Scatter(x=[0, top], y=[0, top], mode="lines", name="perfectly calibrated", line={"dash": "dash", "color": "grey"}),
        go.Scatter(x=calibration["mean_predicted"], y=calibration["observed_rate"], mode="lines+markers", name="model",
                   customdata=calibration["n"], hovertemplate="predicted %{x:.3f}<br>observed %{y:.3f}<br>%{customdata:,} accounts"),
    ])
    fig.update_layout(height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis_title="mean predicted probability",
                      yaxis_title="observed payment rate", legend={"orientation": "h", "y": 1.1})
    st.plotly_chart(fig, width="stretch", key="cp_calibration")
with right:
    st.dataframe(calibration, hide_index=True, key="cp_calibration_table", column_config={
        "n": st.column_config.NumberColumn("accounts"),
        "mean_predicted": st.column_config.NumberColumn("mean predicted", format="%.3f"),
        "observed_rate": st.column_config.NumberColumn("observed rate", format="%.3f")})
