"""``quantumtrader import {profit-csv,binance,lobster}``: run an importer,
write its events into an event log with a progress bar, print a summary.

Exit status: 0 when the import completed (bad rows are reported, not
fatal), 2 when an input cannot be read or an argument is wrong before any
output, 1 when the import failed part way (the log is then incomplete)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any, Protocol

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from quantumtrader.importers.log_header import LogHeaderFields
from quantumtrader.importers.stats import ImportStats

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
    pc.add_argument("--ticker", help="import only this ticker's rows (default: the first row's)")
    pc.add_argument("--price-unit", type=float, help="price unit (default: trading calendar, WDO 0.5, WIN 5)")
    pc.add_argument("--tick-size", type=float, help="tick size (default: as the price unit source)")
    pc.add_argument("--max-listed", type=_count, default=20, help="line numbers listed per bad-row reason")
    pc.set_defaults(func=run_profit_csv)

    bn = formats.add_parser("binance", help="Binance USD-M futures capture: '<recv ns> <json>' lines")
    bn.add_argument("file")
    bn.add_argument("--out", required=True, metavar="LOG")
    bn.add_argument(
        "--qty-scale",
        type=float,
        default=1000.0,
        help="integer qty = venue qty x this power of ten (default 1000: 0.001 BTC)",
    )
    bn.add_argument("--price-unit", type=float, default=0.1, help="price unit, a power of ten (default 0.1)")
    bn.add_argument("--max-listed", type=_count, default=20)
    bn.set_defaults(func=run_binance)

    lb = formats.add_parser("lobster", help="LOBSTER level-1 message + orderbook files")
    lb.add_argument("message")
    lb.add_argument("orderbook")
    lb.add_argument("--out", required=True, metavar="LOG")
    lb.add_argument("--date", type=int, metavar="YYYYMMDD", help="trading date (default: from the file name)")
    lb.add_argument("--instrument", help="ticker (default: from the file name)")
    lb.add_argument("--max-listed", type=_count, default=20)
    lb.set_defaults(func=run_lobster)


def _count(text: str) -> int:
    n = int(text)
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {n})")
    return n


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


def write_import_log(title: str, importer: Importer, out: str, agents: list[str] | None) -> int:
    try:
        from quantumtrader.eventlog import EventLogHeader, EventLogWriter
    except ImportError as e:
        _error(f"the event-log module is not available ({e})")
        return 2
    fields = importer.header()
    header = EventLogHeader(**asdict(fields), agents=list(agents or []))
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task(title, total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            with EventLogWriter(out, header) as writer:
                for chunk in importer.events(progress):
                    writer.append(chunk)
                if agents is not None:
                    writer.set_agents(agents)
    except INPUT_ERRORS as e:
        _error(f"{_describe(e)} ({out} is incomplete)")
        return 1
    print(f"{title} -> {out}")
    for line in importer.stats.summary_lines():
        print(f"  {line}")
    return 0


def run_profit_csv(args: argparse.Namespace) -> int:
    from quantumtrader.importers.profit_csv import ProfitCsvImporter

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
    status = write_import_log(f"profit-csv {args.file}", importer, args.out, importer.agents)
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
    from quantumtrader.importers.binance import BinanceImporter

    try:
        importer = BinanceImporter(
            args.file, qty_scale=args.qty_scale, price_unit=args.price_unit, max_listed=args.max_listed
        )
    except INPUT_ERRORS as e:
        _error(e)
        return 2
    return write_import_log(f"binance {args.file}", importer, args.out, None)


def run_lobster(args: argparse.Namespace) -> int:
    from quantumtrader.importers.lobster import LobsterImporter

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
    return write_import_log(f"lobster {args.message}", importer, args.out, None)
