"""Scorecard: every SPEC section 3 metric for one month, against last month, a year earlier and target."""
from __future__ import annotations

import streamlit as st

from analysis import scorecard
from analysis.errors import UserError
from dashboard import audit, ui
from dashboard.data import load, load_kept

ZONES = ("UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London")

ui.header("Scorecard", "calendar months of the reporting time zone; the sidebar filters do not apply here")

# The month and zone live in the URL (?month=2026-03&tz=...), so a link reproduces the view.
if "sc_tz" not in st.session_state:
    st.session_state["sc_tz"] = st.query_params.get("tz") if st.query_params.get("tz") in ZONES else "UTC"
left, right, _ = st.columns([1, 1, 2])
tz = right.selectbox("Reporting time zone", ZONES, key="sc_tz")
months = load_kept(scorecard.month_choices, tz)
if not months:
    st.info("The database has no data yet: import your data or build the demo.")
    st.stop()

asked = st.query_params.get("month")
if "sc_month" not in st.session_state:
    if asked and asked not in months:  # the link's text is shown as typed (ui.literal), never as Markdown
        st.session_state["sc_notice"] = (f"Month {ui.literal(asked)} has no data here (YYYY-MM, {months[-1]} to {months[0]}): "
                                         f"showing {load_kept(scorecard.default_month, tz)}; choose a month from the list.")
    st.session_state["sc_month"] = asked if asked in months else load_kept(scorecard.default_month, tz)
elif st.session_state["sc_month"] not in months:  # the zone changed and the month has no data in it
    st.session_state["sc_month"] = months[0]
month = left.selectbox("Month", months, key="sc_month", on_change=lambda: st.session_state.pop("sc_notice", None))
if "sc_notice" in st.session_state:  # kept until the reader picks a month
    st.error(st.session_state["sc_notice"])

try:
    # The breach metrics count the stored audit, as the Compliance page shows it; the caption names its rule set.
    card = load_kept(scorecard.scorecard, month, tz, breaches=scorecard.STORED_AUDIT)
except UserError as exc:
    st.error(str(exc))
    st.stop()
st.query_params["month"] = month
st.query_params["tz"] = tz

breach_source = load(scorecard.breach_rule_set)

tiles = [c for _ in range(2) for c in st.columns(3)]
for tile, fig in zip(tiles, scorecard.headline(card)):
    tile.metric(fig["label"], fig["value"], fig["delta"], delta_color=fig["delta_color"], help=fig["help"], border=True)

for section in scorecard.SECTIONS:
    st.subheader(section)
    st.dataframe(
        scorecard.display_frame(card, section).style.map(scorecard.status_style, subset=["Status"]),
        hide_index=True, width="stretch",
        column_config={"Last 12 months": st.column_config.LineChartColumn("Last 12 months", width="medium")},
    )
    if section == scorecard.BY_NAME["contact_breaches"].section:
        st.caption(scorecard.breach_caption(breach_source))

st.caption("'-' means no data for a ratio, score or median (no responses, nothing due), not zero. "
           "Changes are against the previous month. Targets: config/targets.toml. Definitions: DECISIONS.md.")
c1, c2, _ = st.columns([1, 1, 3])
audit.download_button("Download CSV", scorecard.csv_from_table(card), file_name=f"scorecard-{month}.csv", container=c1,
                      what=f"scorecard {month} {tz}", rows=len(card), mime="text/csv", icon=":material/download:")
# The PDF (charts rendered by kaleido, a few seconds) is built only when the button is clicked.
breach_note = None if breach_source["default"] else scorecard.breach_caption(breach_source)
audit.download_button("Download PDF", lambda: scorecard.pdf_bytes(card, month, tz, breach_note), file_name=f"scorecard-{month}.pdf",
                      container=c2, what=f"scorecard {month} {tz}", rows=len(card), mime="application/pdf",
                      icon=":material/picture_as_pdf:")
