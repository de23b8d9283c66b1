"""``quantumtrader import {profit-csv,binance,lobster}``: run an importer,
write its events into an event log with a progress bar, print a summary.

The log is written aside and renamed over ``--out`` only when the import
succeeded (``quantumtrader.output_path``): ``--out`` never names an input,
and a failed or interrupted import leaves no log (an existing one is kept).
An import fails when it has no trade and no book event, or when it loses
more than ``--max-bad-share`` of its data rows (default 0.1 %: bad rows,
not counting rows of another ticker than the one imported); a few bad rows
are reported and skipped.

Exit status: 0 when the import completed, 2 when an input cannot be read or
an argument is wrong (nothing read yet), 1 when the import failed (nothing
written)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any, Protocol

import numpy as np

from quantumtrader.data.importers.log_header import LogHeaderFields
from quantumtrader.data.importers.stats import DEFAULT_MAX_BAD_SHARE, DESELECTED_REASONS, ImportStats
from quantumtrader.output_path import OutputPathError, atomic_output, check_output, is_output_error
from quantumtrader.progress import progress_bar

PROG = "quantumtrader import"
# what a bad or unreadable input raises: reported as a message, never a traceback
INPUT_ERRORS = (OSError, EOFError, ValueError, zlib.error)


class Importer(Protocol):
    stats: ImportStats

    def header(self) -> LogHeaderFields: ...

    def events(self, progress: Callable[[int, int], None] | None = None) -> Iterator[np.ndarray]: ...


def add_import_parser(subparsers: Any) -> None:
    """Register ``import`` and its formats on the main parser's subparsers."""
    p = subparsers.add_parser(
        "import",
        help="convert a market-data file into an event log",
        description="Convert a market-data file into an event log (streamed, constant memory).",
    )
    formats = p.add_subparsers(dest="import_format", metavar="FORMAT", required=True)

    pc = formats.add_parser("profit-csv", help="Profit tick CSV export (plain or gzip)")
    pc.add_argument(
        "file", help="the export: ticker,date,time,trade_number,price,qty,vol,buyer,seller,type,aft"
    )
    pc.add_argument("--out", required=True, metavar="LOG", help="event log to write")
    pc.add_argument(
        "--agents",
        metavar="DICT.json",
        help="broker dictionary shared by several imports: read when the file exists (a JSON list of "
        "names, index = id, or an object name -> id), written back with the new names appended",
    )
    pc.add_argument("--ticker", type=_ticker, help="import only this ticker's rows (default: the first's)")
    pc.add_argument("--price-unit", type=_positive, help="price unit (default: trading calendar, WDO 0.5)")
    pc.add_argument("--tick-size", type=_positive, help="tick size (default: as the price unit source)")
    _common_options(pc)
    pc.set_defaults(func=run_profit_csv)

    bn = formats.add_parser("binance", help="Binance USD-M futures capture: '<recv ns> <json>' lines")
    bn.add_argument("file", help="the capture: '<receive ns> <JSON>' lines, plain or gzip")
    bn.add_argument("--out", required=True, metavar="LOG", help="event log to write")
    bn.add_argument(
        "--qty-scale",
        type=_power_of_ten(at_least_one=True),
        default=1000.0,
        help="integer qty = venue qty x this power of ten >= 1 (default 1000: 0.001 BTC)",
    )
    bn.add_argument(
        "--price-unit",
        type=_power_of_ten(at_least_one=False),
        default=None,
        help="price unit, a power of ten <= 1 (default: the data's price grid, the most decimals of a "
        "price in the first snapshot and the first 10,000 lines: 0.1 for BTCUSDT, 0.01 for ETHUSDT)",
    )
    _common_options(bn)
    bn.set_defaults(func=run_binance)

    lb = formats.add_parser("lobster", help="LOBSTER level-1 message + orderbook files")
    lb.add_argument("message", help="message file: time,type,order id,size,price,direction")
    lb.add_argument("orderbook", help="level-1 orderbook file: ask,ask size,bid,bid size")
    lb.add_argument("--out", required=True, metavar="LOG", help="event log to write")
    lb.add_argument("--date", type=_yyyymmdd, metavar="YYYYMMDD", help="trading date (default: file name)")
    lb.add_argument("--instrument", type=_ticker, help="ticker (default: from the file name)")
    _common_options(lb)
    lb.set_defaults(func=run_lobster)


def _common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-listed", type=_count, default=20, help="line numbers listed per bad-row reason")
    p.add_argument(
        "--max-bad-share",
        type=_share,
        default=DEFAULT_MAX_BAD_SHARE,
        metavar="F",
        help=f"the import fails (exit 1, nothing written) when more than this share of its data rows "
        f"is bad (default {DEFAULT_MAX_BAD_SHARE:g}, i.e. {DEFAULT_MAX_BAD_SHARE * 100:g} in 100; rows of "
        "another ticker are not counted)",
    )


# argument types: argparse names the flag in its one-line error ("argument --x: ...")


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {n})")
    return n


def _number(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"must be finite (got {text})")
    return x


def _positive(text: str) -> float:
    x = _number(text)
    if x <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 (got {text})")
    return x


def _share(text: str) -> float:
    x = _number(text)
    if not 0 <= x <= 1:
        raise argparse.ArgumentTypeError(f"must be a share between 0 and 1 (got {text})")
    return x


def _power_of_ten(*, at_least_one: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        x = _positive(text)
        k = round(math.log10(x))
        if not math.isclose(x, 10.0**k, rel_tol=1e-12):
            raise argparse.ArgumentTypeError(f"must be a power of ten (got {text})")
        if at_least_one and k < 0:
            raise argparse.ArgumentTypeError(f"must be 1 or more (got {text})")
        if not at_least_one and k > 0:
            raise argparse.ArgumentTypeError(f"must be 1 or less (got {text})")
        return x

    return parse


def _yyyymmdd(text: str) -> int:
    import datetime as dt

    try:
        day = dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYYMMDD: {text!r}") from None
    return day.year * 10000 + day.month * 100 + day.day


def _ticker(text: str) -> str:
    from quantumtrader.qtcore.evlog import INSTRUMENT_MAX_BYTES

    name = text.strip()
    if not name or len(name.encode()) > INSTRUMENT_MAX_BYTES or "," in name:
        raise argparse.ArgumentTypeError(
            f"a ticker is 1 to {INSTRUMENT_MAX_BYTES} bytes without a comma (got {text!r})"
        )
    return name


def _describe(e: BaseException) -> str:
    if isinstance(e, OSError) and e.filename and e.strerror:
        return f"{e.filename}: {e.strerror}"
    return str(e)


def _error(msg: str | BaseException) -> None:
    print(f"{PROG}: error: {msg if isinstance(msg, str) else _describe(msg)}", file=sys.stderr)


def read_agent_dictionary(path: str) -> list[str]:
    """A broker dictionary file: a JSON list of names (index = id) or an
    object name -> id with ids 0..n-1."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, list) and all(isinstance(n, str) for n in data):
        return data
    if isinstance(data, dict) and all(isinstance(n, str) and isinstance(i, int) for n, i in data.items()):
        names = sorted(data, key=data.__getitem__)
        if [data[n] for n in names] != list(range(len(names))):
            raise ValueError(f"{path}: broker ids must be 0..{len(names) - 1}, each once")
        return names
    raise ValueError(f"{path}: expected a JSON list of broker names or an object name -> id")


def write_agent_dictionary(path: str, names: list[str]) -> None:
    """Replace ``path`` atomically with the dictionary as a JSON list."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".agents-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(names, f, ensure_ascii=False, indent=0)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class ImportFailed(Exception):
    """The import ran but its result is not worth a log (see the module doc)."""


def import_verdict(stats: ImportStats, max_bad_share: float, hint: str = "") -> str | None:
    """Why the import failed, or None when its log may be kept; ``hint``
    (what to check) follows the reason of too many bad rows."""
    if stats.trades == 0 and stats.book_events == 0:
        return f"no trade and no book event in {stats.rows:,} data rows"
    if stats.lost_share > max_bad_share:
        lost = {r: n for r, n in stats.bad_by_reason.items() if r not in DESELECTED_REASONS}
        worst = max(lost.items(), key=lambda kv: kv[1])
        return (
            f"{stats.lost_rows:,} of {stats.rows:,} data rows are bad ({stats.lost_share:.2%}, more than the "
            f"{max_bad_share:.2%} of --max-bad-share), most of them {worst[0]}{hint}"
        )
    return None


def write_import_log(
    title: str,
    importer: Importer,
    out: str,
    agents: list[str] | None,
    inputs: list[str],
    max_bad_share: float = DEFAULT_MAX_BAD_SHARE,
    hint: str = "",
) -> int:
    """Import into ``out`` (written aside, renamed when the import succeeded).
    ``hint`` is added to the message of an import that lost too many rows."""
    from quantumtrader.data.eventlog import EventLogHeader, EventLogWriter

    fields = importer.header()
    header = EventLogHeader(**asdict(fields), agents=list(agents or []))
    try:
        with progress_bar(title, None, unit="bytes") as show, atomic_output(out, inputs) as partial:
            with EventLogWriter(partial, header) as writer:
                for chunk in importer.events(show):
                    writer.append(chunk)
                if agents is not None:
                    writer.set_agents(agents)
            why = import_verdict(importer.stats, max_bad_share, hint)
            if why is not None:
                raise ImportFailed(why)
    except OutputPathError as e:
        _error(e)
        return 2
    except ImportFailed as e:
        _print_summary(f"{title}: failed", importer.stats)  # what was found; stderr: one line
        _error(f"{title}: {e}: nothing written to {out}")
        return 1
    except INPUT_ERRORS as e:
        if is_output_error(e, out):  # the partial file's name would mean nothing to a user
            _error(f"cannot write {out}: {e.strerror or e}")
        else:
            _error(f"{_describe(e)}: nothing written to {out}")
        return 1
    _print_summary(f"{title} -> {out}", importer.stats)
    return 0


def _print_summary(heading: str, stats: ImportStats) -> None:
    print(heading)
    for line in stats.summary_lines():
        print(f"  {line}")


def _check_out(out: str, inputs: list[str]) -> bool:
    """Refuse a bad --out before reading anything (a message, exit 2)."""
    try:
        check_output(out, inputs)
    except OutputPathError as e:
        _error(e)
        return False
    return True


def run_profit_csv(args: argparse.Namespace) -> int:
    from quantumtrader.data.importers.profit_csv import ProfitCsvImporter

    inputs = [args.file] + ([args.agents] if args.agents else [])
    if not _check_out(args.out, inputs):
        return 2
    try:
        seed = read_agent_dictionary(args.agents) if args.agents and os.path.exists(args.agents) else []
        importer = ProfitCsvImporter(
            args.file,
            agents=seed,
            ticker=args.ticker,
            price_unit=args.price_unit,
            tick_size=args.tick_size,
            max_listed=args.max_listed,
        )
    except INPUT_ERRORS as e:
        _error(e)
        return 2
    # the dictionary is filled as the import goes: pass the live list
    status = write_import_log(
        f"profit-csv {args.file}", importer, args.out, importer.agents, inputs, args.max_bad_share,
        hint=f" (price unit {importer.grid.price_unit:g}: see --price-unit)",
    )
    if status == 0 and args.agents:
        try:
            write_agent_dictionary(args.agents, importer.agents)
        except OSError as e:
            _error(f"cannot write the broker dictionary: {_describe(e)}")
            return 1
        new = len(importer.agents) - len(seed)
        print(f"  brokers         {len(importer.agents):,} in {args.agents} ({new:,} new)")
    return status


def run_binance(args: argparse.Namespace) -> int:
    from quantumtrader.data.importers.binance import BinanceImporter

    if not _check_out(args.out, [args.file]):
        return 2
    try:
        importer = BinanceImporter(
            args.file, qty_scale=args.qty_scale, price_unit=args.price_unit, max_listed=args.max_listed
        )
    except INPUT_ERRORS as e:
        _error(e)
        return 2
    origin = "given" if importer.price_unit_origin == "option" else "from the data"
    status = write_import_log(
        f"binance {args.file}", importer, args.out, None, [args.file], args.max_bad_share,
        hint=f" (price unit {importer.price_unit:g} {origin}: see --price-unit; qty scale "
        f"{importer.qty_scale:g}: see --qty-scale)",
    )
    if status == 0:
        print(f"  price unit      {importer.price_unit:g} ({origin})")
    return status


def run_lobster(args: argparse.Namespace) -> int:
    from quantumtrader.data.importers.lobster import LobsterImporter

    if not _check_out(args.out, [args.message, args.orderbook]):
        return 2
    try:
        importer = LobsterImporter(
            args.message,
            args.orderbook,
            date=args.date,
            instrument=args.instrument,
            max_listed=args.max_listed,
        )
    except INPUT_ERRORS as e:
        _error(e)
        return 2
    inputs = [args.message, args.orderbook]
    return write_import_log(f"lobster {args.message}", importer, args.out, None, inputs, args.max_bad_share)
