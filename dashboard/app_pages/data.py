"""Data (admin): what is loaded, the import history and the quarantine of rejected rows."""
import streamlit as st

from analysis import catalog
from dashboard import ui
from dashboard.data import load

ui.header("Data", "what is loaded, what each import did, and the rows it rejected")

counts = load(catalog.table_counts)
loaded = counts[counts["table_name"] != "quarantine"]
quarantined = int(counts.loc[counts["table_name"] == "quarantine", "row_count"].sum())
c1, c2, c3 = st.columns(3)
c1.metric("Accounts", f"{int(loaded.loc[loaded['table_name'] == 'accounts', 'row_count'].sum()):,}")
c2.metric("Contacts", f"{int(loaded.loc[loaded['table_name'] == 'contacts', 'row_count'].sum()):,}")
c3.metric("Rows in quarantine", f"{quarantined:,}")

view = st.segmented_control("View", ["Tables", "Import history", "Quarantine"], default="Tables",
                            key="data_view", label_visibility="collapsed")

if view == "Import history":
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
