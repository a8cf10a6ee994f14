"""Collections analytics: a plain library and its command line (`python -m analysis`).

Nothing runs at import time: no connection is opened, no query executed, nothing printed.
"""
