"""A wall-clock budget shared by the phases of one solve.

A solve with a time limit runs several phases (heuristics, a bound, model
building, the MIP); each asks the :class:`Deadline` how much is left, so the
limit holds for the whole solve and not for the MIP alone.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

__all__ = ["Deadline"]


@dataclass
class Deadline:
    """``seconds`` from the moment it is made (``inf``: none)."""

    seconds: float
    start: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.start

    def left(self) -> float:
        """Seconds left (never below 0; ``inf`` without a limit)."""
        if math.isinf(self.seconds):
            return math.inf
        return max(0.0, self.seconds - self.elapsed())

    def expired(self) -> bool:
        """Whether no time is left."""
        return self.left() <= 0.0

    def share(self, fraction: float) -> float:
        """A ``fraction`` of the whole budget, capped at what is left."""
        return min(self.left(), self.seconds * fraction)
