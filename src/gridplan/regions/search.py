"""The region-growing and local-search heuristic."""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gridplan.regions.instance import _evaluate, _grid_pops, _Instance, _viol


# --- heuristic ---------------------------------------------------------------------------
@dataclass
class _Plan:
    """A plan under search: each unit's grid, each grid's residents and drawn members."""

    assign: NDArray[np.int64]
    pop: NDArray[np.float64]
    size: NDArray[np.int64]

    def move(
        self, units: NDArray[np.int64] | int, ga: int, gb: int, pop: float, drawn: int
    ) -> None:
        """Move ``units`` (``pop`` residents, ``drawn`` of them drawn) from grid ga to gb."""
        self.assign[units] = gb
        self.pop[ga] -= pop
        self.pop[gb] += pop
        self.size[ga] -= drawn
        self.size[gb] += drawn


class _Search:
    """Region growing + iterated local search keeping every grid connected."""

    def __init__(self, inst: _Instance, seed: int = 0) -> None:
        self.inst = inst
        self.rng = np.random.default_rng(seed)
        self.w = inst.pop[:, None] * inst.cost  # person-minutes
        self.is_root = np.zeros(inst.m, dtype=bool)
        self.is_root[inst.roots] = True
        self.eps_p = 1e-6 * max(inst.mean, 1.0)
        self.eps_c = 1e-9 * max(float(self.w.max(initial=0.0)), 1.0)
        self.lam = math.inf  # balance penalty (minutes per person outside the bounds)

    def grow(self) -> NDArray[np.int64]:
        inst = self.inst
        a = np.full(inst.m, -1, dtype=np.int64)
        gp = np.zeros(inst.k)
        heap: list[tuple[float, int, int]] = []
        for g, r in enumerate(inst.roots):
            a[r] = g
            gp[g] += inst.pop[r]
        for g, r in enumerate(inst.roots):
            for j in inst.nbrs[r]:
                heapq.heappush(heap, (float(inst.cost[j, g]), j, g))
        while heap:
            _, j, g = heapq.heappop(heap)
            if a[j] >= 0 or gp[g] + inst.pop[j] > inst.hi:
                continue
            a[j] = g
            gp[g] += inst.pop[j]
            for n in inst.nbrs[j]:
                if a[n] < 0:
                    heapq.heappush(heap, (float(inst.cost[n, g]), n, g))
        # units blocked by the upper bound: to the cheapest adjacent grid
        left = [i for i in range(inst.m) if a[i] < 0 and inst.drawn[i]]
        while left:
            best: tuple[float, int, int] | None = None
            for i in left:
                for n in inst.nbrs[i]:
                    if a[n] >= 0:
                        cand = (float(inst.cost[i, a[n]]), i, int(a[n]))
                        if best is None or cand < best:
                            best = cand
            if best is None:  # unreachable (cannot happen after bridging)
                raise RuntimeError("units unreachable from every lead hospital")
            _, i, g = best
            a[i] = g
            gp[g] += inst.pop[i]
            left.remove(i)
        free = [i for i in range(inst.m) if a[i] < 0]
        for i in sorted(free, key=lambda i: -inst.pop[i]):
            room = [g for g in range(inst.k) if gp[g] + inst.pop[i] <= inst.hi]
            g = min(room, key=lambda g: inst.cost[i, g]) if room else int(np.argmin(gp))
            a[i] = g
            gp[g] += inst.pop[i]
        return a

    def _reached(self, a: NDArray[np.int64], g: int, skip: int = -1, extra: int = -1) -> set[int]:
        """Members of grid g (and ``extra``) reachable from its root without passing ``skip``."""
        inst = self.inst
        root = inst.roots[g]
        seen = {root}
        stack = [root]
        while stack:
            v = stack.pop()
            for n in inst.nbrs[v]:
                if n != skip and n not in seen and (a[n] == g or n == extra):
                    seen.add(n)
                    stack.append(n)
        return seen

    def connected(
        self, a: NDArray[np.int64], g: int, size: int, remove: int = -1, add: int = -1
    ) -> bool:
        """Whether grid g stays connected with ``remove`` taken out and ``add`` put in."""
        if self.inst.roots[g] == remove:
            return False
        expected = size - (remove >= 0) + (add >= 0)
        return len(self._reached(a, g, skip=remove, extra=add)) == expected

    def _better(self, dv: float, dc: float) -> bool:
        if math.isinf(self.lam):
            return dv < -self.eps_p or (dv <= self.eps_p and dc < -self.eps_c)
        return dc + self.lam * dv < -self.eps_c

    def _score(self, dv: float, dc: float) -> tuple[float, float]:
        return (dv, dc) if math.isinf(self.lam) else (dc + self.lam * dv, 0.0)

    def cut_set(self, a: NDArray[np.int64], g: int, i: int) -> NDArray[np.int64]:
        """Unit i and the members of grid g that lose their link to the root without it."""
        seen = self._reached(a, g, skip=i)
        members = np.flatnonzero((a == g) & self.inst.drawn)
        if len(seen) == len(members) - 1:
            return np.array([i], dtype=np.int64)
        return np.array([v for v in members if v not in seen], dtype=np.int64)

    def local_search(self, plan: _Plan, deadline: float) -> None:
        """Best move of each unit in turn, then swaps, until neither improves.

        A move takes unit i to a neighbouring grid together with the members
        of its grid that would be cut off from the root without i (a branch),
        so every grid stays connected.
        """
        inst = self.inst
        lo, hi = inst.lo, inst.hi
        a, gp = plan.assign, plan.pop
        all_grids = set(range(inst.k))
        while time.perf_counter() < deadline:
            improved = False
            for i in self.rng.permutation(inst.m):
                if self.is_root[i]:
                    continue
                ga = int(a[i])
                if inst.drawn[i]:
                    cand = {int(a[j]) for j in inst.nbrs[i]} - {ga}
                    if not cand:
                        continue
                    branch = self.cut_set(a, ga, int(i))
                else:
                    cand = all_grids - {ga}
                    branch = np.array([i], dtype=np.int64)
                p = float(inst.pop[branch].sum())
                wb = self.w[branch].sum(axis=0)
                dva = _viol(gp[ga] - p, lo, hi) - _viol(gp[ga], lo, hi)
                best: tuple[tuple[float, float], int] | None = None
                for gb in cand:
                    dv = dva + _viol(gp[gb] + p, lo, hi) - _viol(gp[gb], lo, hi)
                    dc = float(wb[gb] - wb[ga])
                    if self._better(dv, dc):
                        key = self._score(dv, dc)
                        if best is None or key < best[0]:
                            best = (key, gb)
                if best is None:
                    continue
                plan.move(branch, ga, best[1], p, int(inst.drawn[branch].sum()))
                improved = True
            if not improved and not self.swap_pass(plan, deadline):
                return

    def swap_pass(self, plan: _Plan, deadline: float) -> bool:
        """Apply the first improving swap of two units between two grids, if any."""
        inst = self.inst
        lo, hi = inst.lo, inst.hi
        a, gp, size = plan.assign, plan.pop, plan.size
        border: dict[tuple[int, int], set[int]] = {}
        free_in: dict[int, list[int]] = {}
        for i in range(inst.m):
            if self.is_root[i]:
                continue
            if not inst.drawn[i]:
                free_in.setdefault(int(a[i]), []).append(i)
                continue
            for n in inst.nbrs[i]:
                if a[n] != a[i]:
                    border.setdefault((int(a[i]), int(a[n])), set()).add(i)
        pairs = {(min(x, y), max(x, y)) for x, y in border} | {
            (x, y)
            for x in range(inst.k)
            for y in range(x + 1, inst.k)
            if free_in.get(x) or free_in.get(y)
        }
        for ga, gb in sorted(pairs):
            if time.perf_counter() > deadline:
                return False
            side_a = sorted(border.get((ga, gb), set())) + free_in.get(ga, [])
            side_b = sorted(border.get((gb, ga), set())) + free_in.get(gb, [])
            va, vb = _viol(gp[ga], lo, hi), _viol(gp[gb], lo, hi)
            for i in side_a:
                for j in side_b:
                    d = inst.pop[j] - inst.pop[i]
                    dv = _viol(gp[ga] + d, lo, hi) - va + _viol(gp[gb] - d, lo, hi) - vb
                    dc = self.w[i, gb] + self.w[j, ga] - self.w[i, ga] - self.w[j, gb]
                    if not self._better(dv, dc):
                        continue
                    di, dj = bool(inst.drawn[i]), bool(inst.drawn[j])
                    sa = int(size[ga]) - di + dj
                    sb = int(size[gb]) - dj + di
                    ok = self.connected(
                        a, ga, int(size[ga]), remove=i if di else -1, add=j if dj else -1
                    ) and self.connected(
                        a, gb, int(size[gb]), remove=j if dj else -1, add=i if di else -1
                    )
                    if not ok:
                        continue
                    a[i], a[j] = gb, ga
                    gp[ga] += d
                    gp[gb] -= d
                    size[ga], size[gb] = sa, sb
                    return True
        return False

    def perturb(self, plan: _Plan, n_moves: int) -> None:
        """Move up to ``n_moves`` random units to another grid (keeping their grid connected)."""
        inst = self.inst
        a, size = plan.assign, plan.size
        movable = [i for i in range(inst.m) if not self.is_root[i]]
        if not movable:
            return
        for _ in range(n_moves * 5):
            if n_moves <= 0:
                break
            i = int(self.rng.choice(movable))
            ga = int(a[i])
            if inst.drawn[i]:
                cand = sorted({int(a[j]) for j in inst.nbrs[i]} - {ga})
            else:
                cand = [g for g in range(inst.k) if g != ga]
            if not cand:
                continue
            gb = int(self.rng.choice(cand))
            if inst.drawn[i] and not self.connected(a, ga, int(size[ga]), remove=i):
                continue
            plan.move(i, ga, gb, inst.pop[i], int(inst.drawn[i]))
            n_moves -= 1

    def _plan(self, assign: NDArray[np.int64]) -> _Plan:
        """A copy of ``assign`` under search, with its grids' residents and drawn members."""
        a = assign.copy()
        size = np.bincount(a[self.inst.drawn], minlength=self.inst.k).astype(np.int64)
        return _Plan(a, _grid_pops(self.inst, a), size)

    def _improves(self, key: tuple[float, float], ref: tuple[float, float], slack: float) -> bool:
        """``key`` (violation, cost) is no worse than ``ref`` (cost within ``slack``)."""
        if key[0] < ref[0] - self.eps_p:
            return True
        return key[0] <= ref[0] + self.eps_p and key[1] < ref[1] * (1 + slack) - self.eps_c

    def run(
        self, rounds: int, deadline: float, start: NDArray[np.int64] | None = None
    ) -> NDArray[np.int64]:
        """Iterated local search; returns the best (violation, cost) solution found.

        Each round perturbs the current solution, descends with a finite
        balance penalty (strategic oscillation: the search may cross plans
        outside the bounds), then lexicographically (balance first), and
        accepts the result if it is within 1 % of the best travel time found.
        """
        inst = self.inst
        plan = self._plan(self.grow() if start is None else start)
        self.lam = math.inf
        self.local_search(plan, deadline)
        best, best_key = plan.assign.copy(), _evaluate(inst, plan.assign)
        cur_key = best_key
        cur = plan.assign.copy()
        n_moves = max(2, inst.m // 12)
        scale = float(np.median(inst.cost)) or 1.0
        ladder = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
        for r in range(rounds):
            if time.perf_counter() > deadline:
                break
            self.perturb(plan, int(self.rng.integers(1, n_moves + 1)))
            self.lam = scale * ladder[r % len(ladder)]
            self.local_search(plan, deadline)
            self.lam = math.inf
            self.local_search(plan, deadline)
            key = _evaluate(inst, plan.assign)
            if self._improves(key, best_key, 0.0):
                best, best_key = plan.assign.copy(), key
            if self._improves(key, cur_key, 0.0) or self._improves(key, best_key, 0.01):
                cur, cur_key = plan.assign.copy(), key
            else:
                plan = self._plan(cur)
        return best
