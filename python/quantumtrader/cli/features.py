"""``quantumtrader features INPUT --out FILE.parquet``: the feature table of an
event log or a Profit CSV export, one row per trade (``ts``, ``trade_number``,
the features of ``--set`` in spec order), computed by the same C drain loop as
live trading (:mod:`quantumtrader.features.job`).

Exit status: 0 done, 2 bad input or arguments (nothing written), 1 failed part
way (nothing written either: the table appears only when complete)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from quantumtrader.cli import arguments as arg
from quantumtrader.features.schema import FEATURE_SETS, schema_for

PROG = "quantumtrader features"


def add_features_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "features",
        help="compute the feature table (spec qt-features/1) of an event log or a Profit CSV export",
        description="Compute the features of every trade of an event log or a Profit CSV export "
        "(plain or gzip) into a Parquet table: ts, trade_number, then the features in spec order. "
        "Session hours come from the trading calendar (B3, America/Sao_Paulo) or the venue of an "
        "imported capture (Binance: the whole UTC day; LOBSTER: 09:30-16:00 America/New_York) unless "
        "given; the tick size from the input unless given.",
    )
    p.add_argument("input", help="event log (quantumtrader import/synth/record) or Profit CSV export")
    p.add_argument("--out", required=True, metavar="FILE.parquet",
                   help="feature table to write (never the input; replaced only when complete)")
    p.add_argument(
        "--set",
        dest="feature_set",
        choices=sorted(FEATURE_SETS),
        default="qt77",
        help="feature set (default qt77: the 65 model features and the 12 book features)",
    )
    p.add_argument("--session-open", metavar="HH:MM", help="regular-session open for every date")
    p.add_argument("--session-close", metavar="HH:MM", help="regular-session close for every date")
    p.add_argument("--timezone", metavar="ZONE",
                   help="tz database zone --session-open/--session-close are read in (default: the "
                   "venue's: America/Sao_Paulo for B3, UTC for Binance, America/New_York for LOBSTER)")
    p.add_argument("--tick-size", type=arg.positive, help="tick size (default: the log header's)")
    p.add_argument("--price-unit", type=arg.positive,
                   help="Profit CSV export: price unit of a ticker the calendar does not know (an event "
                   "log's prices are in its header's unit: a different value is refused)")
    p.add_argument("--allow-book-rejects", action="store_true",
                   help="write the table even when the book refused records (its book features are "
                   "then wrong from the first refusal); without it that is a failure, exit 1")
    p.set_defaults(func=run_features)


def _error(message: object) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def run_features(args: argparse.Namespace) -> int:
    # the engine and its C modules load here, not when the parser is built (--help stays fast)
    from quantumtrader.features.engine_setup import SessionSetupError
    from quantumtrader.features.job import (
        INPUT_ERRORS,
        FeaturesFailed,
        open_input,
        report_lines,
        set_up_engine,
        write_feature_table,
    )
    from quantumtrader.output_path import OutputPathError, is_output_error

    schema = schema_for(args.feature_set)
    try:
        source = open_input(args.input, args.out, args.price_unit, args.tick_size)
    except OutputPathError as e:
        _error(e)
        return 2
    except INPUT_ERRORS as e:
        _error(e)
        return 2
    try:
        try:
            job = set_up_engine(source, args.tick_size, args.session_open, args.session_close, args.timezone)
        except SessionSetupError as e:
            _error(e)
            return 2
        try:
            result = write_feature_table(source, job, args.out, schema, args.allow_book_rejects)
        except FeaturesFailed as e:
            _error(f"{e}; nothing written")
            return 1
        except INPUT_ERRORS as e:
            if is_output_error(e, args.out):  # the partial file's name would mean nothing to a user
                _error(f"cannot write {args.out}: {e.strerror or e} (nothing written)")
            else:
                _error(f"{e} (nothing written)")
            return 1
        print(f"features {args.input} ({source.kind}, {source.instrument}) -> {args.out}")
        for line in report_lines(source, schema, job, result):
            print(f"  {line}")
    finally:
        source.close()
    return 0
