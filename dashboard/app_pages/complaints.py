"""Placeholder until this page is built (see the open issues)."""
import streamlit as st

from dashboard import ui

ui.header("complaints".capitalize())
st.info("This page is not built yet.")
