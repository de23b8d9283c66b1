"""Which market-data format a file is, from its first lines, so that an
importer given the wrong file (or two files swapped) says so instead of
importing nothing or naming a ticker after a line of JSON.

The formats, by their rows (the importers' module docs have the details):
  * ``profit-csv``: 11 comma-separated fields (a header line has 11 too);
  * ``binance``: ``<receive ns> <JSON>``;
  * ``lobster-message``: 6 numeric fields ``time,type,order id,size,price,direction``;
  * ``lobster-orderbook``: 4 x levels integer fields ``ask,ask size,bid,bid size,...``.
A file's kind is the kind of most of its first non-blank lines (a few bad
rows do not change it), None when no line looks like any format."""

from __future__ import annotations

import os
import re
from collections import Counter

from quantumtrader.data.importers.input_file import InputFile

PROFIT_CSV = "profit-csv"
BINANCE = "binance"
LOBSTER_MESSAGE = "lobster-message"
LOBSTER_ORDERBOOK = "lobster-orderbook"

DESCRIPTIONS = {
    PROFIT_CSV: "a Profit tick export (`quantumtrader import profit-csv FILE`)",
    BINANCE: "a Binance capture (`quantumtrader import binance FILE`)",
    LOBSTER_MESSAGE: "a LOBSTER message file (`quantumtrader import lobster MESSAGE ORDERBOOK`)",
    LOBSTER_ORDERBOOK: "a LOBSTER orderbook file (`quantumtrader import lobster MESSAGE ORDERBOOK`)",
}

HEAD_BYTES = 1 << 20
HEAD_LINES = 20
_BINANCE_LINE = re.compile(rb"^\d+ \{")
_LOBSTER_MESSAGE = re.compile(rb"^\d+(\.\d+)?,\d+,-?\d+,-?\d+,-?\d+,-?1\r?$")
_INTEGER = re.compile(rb"^-?\d+$")
PROFIT_FIELDS = 11


def head_lines(path: str | os.PathLike[str], max_lines: int = HEAD_LINES) -> list[bytes]:
    """The first non-blank lines (BOM and line ends removed) of the first MiB."""
    with InputFile(path) as f:
        head = f.stream.read(HEAD_BYTES)
    lines = head.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    if len(head) == HEAD_BYTES:
        lines = lines[:-1]  # cut by the read
    return [ln.rstrip(b"\r") for ln in lines if ln.strip()][:max_lines]


def line_kind(line: bytes) -> str | None:
    if _BINANCE_LINE.match(line):
        return BINANCE
    if _LOBSTER_MESSAGE.match(line):
        return LOBSTER_MESSAGE
    fields = line.split(b",")
    if len(fields) % 4 == 0 and all(_INTEGER.match(f.strip()) for f in fields):
        return LOBSTER_ORDERBOOK
    if len(fields) == PROFIT_FIELDS:
        return PROFIT_CSV
    return None


def file_kind(path: str | os.PathLike[str]) -> str | None:
    """The kind of most of the first lines, None when none is recognised."""
    votes = Counter(k for k in map(line_kind, head_lines(path)) if k is not None)
    return votes.most_common(1)[0][0] if votes else None


def orderbook_levels(path: str | os.PathLike[str]) -> int:
    """Levels of a LOBSTER orderbook file (fields of its first line / 4)."""
    lines = head_lines(path, 1)
    return len(lines[0].split(b",")) // 4 if lines else 0


def what_it_looks_like(kind: str | None) -> str:
    return f"it looks like {DESCRIPTIONS[kind]}" if kind else "its lines match no format this tool reads"
