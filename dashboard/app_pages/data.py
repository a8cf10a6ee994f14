"""Data (admin): what is loaded, the import history, the quarantine of rejected rows, and who
signed in, saw and downloaded what (the access log, with both logs' chain checks)."""
from datetime import datetime, timedelta, timezone

import streamlit as st

from analysis import access, accesslog, catalog, verifylogs
from dashboard import audit, ui
from dashboard.data import db_path, load

ui.header("Data", "what is loaded, what each import did, the rows it rejected, and the access log")

demo_active = load(catalog.is_demo) and access.demo_users(access.load_credentials(access.default_credentials_path()))
if demo_active:
    st.warning(f"Demo users are active ({', '.join(demo_active)}, password `demo`): anyone who has read this project's "
               "README can sign in. Before real data is loaded, add your own users with `python -m analysis users add` "
               "and remove these with `python -m analysis users remove NAME`.")

counts = load(catalog.table_counts)
loaded = counts[counts["table_name"] != "quarantine"]
quarantined = int(counts.loc[counts["table_name"] == "quarantine", "row_count"].sum())
c1, c2, c3 = st.columns(3)
c1.metric("Accounts", f"{int(loaded.loc[loaded['table_name'] == 'accounts', 'row_count'].sum()):,}")
c2.metric("Contacts", f"{int(loaded.loc[loaded['table_name'] == 'contacts', 'row_count'].sum()):,}")
c3.metric("Rows in quarantine", f"{quarantined:,}")

view = st.segmented_control("View", ["Tables", "Import history", "Quarantine", "Access log"], default="Tables",
                            key="data_view", label_visibility="collapsed")

if view == "Access log":
    for name, path, entries, head, problems in verifylogs.checks(db_path(), audit.log_path()):
        if problems:
            st.error(f"The {name} ({path.name}) has been tampered with: " + "; ".join(problems[:3])
                     + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
                     + ". Run `python -m analysis verify-logs` for the full list and keep the file as evidence.")
        else:
            st.success(f"The {name} ({path.name}) is whole: {entries:,} entries, chain intact, head `{head[:16]}…`.")
    c1, c2, c3 = st.columns([1, 1, 2])
    days = c1.selectbox("Period", [1, 7, 30, 365], index=1, format_func=lambda d: f"last {d} days", key="al_days")
    event = c2.selectbox("Event", ["", *accesslog.EVENTS], format_func=lambda e: e or "every event", key="al_event")
    who = c3.text_input("User", key="al_user", placeholder="every user").strip()
    log = accesslog.entries(audit.log_path(), since=datetime.now(timezone.utc) - timedelta(days=days),
                            event=event or None, username=who or None)
    st.caption(f"{len(log):,} entries, newest first" + ui.shown_rows_note(len(log)))
    st.dataframe(log.head(ui.SHOWN_ROWS), hide_index=True, width="stretch", key="al_table")
    audit.download_button("Download the access log (CSV)", log.to_csv(index=False).encode("utf-8"),
                          file_name="access_log.csv", mime="text/csv", key="al_csv", what="access log", rows=len(log))
elif view == "Import history":
    history = load(catalog.import_history)
    if history.empty:
        st.info("No imports yet: this database was built by `python -m analysis demo`. "
                "Import your own files with `python -m analysis ingest DIR --db FILE`.")
    else:
        st.dataframe(history, hide_index=True, width="stretch", column_config={
            "seconds": st.column_config.NumberColumn("seconds", format="%.1f"),
        })
elif view == "Quarantine":
    reasons = load(catalog.quarantine_reasons)
    if reasons.empty:
        st.success("No rejected rows: every row read was loaded.")
    else:
        st.subheader("Reasons")
        st.dataframe(reasons, hide_index=True, width="stretch")
        st.subheader("Rejected rows")
        st.caption("The newest 1,000 rows, with the file, its physical line (header = line 1) and the raw text as read.")
        st.dataframe(ui.masked(load(catalog.quarantine, 1000)), hide_index=True, width="stretch")
else:
    st.subheader("Contract tables")
    st.dataframe(counts, hide_index=True, width="stretch", height=38 + 35 * len(counts), column_config={
        "table_name": "table", "row_count": st.column_config.NumberColumn("rows", format="localized"),
    })
    derived = load(catalog.derived_tables)
    if not derived.empty:
        st.subheader("Derived tables")
        st.caption("Recomputed by `python -m analysis refresh` after every build or import; row counts are DuckDB's estimate.")
        st.dataframe(derived, hide_index=True, width="stretch")
