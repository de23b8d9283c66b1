"""Look at a trading report the way a user does: render ``report.html`` in
headless Chromium and save a PNG screenshot.

``python tools/screenshot_report.py REPORT --out SHOT.png`` where REPORT is a
``report.html`` or the folder that holds one.  ``--synthetic DIR`` first
writes a report of a synthetic two-day backtest (a seeded random walk of
WDO round trips with B3-like fees and latency samples drawn from
log-normal laws: figures to look at, not to trust) into DIR and shoots that.

Chromium runs as ``chromium --headless --disable-gpu --no-sandbox
--hide-scrollbars --screenshot=... --window-size=W,H file://...`` with a
throw-away profile; the page has no script and no network reference, so
what it shows is what the file holds.  The shot is written aside and
renamed into place, and checked: a PNG of the asked size that is not one
flat colour (a blank page means the report did not render).

Exit status: 0 shot written, 1 Chromium missing or failed or a blank shot
(one line on stderr), 2 bad arguments, 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import numpy as np

from quantumtrader.execution.orders import Side
from quantumtrader.output_path import OutputPathError, atomic_output, check_output
from quantumtrader.runners.latency import LatencyRecorder
from quantumtrader.runners.report import SessionResult, StoredRoundTrip, merge_results, write_report

PROG = "screenshot_report"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


class ShotError(RuntimeError):
    """The screenshot could not be taken or is blank; one line."""


def synthetic_day(day: dt.date, seed: int, trades: int = 40) -> SessionResult:
    """One synthetic WDO backtest day (see the module docstring)."""
    rng = np.random.default_rng(seed)
    open_ns = int(dt.datetime(day.year, day.month, day.day, 12, 0, tzinfo=dt.UTC).timestamp()) * 10**9
    length_ns = 9 * 3600 * 10**9
    fee = Decimal("1.05")
    trips, equity, net = [], [], Decimal(0)
    t = open_ns
    mean_hold_ns = 240e9
    mean_gap_ns = (length_ns - trades * mean_hold_ns) / (trades + 2)
    price = 10_000 + int(rng.integers(-200, 200))  # price units of 0.5 point
    for _ in range(trades):
        t += int(rng.exponential(mean_gap_ns))
        hold = int(rng.exponential(mean_hold_ns)) + 10**9
        if t + hold > open_ns + length_ns:  # the session is over
            break
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        qty = int(rng.choice([1, 1, 1, 2]))
        move = int(rng.normal(0.4, 6))  # a faint edge, in price units
        entry, exit_ = price, price + move * side.sign
        points = (exit_ - entry) * Decimal("0.5") * side.sign * qty
        gross = points * 10
        fees = fee * 2 * qty
        trips.append(StoredRoundTrip("WDOF26", side, qty, t, t + hold, entry, exit_, points, gross, fees,
                                     gross - fees))
        net += gross - fees
        equity.append((t + hold, net))
        t += hold
        price = exit_
    latency = LatencyRecorder()
    n = 5000
    for stage, median_ns, sigma in (("callback_to_ring", 2_000, 0.6), ("ring_to_features", 6_000, 0.4),
                                    ("prediction", 30_000, 0.3), ("decision_wake", 15_000, 0.8),
                                    ("signal", 8_000, 0.4)):
        latency.add_many(stage, rng.lognormal(np.log(median_ns), sigma, n).astype(np.int64))
    for stage, median_ns, sigma in (("risk", 5_000, 0.4), ("order_sent", 60_000, 0.5),
                                    ("tick_to_order", 180_000, 0.5), ("ack", 4_000_000, 0.7)):
        latency.add_many(stage, rng.lognormal(np.log(median_ns), sigma, 2 * len(trips)).astype(np.int64))
    gross_total = sum((tr.gross_brl for tr in trips), Decimal(0))
    fees_total = sum((tr.fees_brl for tr in trips), Decimal(0))
    return SessionResult(
        name="synthetic WDO backtest", venue="backtest", tickers=["WDOF26"], start_ns=open_ns,
        end_ns=open_ns + length_ns, round_trips=trips, equity=equity, gross_brl=gross_total,
        fees_brl=fees_total, net_brl=net, tax_estimate_brl=max(Decimal(0), net * Decimal("0.2")).quantize(
            Decimal("0.01")),
        decisions=n, orders=2 * len(trips) + 3, fills=2 * len(trips),
        denials={"max_position": int(rng.integers(0, 30)), "order_rate": int(rng.integers(0, 5)), "phase": 2},
        latency=latency, counters={"ring_dropped": 0, "book_suspect_decisions": int(rng.integers(0, 3)),
                                   "callback_errors": 0},
        days=[day.isoformat()], capital_brl=Decimal("50000"), price_unit={"WDOF26": Decimal("0.5")},
    )


def synthetic_report(out_dir: Path, days: int = 2, seed: int = 11) -> Path:
    """Write the synthetic report into ``out_dir``; returns its report.html."""
    first = dt.date(2025, 12, 1)
    results = [synthetic_day(first + dt.timedelta(days=i), seed + i) for i in range(days)]
    return write_report(merge_results(results), out_dir)["report.html"]


def find_browser(name: str | None) -> str:
    for candidate in (name,) if name else BROWSERS:
        path = shutil.which(candidate) if candidate else None
        if path:
            return path
    raise ShotError(f"no browser found ({name or ', '.join(BROWSERS)}): install Debian's chromium or give "
                    "--browser")


def _check_png(data: bytes, width: int, height: int) -> None:
    from io import BytesIO

    from matplotlib.image import imread

    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ShotError("the browser wrote no PNG")
    pixels = imread(BytesIO(data), format="png")
    if pixels.shape[1] != width or pixels.shape[0] != height:
        raise ShotError(f"the shot is {pixels.shape[1]}x{pixels.shape[0]}, not {width}x{height}")
    if float(pixels.reshape(-1, pixels.shape[-1]).std(axis=0).max()) < 1e-3:
        raise ShotError("the shot is one flat colour: the page did not render")


def screenshot(page: Path, out: Path, width: int = 1400, height: int = 2400, browser: str | None = None,
               timeout_s: float = 120.0) -> Path:
    """Shoot ``page`` into ``out`` (written aside, renamed); ShotError on failure."""
    check_output(out, [page])  # before the browser runs, not after
    exe = find_browser(browser)
    with tempfile.TemporaryDirectory(prefix="qt-shot-") as work:
        shot = Path(work) / "shot.png"
        cmd = [exe, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run",
               f"--user-data-dir={work}/profile", f"--screenshot={shot}", f"--window-size={width},{height}",
               page.resolve().as_uri()]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                                 env={**os.environ, "HOME": work})
        except subprocess.TimeoutExpired:
            raise ShotError(f"{exe} did not finish in {timeout_s:.0f} s") from None
        if run.returncode != 0 or not shot.exists():
            last = (run.stderr.strip().splitlines() or ["no message"])[-1]
            raise ShotError(f"{exe} failed (exit {run.returncode}): {last}")
        data = shot.read_bytes()
    _check_png(data, width, height)
    with atomic_output(out, [page]) as tmp:
        tmp.write_bytes(data)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("report", nargs="?", help="report.html, or the folder that holds it")
    parser.add_argument("--out", required=True, help="the PNG to write")
    parser.add_argument("--synthetic", metavar="DIR",
                        help="first write a synthetic report into DIR and shoot it")
    parser.add_argument("--window-size", default="1400,2400",
                        help="WIDTH,HEIGHT in pixels (default 1400,2400)")
    parser.add_argument("--browser", help=f"the browser to run (default: the first of {', '.join(BROWSERS)})")
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.window_size.split(","))
        if width < 100 or height < 100:
            raise ValueError
    except ValueError:
        parser.error(f"--window-size {args.window_size}: give WIDTH,HEIGHT, each at least 100")
    if (args.report is None) == (args.synthetic is None):
        parser.error("give a report or --synthetic DIR (one of them)")
    try:
        if args.synthetic:
            page = synthetic_report(Path(args.synthetic))
        else:
            page = Path(args.report)
            page = page / "report.html" if page.is_dir() else page
            if not page.is_file():
                raise ShotError(f"{args.report}: no report.html there")
        out = screenshot(page, Path(args.out), width, height, args.browser)
    except (ShotError, OutputPathError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    print(f"{out} ({width}x{height}) from {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
