"""The trading journal: one SQLite file per trading session holding the
decisions, risk denials, orders (intent first), every order update as it
came, fills, position marks and reconciliation reports.

Contract:
- An order's intent row is committed *before* SendOrder is called; its
  ``INTEGER PRIMARY KEY`` is the order's internal id.  The local id and the
  ClOrdID are bound to it when known (the ClOrdID is the permanent key: the
  local id lives for one DLL session only).
- Every order update is journaled as it is applied, also the ones that change
  nothing (out of order, unknown order): ``order_events.applied`` says which.
- Durability: WAL mode with ``synchronous=NORMAL``; each write (or each
  :meth:`transaction`) is committed before the call returns, so a committed
  row survives a kill -9 of the process at any moment.  It does NOT survive a
  power loss or an OS crash of the last transactions (NORMAL does not fsync
  the WAL on each commit); that is the trade of latency we make.
- One connection, used from the runner's serialised calls
  (``check_same_thread=False``); not thread-safe by itself.  One process at
  a time: an exclusive lock on ``<journal>.lock`` (released by the OS when
  the process dies) refuses a second opener with one line.
- ``meta`` holds the schema version and the session name: a journal written
  by a newer schema, or for another session, is refused with a one-line
  :class:`JournalError`, and so is a file that is not a journal."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from typing import IO, Any

from quantumtrader.execution.orders import (
    Fill,
    Order,
    OrderPurpose,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)

__all__ = ["SCHEMA_VERSION", "Journal", "JournalError"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
    decision_id INTEGER, ticker TEXT, trade_number INTEGER, exch_ns INTEGER,
    p_sell REAL, p_hold REAL, p_buy REAL, consensus TEXT, action TEXT, reason TEXT,
    features BLOB);
CREATE TABLE IF NOT EXISTS denials (
    id INTEGER PRIMARY KEY, ticker TEXT, side INTEGER, quantity INTEGER, order_type INTEGER,
    purpose TEXT, price INTEGER, stop_price INTEGER, decision_id INTEGER, parent_id INTEGER,
    reason TEXT NOT NULL, detail TEXT, exch_ns INTEGER);
CREATE TABLE IF NOT EXISTS orders (
    internal_id INTEGER PRIMARY KEY, ticker TEXT NOT NULL, side INTEGER NOT NULL,
    order_type INTEGER NOT NULL, purpose TEXT NOT NULL, req_quantity INTEGER NOT NULL,
    req_price INTEGER, req_stop_price INTEGER, decision_id INTEGER, parent_id INTEGER,
    exch_ns INTEGER, created_wall_ns INTEGER NOT NULL,
    status INTEGER NOT NULL, local_id INTEGER, cl_ord_id TEXT, quantity INTEGER NOT NULL,
    price INTEGER, stop_price INTEGER, cum_qty INTEGER NOT NULL DEFAULT 0,
    leaves_qty INTEGER NOT NULL DEFAULT 0, avg_price REAL NOT NULL DEFAULT 0,
    last_event_id INTEGER NOT NULL DEFAULT 0, sent_wall_ns INTEGER, acked_wall_ns INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0, text TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS orders_cl ON orders(cl_ord_id);
CREATE TABLE IF NOT EXISTS order_events (
    id INTEGER PRIMARY KEY, internal_id INTEGER, local_id INTEGER, cl_ord_id TEXT,
    event_id INTEGER, status INTEGER, quantity INTEGER, cum_qty INTEGER, leaves_qty INTEGER,
    avg_price REAL, price REAL, stop_price REAL, exch_ns INTEGER, recv_ns INTEGER,
    applied INTEGER NOT NULL, note TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS order_actions (
    id INTEGER PRIMARY KEY, internal_id INTEGER NOT NULL, action TEXT NOT NULL,
    quantity INTEGER, price INTEGER, stop_price INTEGER, wall_ns INTEGER, result TEXT);
CREATE TABLE IF NOT EXISTS fills (
    id INTEGER PRIMARY KEY, internal_id INTEGER NOT NULL, ticker TEXT NOT NULL, side INTEGER NOT NULL,
    quantity INTEGER NOT NULL, price INTEGER NOT NULL, exch_ns INTEGER, event_id INTEGER,
    fee_brl TEXT NOT NULL DEFAULT '0', source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (
    id INTEGER PRIMARY KEY, ticker TEXT NOT NULL, position INTEGER NOT NULL, source TEXT NOT NULL,
    exch_ns INTEGER);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, text TEXT NOT NULL, wall_ns INTEGER);
"""


class JournalError(ValueError):
    """The journal cannot be used (one line: which file and why)."""


def _opt_int(v: Any) -> int | None:
    return None if v is None else int(v)


def _exclusive(lock_path: str) -> IO[bytes]:
    """An exclusive lock on ``lock_path`` for as long as the returned file is
    open (the OS drops it when the process dies, kill -9 included)."""
    try:
        f = open(lock_path, "a+b")  # noqa: SIM115 - held open: it is the lock
    except OSError as e:
        raise JournalError(f"{lock_path}: cannot create the journal's lock ({e.strerror})") from None
    try:
        if os.name == "nt":
            import msvcrt

            f.seek(0)  # every process locks the same first byte
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise JournalError(f"{lock_path[:-5]}: journal in use by another process (two runners on one "
                           f"journal would trade twice)") from None
    return f


class Journal:
    def __init__(self, path: str | os.PathLike, *, session: str) -> None:
        self.path = os.fspath(path)
        self.session = session
        self._db: sqlite3.Connection | None = None
        self._lock: IO[bytes] | None = None
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            have = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as e:
            if self._db is not None:
                self._db.close()
            raise JournalError(f"{self.path}: not a journal, or cannot be opened ({e})") from None
        if have and "meta" not in have:  # checked before any pragma writes to the user's file
            self._db.close()
            raise JournalError(f"{self.path}: an SQLite file that is not a trading journal")
        if "meta" in have:
            meta = dict(self._db.execute("SELECT key, value FROM meta"))
            version = int(meta.get("schema_version", "0"))
            if version > SCHEMA_VERSION:
                self._db.close()
                raise JournalError(f"{self.path}: journal schema {version} is newer than this "
                                   f"program's {SCHEMA_VERSION}")
            if meta.get("session") != session:
                self._db.close()
                raise JournalError(f"{self.path}: journal of session {meta.get('session')!r}, "
                                   f"not {session!r}")
        try:
            if self.path != ":memory:":  # an in-memory journal (tests, benchmarks) is one process's anyway
                self._lock = _exclusive(self.path + ".lock")
        except JournalError:
            self._db.close()
            raise
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._depth = 0
        if not have:  # schema and meta in one transaction: a kill leaves all or nothing
            name = session.replace("'", "''")
            self._db.executescript(f"BEGIN; {_SCHEMA} INSERT INTO meta VALUES ('schema_version', "
                                   f"'{SCHEMA_VERSION}'), ('session', '{name}'); COMMIT;")

    # ------------------------------------------------------------ plumbing
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit (nested calls join the outer one).
        A failed write or commit rolls the whole group back (JournalError)."""
        depth = self._depth
        self._depth = depth + 1
        try:
            if depth == 0:
                self._x("BEGIN")
            yield
            if depth == 0:
                self._x("COMMIT")
        except BaseException:
            if depth == 0 and self._db is not None and self._db.in_transaction:
                with suppress(sqlite3.Error):  # unusable connection: the original error says why
                    self._db.execute("ROLLBACK")
            raise
        finally:
            self._depth = depth

    def _x(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        """Every statement goes through here: an SQLite failure (disk full,
        read-only file, closed journal) is one JournalError line."""
        if self._db is None:
            raise JournalError(f"{self.path}: journal is closed")
        try:
            return self._db.execute(sql, args)
        except sqlite3.Error as e:
            raise JournalError(f"{self.path}: journal failed ({e})") from None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None

    @property
    def closed(self) -> bool:
        return self._db is None

    # ------------------------------------------------------------ decisions, denials, notes
    def record_decision(self, d: dict) -> None:
        """One decision: decision_id, ticker, trade_number, exch_ns,
        probabilities (sell, hold, buy), consensus (a JSON text, a dataclass,
        anything JSON-able, or None), action / reason (or signal_action /
        signal_reason), features (numpy array, bytes or None)."""
        p = d.get("probabilities")
        p = (None, None, None) if p is None else tuple(p)
        if len(p) != 3:
            raise ValueError(f"decision {d.get('decision_id')}: probabilities must be (sell, hold, buy)")
        cons = d.get("consensus")
        if cons is not None and not isinstance(cons, str):
            if dataclasses.is_dataclass(cons) and not isinstance(cons, type):
                cons = dataclasses.asdict(cons)
            cons = json.dumps(cons, default=str)
        action = d.get("action", d.get("signal_action"))
        action = None if action is None else str(getattr(action, "name", action))
        reason = d.get("reason", d.get("signal_reason"))
        feats = d.get("features")
        if feats is not None and not isinstance(feats, bytes | bytearray | memoryview):
            feats = feats.tobytes()
        self._x("INSERT INTO decisions VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (_opt_int(d.get("decision_id")), d.get("ticker"), _opt_int(d.get("trade_number")),
                 _opt_int(d.get("exch_ns")), *(None if v is None else float(v) for v in p), cons, action,
                 None if reason is None else str(reason), feats))

    def last_decision_id(self) -> int:
        """The highest decision id journaled, by a decision, an order or a
        denial (0: none): a resumed session numbers its decisions after it,
        so an id names one decision."""
        # orders and denials too: a decision's own row is written after its orders
        row = self._x("SELECT MAX(m) FROM (SELECT MAX(decision_id) AS m FROM decisions UNION ALL "
                      "SELECT MAX(decision_id) FROM orders UNION ALL SELECT MAX(decision_id) FROM denials)"
                      ).fetchone()
        return int(row[0] or 0)

    def decisions(self) -> list[dict]:
        cols = ("decision_id", "ticker", "trade_number", "exch_ns", "p_sell", "p_hold", "p_buy",
                "consensus", "action", "reason", "features")
        return [dict(zip(cols, r, strict=True)) for r in self._x("SELECT * FROM decisions ORDER BY rowid")]

    def record_denial(self, req: OrderRequest, reason: str, detail: str, exch_ns: int) -> None:
        self._x("INSERT INTO denials (ticker, side, quantity, order_type, purpose, price, stop_price,"
                " decision_id, parent_id, reason, detail, exch_ns) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (req.ticker, int(req.side), int(req.quantity), int(req.order_type), req.purpose.value,
                 _opt_int(req.price), _opt_int(req.stop_price), _opt_int(req.decision_id),
                 _opt_int(req.parent_id), str(reason), str(detail), _opt_int(exch_ns)))

    def denials(self) -> list[tuple[str, str, str]]:
        """(ticker, reason, detail) of every denial, in order."""
        return [tuple(r) for r in self._x("SELECT ticker, reason, detail FROM denials ORDER BY id")]

    def record_note(self, kind: str, text: str, wall_ns: int = 0) -> None:
        self._x("INSERT INTO notes (kind, text, wall_ns) VALUES (?,?,?)", (kind, text, wall_ns))

    def notes(self, kind: str | None = None) -> list[tuple[str, str]]:
        q = "SELECT kind, text FROM notes" + (" WHERE kind = ?" if kind else "") + " ORDER BY id"
        return [tuple(r) for r in self._x(q, (kind,) if kind else ())]

    # ------------------------------------------------------------ orders
    def record_intent(self, req: OrderRequest, created_wall_ns: int, exch_ns: int = 0) -> int:
        """Journal an order before it is sent; its internal id."""
        cur = self._x(
            "INSERT INTO orders (ticker, side, order_type, purpose, req_quantity, req_price,"
            " req_stop_price, decision_id, parent_id, exch_ns, created_wall_ns, status, quantity,"
            " price, stop_price, leaves_qty) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (req.ticker, int(req.side), int(req.order_type), req.purpose.value, int(req.quantity),
             _opt_int(req.price), _opt_int(req.stop_price), _opt_int(req.decision_id),
             _opt_int(req.parent_id), _opt_int(exch_ns), int(created_wall_ns),
             int(OrderStatus.PENDING_SUBMIT), int(req.quantity), _opt_int(req.price),
             _opt_int(req.stop_price), int(req.quantity)))
        return int(cur.lastrowid)

    def record_order(self, o: Order) -> None:
        """The order's current state (binding, status, quantities, prices)."""
        self._x("UPDATE orders SET status=?, local_id=?, cl_ord_id=?, quantity=?, price=?, stop_price=?,"
                " cum_qty=?, leaves_qty=?, avg_price=?, last_event_id=?, sent_wall_ns=?, acked_wall_ns=?,"
                " cancel_requested=?, text=? WHERE internal_id=?",
                (int(o.status), _opt_int(o.local_id), o.cl_ord_id, int(o.quantity), _opt_int(o.price),
                 _opt_int(o.stop_price), int(o.cum_qty), int(o.leaves_qty), float(o.avg_price),
                 int(o.last_event_id), _opt_int(o.sent_wall_ns), _opt_int(o.acked_wall_ns),
                 int(o.cancel_requested), o.text, int(o.internal_id)))

    def record_event(self, internal_id: int | None, u: dict, *, applied: bool, note: str = "") -> None:
        """One order update (a dict of the ORDER_UPDATE_DTYPE fields we keep)."""
        self._x("INSERT INTO order_events (internal_id, local_id, cl_ord_id, event_id, status, quantity,"
                " cum_qty, leaves_qty, avg_price, price, stop_price, exch_ns, recv_ns, applied, note)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (internal_id, u.get("local_id"), u.get("cl_ord_id"), u.get("event_id"), u.get("status"),
                 u.get("quantity"), u.get("cum_qty"), u.get("leaves_qty"), u.get("avg_price"),
                 u.get("price"), u.get("stop_price"), u.get("exch_ns"), u.get("recv_ns"),
                 int(applied), note))

    def events(self, internal_id: int | None = None) -> list[dict]:
        cols = ("internal_id", "local_id", "cl_ord_id", "event_id", "status", "cum_qty", "applied", "note")
        q = "SELECT " + ", ".join(cols) + " FROM order_events"
        if internal_id is not None:
            q += " WHERE internal_id = ?"
        rows = self._x(q + " ORDER BY id", (internal_id,) if internal_id is not None else ())
        return [dict(zip(cols, r, strict=True)) for r in rows]

    def record_action(self, internal_id: int, action: str, *, quantity: int | None = None,
                      price: int | None = None, stop_price: int | None = None, wall_ns: int = 0,
                      result: str = "ok") -> None:
        """A cancel or change request sent for an order, and how the call went."""
        self._x("INSERT INTO order_actions (internal_id, action, quantity, price, stop_price, wall_ns,"
                " result) VALUES (?,?,?,?,?,?,?)", (internal_id, action, quantity, price, stop_price,
                                                   wall_ns, result))

    def actions(self, internal_id: int) -> list[tuple[str, str]]:
        return [tuple(r) for r in self._x("SELECT action, result FROM order_actions WHERE internal_id = ?"
                                          " ORDER BY id", (internal_id,))]

    def record_fill(self, f: Fill, source: str = "update") -> None:
        """``source``: "update" (an order callback) or "recovery" (adopted at reconciliation)."""
        self._x("INSERT INTO fills (internal_id, ticker, side, quantity, price, exch_ns, event_id, fee_brl,"
                " source) VALUES (?,?,?,?,?,?,?,?,?)",
                (f.order_id, f.ticker, int(f.side), f.quantity, f.price, f.exch_ns, f.event_id,
                 str(f.fee_brl), source))

    def record_position(self, ticker: str, position: int, source: str, exch_ns: int = 0) -> None:
        self._x("INSERT INTO positions (ticker, position, source, exch_ns) VALUES (?,?,?,?)",
                (ticker, position, source, exch_ns))

    def positions(self) -> dict[str, int]:
        """Net contracts per ticker from the journal's fills."""
        out: dict[str, int] = {}
        for f in self.fills():
            out[f.ticker] = out.get(f.ticker, 0) + f.side.sign * f.quantity
        return out

    def fills(self) -> list[Fill]:
        """Every fill in the order it was journaled (the portfolio replays them)."""
        return [Fill(int(r[0]), r[1], Side(r[2]), int(r[3]), int(r[4]), int(r[5] or 0), int(r[6] or 0),
                     Decimal(r[7]))
                for r in self._x("SELECT internal_id, ticker, side, quantity, price, exch_ns, event_id,"
                                 " fee_brl FROM fills ORDER BY id")]

    def fill_sources(self) -> list[str]:
        return [r[0] for r in self._x("SELECT source FROM fills ORDER BY id")]

    def orders(self) -> list[Order]:
        """Every order as last journaled, with its fills, by internal id."""
        fills: dict[int, list[Fill]] = {}
        for f in self.fills():
            fills.setdefault(f.order_id, []).append(f)
        out = []
        for r in self._x(
                "SELECT internal_id, ticker, side, order_type, purpose, req_quantity, req_price,"
                " req_stop_price, decision_id, parent_id, created_wall_ns, status, local_id, cl_ord_id,"
                " quantity, price, stop_price, cum_qty, leaves_qty, avg_price, last_event_id,"
                " sent_wall_ns, acked_wall_ns, cancel_requested, text FROM orders ORDER BY internal_id"):
            req = OrderRequest(r[1], Side(r[2]), int(r[5]), OrderType(r[3]), OrderPurpose(r[4]),
                               _opt_int(r[6]), _opt_int(r[7]), _opt_int(r[8]), _opt_int(r[9]))
            out.append(Order(
                internal_id=int(r[0]), request=req, status=OrderStatus(r[11]), local_id=_opt_int(r[12]),
                cl_ord_id=r[13], cum_qty=int(r[17]), leaves_qty=int(r[18]), avg_price=float(r[19]),
                last_event_id=int(r[20]), fills=fills.get(int(r[0]), []), created_wall_ns=int(r[10]),
                sent_wall_ns=_opt_int(r[21]), acked_wall_ns=_opt_int(r[22]), quantity=int(r[14]),
                price=_opt_int(r[15]), stop_price=_opt_int(r[16]), cancel_requested=bool(r[23]),
                text=r[24]))
        return out

    def counts(self) -> dict[str, int]:
        return {t: int(self._x(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
                for t in ("decisions", "denials", "orders", "order_events", "fills", "positions")}
