"""Reader of a Profit tick CSV export into the trade stream of ``qt-features/1``.

Tests-only: it feeds the reference implementation and the golden check.  Format
(``profitdll.md``, last section): ``ticker,date,time,trade_number,price,qty,vol,
buy_agent,sell_agent,trade_type,aft`` with local date ``YYYYMMDD`` and time
``HHMMSS``."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

TRADE_TYPE_CODES = {
    "cross": 1,
    "aggressorbuyer": 2,
    "aggressorseller": 3,
    "auction": 4,
    "surveillance": 5,
    "expit": 6,
    "optionexercise": 7,
    "overthecounter": 8,
    "derivativeterm": 9,
    "index": 10,
    "btc": 11,
    "onbehalf": 12,
    "rlp": 13,
}
UNKNOWN_TRADE_TYPE = 32


def trade_type_code(word: str) -> int:
    """Export word to ProfitDLL code, ignoring case, spaces, '_' and '-'; any other word is 32."""
    key = word.strip().lower().replace(" ", "").replace("_", "").replace("-", "")
    return TRADE_TYPE_CODES.get(key, UNKNOWN_TRADE_TYPE)


@dataclass(frozen=True)
class ExportTrade:
    ts: int  # ns UTC
    trade_number: int
    price: float
    qty: int
    buy_agent: int
    sell_agent: int
    trade_type: int


@dataclass(frozen=True)
class ExportStream:
    trades: list[ExportTrade]
    agent_ids: dict[str, int]  # one dictionary for buyers and sellers
    after_hours_dropped: int


def local_to_utc_ns(local_date: str, local_time: str, tz: ZoneInfo) -> int:
    """``YYYYMMDD`` + ``HHMMSS`` local wall-clock time to int ns UTC; an ambiguous local
    time takes the earlier reading (fold=0)."""
    local = datetime.strptime(local_date + local_time.zfill(6), "%Y%m%d%H%M%S").replace(tzinfo=tz, fold=0)
    return int(local.timestamp()) * 1_000_000_000


def read_profit_export(path: str | Path, tz: str = "America/Sao_Paulo") -> ExportStream:
    zone = ZoneInfo(tz)
    rows: list[tuple[str, str, int, list[str]]] = []
    dropped = 0
    with open(path, newline="", encoding="utf-8") as handle:
        for line_number, row in enumerate(csv.reader(handle), start=1):
            if not row:
                continue
            if len(row) != 11:
                raise ValueError(f"{path}:{line_number}: expected 11 fields, got {len(row)}")
            if row[10].strip().upper() == "S":
                dropped += 1  # after-market trades are not part of the stream
                continue
            rows.append((row[1], row[2].zfill(6), int(row[3]), row))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))  # (date, time, trade_number)

    agent_ids: dict[str, int] = {}

    def agent_id(name: str) -> int:
        return agent_ids.setdefault(name, len(agent_ids) + 1)

    trades = [
        ExportTrade(
            ts=local_to_utc_ns(row[1], row[2], zone),
            trade_number=trade_number,
            price=float(row[4]),
            qty=int(row[5]),
            buy_agent=agent_id(row[7]),
            sell_agent=agent_id(row[8]),
            trade_type=trade_type_code(row[9]),
        )
        for _date, _time, trade_number, row in rows
    ]
    return ExportStream(trades, agent_ids, dropped)
