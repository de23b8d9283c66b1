"""The demo (``quantumtrader demo``): a tour of the data half on its embedded defaults, end to end
through the pieces that exist: a seeded synthetic WDO session is generated
into an event log, read back (memory-mapped, checksums verified) and replayed
through the C order book, the book and trade statistics are printed, and the
C feature engine computes the 77 features of every trade from the same log
(the numbers a model trains on and trades with), with a check that the
planted order-flow signal shows in them.

With ``--real DIR`` the real captures found there (the Binance futures and
LOBSTER files of ``shared/data/real``) are imported and replayed the same way.

Exit status: 0 when every market replayed consistently, 1 when one did not
(a refused book record or a crossed book; for the synthetic market also a
trade outside the touch) or a capture could not be imported, 2 on bad
arguments."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from quantumtrader.data.audit import AuditReport, audit_event_log, report_table
from quantumtrader.data.eventlog import EventLogError
from quantumtrader.data.events import EventType
from quantumtrader.output_path import OutputPathError

DEFAULT_SEED = 7
DEFAULT_SIGNAL = 1.0  # the market the default model was trained on (models/README.md)
DEFAULT_TRADES_PER_DAY = 6000
DEFAULT_DAYS = 1

BINANCE_CAPTURE = "binance-usdm-btcusdt-*.gz"
LOBSTER_MESSAGE = "lobster-*-message.csv"


def run_demo_job(workdir: Path, *, seed: int = DEFAULT_SEED, days: int = DEFAULT_DAYS,
                 signal: float = DEFAULT_SIGNAL, real: Path | None = None, keep: bool = False) -> int:
    """The demo in ``workdir`` (an existing, writable folder), reported on the
    console; its exit status (see the module doc).  ``keep``: say where the
    logs were kept."""
    from quantumtrader.data.synth import write_synthetic_log

    console = Console()
    reports: list[AuditReport] = []
    log = workdir / f"synth-wdo-seed{seed}.qtlog"
    t0 = time.perf_counter()
    try:
        with console.status(f"generating {days} synthetic session(s)") as status:
            summary = write_synthetic_log(
                log, days, seed, signal, trades_per_day=DEFAULT_TRADES_PER_DAY,
                progress=lambda done, total: status.update(f"generating synthetic sessions: {done}/{total}"),
            )
    except OutputPathError:  # the log's name is taken by a folder
        print(f"quantumtrader demo: error: cannot write {log}: a folder has that name", file=sys.stderr)
        return 1
    except OSError as e:  # e.g. the disk filled up: nothing half-written is left
        print(f"quantumtrader demo: error: cannot write {log}: {e.strerror or e}", file=sys.stderr)
        return 1
    except ValueError as e:  # the generator refused an argument: its message says which
        print(f"quantumtrader demo: error: {e}", file=sys.stderr)
        return 2
    t1 = time.perf_counter()
    report = audit_event_log(log)
    t2 = time.perf_counter()
    console.print(report_table(report, title=f"synthetic WDOFUT, seed {seed}, signal {signal:g}, "
                                              f"{summary.days} session(s)"))
    console.print(f"generated in {t1 - t0:.2f} s; replayed {report.stats['records']:,} records through "
                  f"the book in {(t2 - t1) * 1e3:.1f} ms ({report.stats['records'] / (t2 - t1) / 1e6:.1f}M "
                  f"records/s, log read and checksums included)")
    reports.append(report)
    console.print(_feature_table(log))
    model_failed = _model_report(log, console)

    failed = 0
    if real is not None:
        real, failed = _real_captures(real, workdir, console)
        reports += real

    if keep:
        console.print(f"event logs kept in {workdir}")
    # the synthetic market must be consistent in every respect; a real capture's book must
    # never cross, but its trades may print beyond a book stream that is batched
    bad = [r for r in reports[:1] if not r.consistent] + [r for r in reports[1:] if not r.book_consistent]
    for r in bad:
        console.print(f"[red]inconsistent market in {r.path}[/red]")
    return 1 if bad or failed or model_failed else 0


def _model_report(log: Path, console: Console) -> bool:
    """The default model on this fresh day: its compiled ensemble at its own
    decision points, the spread of its probabilities, and how its signal did.
    Returns True when the model could not run (a broken bundle or no compiler)."""
    from quantumtrader.models.bundle import BundleError, ModelBundle, default_bundle_dir
    from quantumtrader.models.dataset import TrainingDataError, extract_rows
    from quantumtrader.models.validation import validate_bundle

    try:
        bundle = ModelBundle.load(default_bundle_dir())
        with console.status("the default model: compiling it for this machine on first use, then predicting"):
            bundle.ensemble()
            v = validate_bundle(bundle, [extract_rows(str(log))])
    except (BundleError, TrainingDataError, ValueError) as e:
        print(f"quantumtrader demo: error: the default model: {e}", file=sys.stderr)
        return True
    console.print(model_table(bundle, v))
    return False


def model_table(bundle: Any, v: Any) -> Table:
    from quantumtrader.models.classes import CLASSES

    proba = v.proba[np.isfinite(v.proba).all(axis=1)]
    overall, trading = v.result["overall"], v.result["overall"]["trading"]
    t = bundle.training
    table = Table(title=f"the default model out of sample (models/default: {t['instrument_root']}, "
                  f"trained on {t['first_date']}..{t['last_date']}, compiled ensemble in C)",
                  title_justify="left")
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    s = v.result["samples"]
    table.add_row("decision points", f"{s['decision_points']:,} by its sampler "
                  f"({bundle.sampler.get('kind')}); {len(proba):,} predicted")
    for i, name in enumerate(CLASSES):
        p = proba[:, i]
        table.add_row(f"P({name})", f"mean {p.mean():.3f}  sd {p.std():.3f}  5-95% {np.quantile(p, 0.05):.3f}"
                      f"-{np.quantile(p, 0.95):.3f}")
    table.add_row("accuracy vs class prior", f"{overall['accuracy']:.1%} vs {overall['prior']:.1%}")
    pnl = trading.get("net_pnl_brl")
    table.add_row("signal traded (B3 costs)",
                  f"{trading['trades']} trades, win rate {(trading.get('win_rate') or 0):.1%}, net "
                  f"{'n/a' if pnl is None else f'{pnl:,.2f}'} {trading.get('currency', 'BRL')}")
    return table


def _feature_table(log: Path) -> Table:
    """The feature engine over the log: rate, NaN share per group, and the rank correlation of
    order-flow imbalance with the next five minutes' return (the planted signal)."""
    from quantumtrader.data.eventlog import read_event_log
    from quantumtrader.features import QT77_NAMES
    from quantumtrader.features.engine_setup import build_engine

    with read_event_log(log) as ev_log:
        h = ev_log.header
        engine, _ = build_engine(h.instrument, h.price_unit, h.tick_size, h.qty_scale)
        events = ev_log.events
        t0 = time.perf_counter()
        ts, trade_number, matrix = engine.run(events)
        seconds = time.perf_counter() - t0
        # the price of each row's trade (edits and invalid trades make no row)
        trades = events[events["type"] == EventType.TRADE]
        order = np.argsort(trades["ref"], kind="stable")
        at = order[np.searchsorted(trades["ref"], trade_number, sorter=order)]
        prices = trades["price"][at].astype(np.float64)

    table = Table(title="features (qt-features/1, C engine)", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    table.add_row("vectors", f"{len(ts):,} x {matrix.shape[1]} ({len(ts) / seconds / 1e6:.2f}M trades/s "
                  "with the book events, one core)")
    nan_share = np.isnan(matrix).mean(axis=0)
    table.add_row("features never NaN", f"{int(np.count_nonzero(nan_share == 0))} of {len(QT77_NAMES)}")
    table.add_row("most NaN", ", ".join(f"{QT77_NAMES[i]} {nan_share[i]:.1%}"
                                        for i in np.argsort(nan_share)[::-1][:3]))
    ic = _signal_check(ts, prices, matrix[:, QT77_NAMES.index("order_flow_imbalance_100")])
    table.add_row("rank corr(order_flow_imbalance_100, next 5 min return)", f"{ic:+.3f}")
    return table


def _signal_check(ts: np.ndarray, prices: np.ndarray, feature: np.ndarray,
                  horizon_ns: int = 300 * 10**9) -> float:
    """Spearman correlation of a feature with the return to the last trade ``horizon_ns`` later."""
    ahead = np.searchsorted(ts, ts + horizon_ns, side="right") - 1
    ok = (ahead > np.arange(len(ts))) & np.isfinite(feature) & (ts[ahead] - ts >= horizon_ns // 2)
    if np.count_nonzero(ok) < 100:
        return math.nan
    fwd = prices[ahead[ok]] / prices[ok] - 1.0
    a = np.argsort(np.argsort(feature[ok]))
    b = np.argsort(np.argsort(fwd))
    return float(np.corrcoef(a, b)[0, 1])


def _real_captures(folder: Path, workdir: Path, console: Console) -> tuple[list[AuditReport], int]:
    """Import and replay each capture; returns the reports and how many could not be read."""
    from quantumtrader.data.importers.binance import BinanceImporter
    from quantumtrader.data.importers.job import INPUT_ERRORS, write_import_log
    from quantumtrader.data.importers.lobster import LobsterImporter

    jobs: list[tuple[str, Any, Path, list[Path]]] = []
    for path in sorted(folder.glob(BINANCE_CAPTURE)):
        out = workdir / f"{path.stem}.qtlog"
        jobs.append((f"binance {path.name}", lambda p=path: BinanceImporter(p), out, [path]))
    for message in sorted(folder.glob(LOBSTER_MESSAGE)):
        book = message.with_name(message.name.replace("-message.csv", "-orderbook.csv"))
        if book.exists():
            jobs.append((f"lobster {message.name}", lambda m=message, b=book: LobsterImporter(m, b),
                         workdir / f"{message.stem}.qtlog", [message, book]))
    if not jobs:
        console.print(f"[yellow]no Binance or LOBSTER capture found in {folder}[/yellow]")
    reports = []
    failed = 0
    for title, make, out, inputs in jobs:
        try:
            if write_import_log(title, make(), str(out), None, [str(p) for p in inputs]) != 0:
                failed += 1  # write_import_log has printed why
                continue
            report = audit_event_log(out)
        except (*INPUT_ERRORS, EventLogError) as exc:
            console.print(f"[red]{title}: {exc}[/red]")
            failed += 1
            continue
        console.print(report_table(report))
        reports.append(report)
    return reports, failed
