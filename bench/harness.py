"""Shared reporting for the benchmarks in bench/.

Every figure is a median over repeats (machines are noisy), printed next to
its budget with ``ok`` or ``over``, and next to a baseline measured in the
same run where one makes sense (a ratio is what carries across machines)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Result:
    name: str
    value: float
    unit: str
    budget: float | None = None
    higher_is_better: bool = True
    baseline: float | None = None
    baseline_name: str = ""

    @property
    def ok(self) -> bool | None:
        if self.budget is None:
            return None
        return self.value >= self.budget if self.higher_is_better else self.value <= self.budget

    def line(self) -> str:
        val = _fmt(self.value)
        text = f"{self.name:<48} {val:>14} {self.unit:<10}"
        if self.budget is not None:
            op = ">=" if self.higher_is_better else "<="
            text += f" budget {op} {_fmt(self.budget):>10}  {'ok' if self.ok else 'over'}"
        if self.baseline is not None and self.baseline > 0:
            ratio = self.value / self.baseline if self.higher_is_better else self.baseline / self.value
            text += f"   x{ratio:.1f} vs {self.baseline_name} ({_fmt(self.baseline)})"
        return text


def _fmt(v: float) -> str:
    if v == 0 or 0.01 <= abs(v) < 1e6:
        return f"{v:,.2f}"
    return f"{v:,.3e}"


@dataclass
class Report:
    results: list[Result] = field(default_factory=list)

    def add(self, result: Result) -> Result:
        self.results.append(result)
        print(result.line(), flush=True)
        return result

    @property
    def all_ok(self) -> bool:
        return all(r.ok is not False for r in self.results)


def median_time(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
