"""The suite's arithmetic and its one table: percentiles, ratios, goals met or not.

Pure functions only (no timing, no I/O) so that ``tests/unit/benchmarks`` checks
them: a goal wrongly printed as met is a defect a reader of the README would act on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Tails:
    """p50 / p95 / p99 of a set of samples (NaN when there are none) and their count."""

    p50: float
    p95: float
    p99: float
    count: int

    def __str__(self) -> str:
        if not self.count:
            return "no samples"
        return f"{self.p50:.1f} / {self.p95:.1f} / {self.p99:.1f} (n={self.count})"


def tails(samples: Iterable[float]) -> Tails:
    """Percentiles by linear interpolation (numpy's default), NaN for no samples."""
    xs = np.fromiter(samples, dtype=np.float64)
    if not xs.size:
        return Tails(NAN, NAN, NAN, 0)
    p50, p95, p99 = (float(v) for v in np.percentile(xs, [50, 95, 99]))
    return Tails(p50, p95, p99, int(xs.size))


def ratio(value: float, base: float) -> float:
    """``value / base``; NaN when either is missing or the base is not positive."""
    if math.isnan(value) or math.isnan(base) or base <= 0:
        return NAN
    return value / base


def growth_percent(first: float, last: float) -> float:
    """How much ``last`` grew over ``first``, in % (negative when it shrank)."""
    return ratio(last - first, first) * 100 if first > 0 else NAN


@dataclass(frozen=True, slots=True)
class Goal:
    """One goal of issue 16: ``measured`` must be ``<=`` or ``>=`` ``target``."""

    name: str
    target: float
    unit: str
    direction: Literal["<=", ">="] = "<="

    def met(self, measured: float) -> bool | None:
        """True/False, or None when nothing was measured (the row says so)."""
        if math.isnan(measured):
            return None
        return measured <= self.target if self.direction == "<=" else measured >= self.target

    def row(self, measured: float, note: str = "") -> tuple[str, str, str]:
        """(goal, measured, met?) cells of the table."""
        verdict = {True: "met", False: "NOT met", None: "not measured"}[self.met(measured)]
        shown = "—" if math.isnan(measured) else f"{measured:.2f}{self.unit}"
        goal = f"{self.name} {self.direction} {self.target:g}{self.unit}"
        return goal, shown + (f" ({note})" if note else ""), verdict


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub table; ``|`` inside a cell is escaped so a row never gains a column."""

    def line(cells: Sequence[str]) -> str:
        if len(cells) != len(header):
            raise ValueError(f"row has {len(cells)} cells, the header {len(header)}: {cells}")
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    out = [line(header), "|" + "---|" * len(header)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def ms(value: float, digits: int = 3) -> str:
    return "—" if math.isnan(value) else f"{value:.{digits}f} ms"


def times(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.2f}×"
