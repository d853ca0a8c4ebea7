"""Array type aliases shared by the numeric modules."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
#: Compact per-cell rasters and indices (travel minutes, cell and unit indices).
Float32Array = NDArray[np.float32]
Int32Array = NDArray[np.int32]
#: Geometries (shapely objects) or other Python objects, one per entry.
ObjectArray = NDArray[np.object_]
#: Metric coordinates, one ``(x, y)`` row per point: an ``(n, 2)`` float array.
XYArray = NDArray[np.float64]
