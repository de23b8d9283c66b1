"""``quantumtrader import {profit-csv,binance,lobster}``: parse the format's
arguments, build its importer and run the import job
(:func:`quantumtrader.data.importers.job.write_import_log`: written aside,
renamed over ``--out`` only when the import succeeded).

Exit status: 0 when the import completed, 2 when an input cannot be read or
an argument is wrong (nothing read yet), 1 when the import failed (nothing
written)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from quantumtrader.cli import arguments as arg
from quantumtrader.data.importers.job import (
    INPUT_ERRORS,
    describe_error,
    print_error,
    read_agent_dictionary,
    write_agent_dictionary,
    write_import_log,
)
from quantumtrader.data.importers.stats import DEFAULT_MAX_BAD_SHARE
from quantumtrader.output_path import OutputPathError, check_output


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
    pc.add_argument("--ticker", type=arg.ticker, help="import only this ticker's rows (default: the first's)")
    pc.add_argument("--price-unit", type=arg.positive, help="price unit (default: trading calendar, WDO 0.5)")
    pc.add_argument("--tick-size", type=arg.positive, help="tick size (default: as the price unit source)")
    _common_options(pc)
    pc.set_defaults(func=run_profit_csv)

    bn = formats.add_parser("binance", help="Binance USD-M futures capture: '<recv ns> <json>' lines")
    bn.add_argument("file", help="the capture: '<receive ns> <JSON>' lines, plain or gzip")
    bn.add_argument("--out", required=True, metavar="LOG", help="event log to write")
    bn.add_argument(
        "--qty-scale",
        type=arg.power_of_ten(at_least_one=True),
        default=1000.0,
        help="integer qty = venue qty x this power of ten >= 1 (default 1000: 0.001 BTC)",
    )
    bn.add_argument(
        "--price-unit",
        type=arg.power_of_ten(at_least_one=False),
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
    lb.add_argument("--date", type=arg.yyyymmdd, metavar="YYYYMMDD", help="trading date (default: file name)")
    lb.add_argument("--instrument", type=arg.ticker, help="ticker (default: from the file name)")
    _common_options(lb)
    lb.set_defaults(func=run_lobster)


def _common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-listed", type=arg.count, default=20, help="line numbers listed per bad-row reason")
    p.add_argument(
        "--max-bad-share",
        type=arg.share,
        default=DEFAULT_MAX_BAD_SHARE,
        metavar="F",
        help=f"the import fails (exit 1, nothing written) when more than this share of its data rows "
        f"is bad (default {DEFAULT_MAX_BAD_SHARE:g}, i.e. {DEFAULT_MAX_BAD_SHARE * 100:g} in 100; rows of "
        "another ticker are not counted)",
    )


def _check_out(out: str, inputs: list[str]) -> bool:
    """Refuse a bad --out before reading anything (a message, exit 2)."""
    try:
        check_output(out, inputs)
    except OutputPathError as e:
        print_error(e)
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
        print_error(e)
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
            print_error(f"cannot write the broker dictionary: {describe_error(e)}")
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
        print_error(e)
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
        print_error(e)
        return 2
    inputs = [args.message, args.orderbook]
    return write_import_log(f"lobster {args.message}", importer, args.out, None, inputs, args.max_bad_share)
