"""Data (admin): what is loaded, the import history and the quarantine of rejected rows."""
import streamlit as st

from analysis import catalog
from dashboard import ui
from dashboard.data import load

ui.header("Data", "per-table counts, import history and rejected rows")
st.subheader("Tables")
st.dataframe(load(catalog.table_counts), hide_index=True)
st.subheader("Import history")
history = load(catalog.import_history)
if history.empty:
    st.write("No imports yet: this database was built by `python -m analysis demo`.")
else:
    st.dataframe(history, hide_index=True)
st.subheader("Quarantine")
rejected = load(catalog.quarantine)
if rejected.empty:
    st.write("No rejected rows.")
else:
    st.dataframe(ui.masked(rejected), hide_index=True)
