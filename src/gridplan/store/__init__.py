"""The scenario store: plans that last, with their history.

A scenario is a named plan of one prefecture; each save adds a numbered
version holding the plan JSON, the facility edits, the references to uploaded
data and the analysis settings (:mod:`gridplan.store.payload`).  The store is
a SQLite file in the user's data folder by default, or a PostgreSQL database
shared by a team (:func:`open_store`); its schema carries a version and is
upgraded on opening (:mod:`gridplan.store.schema`).  The last stage: it
stores what the others produce.
"""

from gridplan.store.engine import STORE_ENV, store_url
from gridplan.store.payload import PAYLOAD_FORMAT, check_payload
from gridplan.store.scenarios import ScenarioInfo, Snapshot, Store, VersionInfo, open_store
from gridplan.store.schema import SCHEMA_VERSION

__all__ = [
    "PAYLOAD_FORMAT",
    "SCHEMA_VERSION",
    "STORE_ENV",
    "ScenarioInfo",
    "Snapshot",
    "Store",
    "VersionInfo",
    "check_payload",
    "open_store",
    "store_url",
]
