"""`python -m analysis ingest DIR --db FILE`: import a directory in the SPEC section 1 contract."""
from analysis.ingest.load import *  # noqa: F401,F403  (temporary: the module is split next)
