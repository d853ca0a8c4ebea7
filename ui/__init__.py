"""Streamlit helpers shared by the pages (widgets, caching, map building).

Only the dashboard imports this package; the library in ``src/gridplan`` stays
free of UI code.
"""
