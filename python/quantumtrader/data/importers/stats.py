"""What an import did: counts, bad rows with their first line numbers, and
the summary printed at the end of a ``quantumtrader import`` command."""

from __future__ import annotations

from dataclasses import dataclass, field

# Bad-row reasons that are a choice, not a loss: rows of another ticker than
# the one imported (profit-csv --ticker).
DESELECTED_REASONS = frozenset({"other ticker"})
# An import that loses more than this share of its data rows (bad rows other
# than the deselected ones) has failed: a wrong price unit or a file of another
# format loses most rows, a healthy export a handful.  ``--max-bad-share``.
DEFAULT_MAX_BAD_SHARE = 0.001


@dataclass
class ImportStats:
    """Counters of one import.  ``rows`` counts input data rows (lines of a
    CSV, JSON lines of a capture, messages of LOBSTER), not header or blank
    lines."""

    max_listed: int = 20
    rows: int = 0
    events: int = 0
    trades: int = 0
    book_events: int = 0  # applied exchange messages that changed levels (a snapshot counts once)
    sessions: int = 0
    bad: int = 0
    bad_by_reason: dict[str, int] = field(default_factory=dict)
    bad_lines: dict[str, list[int]] = field(default_factory=dict)  # first max_listed per reason
    after_hours: int = 0
    out_of_order: int = 0
    out_of_order_lines: list[int] = field(default_factory=list)
    gaps: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # rows dropped on purpose, by kind
    seconds: float = 0.0

    def add_bad(self, reason: str, line: int, count: int = 1) -> None:
        """Count ``count`` bad rows of one reason; list ``line`` if room."""
        self.bad += count
        self.bad_by_reason[reason] = self.bad_by_reason.get(reason, 0) + count
        self.list_bad_line(reason, line)

    def list_bad_line(self, reason: str, line: int) -> None:
        listed = self.bad_lines.setdefault(reason, [])
        if len(listed) < self.max_listed:
            listed.append(line)

    def skip(self, kind: str, count: int = 1) -> None:
        self.skipped[kind] = self.skipped.get(kind, 0) + count

    @property
    def lost_rows(self) -> int:
        """Bad rows that were meant to be imported (deselected ones excluded)."""
        return self.bad - sum(self.bad_by_reason.get(r, 0) for r in DESELECTED_REASONS)

    @property
    def lost_share(self) -> float:
        """:attr:`lost_rows` over the data rows read (0 when none was read)."""
        return self.lost_rows / self.rows if self.rows else 0.0

    @property
    def first_bad_lines(self) -> list[int]:
        """The first ``max_listed`` bad line numbers over all reasons."""
        return sorted(n for lines in self.bad_lines.values() for n in lines)[: self.max_listed]

    def summary_lines(self) -> list[str]:
        rate = self.rows / self.seconds if self.seconds > 0 else float("inf")
        lines = [
            f"rows read       {self.rows:,}",
            f"events written  {self.events:,} (trades {self.trades:,}, sessions {self.sessions:,})",
            f"book events     {self.book_events:,}",
            f"after-hours     {self.after_hours:,} excluded",
            f"bad rows        {self.bad:,}",
        ]
        for reason, n in sorted(self.bad_by_reason.items(), key=lambda kv: -kv[1]):
            shown = self.bad_lines.get(reason, [])
            more = ", ..." if n > len(shown) else ""
            lines.append(f"  {reason}: {n:,} (lines {', '.join(map(str, shown))}{more})")
        if self.out_of_order:
            more = ", ..." if self.out_of_order > len(self.out_of_order_lines) else ""
            lines.append(
                f"out of order    {self.out_of_order:,} kept in file order "
                f"(lines {', '.join(map(str, self.out_of_order_lines))}{more})"
            )
        lines.append(f"gaps            {self.gaps:,}")
        for kind, n in sorted(self.skipped.items()):
            lines.append(f"skipped         {n:,} {kind}")
        lines.append(f"time            {self.seconds:.2f} s ({rate:,.0f} rows/s)")
        return lines
