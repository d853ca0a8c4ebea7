"""Many prefectures at once: the 15-minute coverage (and a siting study) as Dask tasks.

A face like the CLI: each task runs the same workflow as ``gridplan coverage
--prefecture X`` (:mod:`gridplan.batch.tasks`), one task per prefecture;
:mod:`gridplan.batch.runner` submits them to a ``dask.distributed`` cluster (a
local one, or one given by its scheduler address) and streams each row as it
comes; :mod:`gridplan.batch.files` writes and reads the result tables (CSV,
GeoPackage).  Dask is imported only where tasks are submitted.
"""

from gridplan.batch.files import BATCH_COLUMNS, read_batch_table, write_rows
from gridplan.batch.selection import select_prefectures
from gridplan.batch.tasks import BatchSettings, prefecture_row

__all__ = [
    "BATCH_COLUMNS",
    "BatchSettings",
    "prefecture_row",
    "read_batch_table",
    "select_prefectures",
    "write_rows",
]
