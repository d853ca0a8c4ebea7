"""GridPlan: medical grid (网格化布局) planning for Chinese prefectures."""

from gridplan.errors import GridPlanError, InputError, PresetError, UnknownRegionError, UploadError

__version__ = "0.1.0"

__all__ = [
    "GridPlanError",
    "InputError",
    "PresetError",
    "UnknownRegionError",
    "UploadError",
    "__version__",
]
