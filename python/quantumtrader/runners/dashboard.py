"""The live terminal dashboard of a paper or live session.

``Dashboard(console=None, refresh_hz=4, log_every_s=10)``: ``update(snapshot)``
is called from any thread (the decision or order thread) and only stores a
reference to the dict, so the hot path pays one assignment; the caller hands
over a fresh dict each time and does not change it afterwards.  The
dashboard's own thread reads the latest snapshot: on a terminal it redraws a
``rich.live.Live`` view at most ``refresh_hz`` times a second; when the
console is not a terminal (a pipe, a log file, a service) it writes one
plain line every ``log_every_s`` seconds instead (to ``logger`` when one is
given, else to the console), and a last one at ``stop()``.  ``start()`` and
``stop()`` are idempotent; ``stop()`` is safe in a ``finally`` after Ctrl-C
and restores the terminal.  A snapshot that cannot be drawn (a wrong value
in a field) is counted in ``render_errors`` and shown as one line, never
raised: the dashboard never stops the session.

The snapshot (every key optional; a missing one shows "-"; money may be a
Decimal, a str or a number)::

    ticker: str                      the instrument shown, e.g. "WDOZ26"
    exch_ns: int                     exchange time of the latest trade (UTC ns)
    price: str | int | float         the latest trade price in points
    book: {name: float}              the 12 book features of the latest decision
                                     (features.schema.BOOK_NAMES); when absent they
                                     are read from ``features``
    features: {name: float} | sequence[float]
                                     the latest decision's feature vector (a
                                     sequence is in QT77_NAMES order)
    probabilities: (sell, hold, buy) the model's probabilities of that decision
    signal: {"action": str, "reason": str}
    orders: [{"id", "side", "type", "quantity", "price", "status", "purpose"}]
                                     working orders
    position: {"quantity": int (signed), "average_price": points | None}
    pnl: {"realized_brl", "unrealized_brl", "fees_brl", "net_brl"}
    risk: {"state": str, "detail": str, "denials": {reason: int}}
    feed: {"ok": bool, "detail": str, "last_trade_age_s": float}
    session: {"name": str, "venue": str, "phase": str, "progress": float 0..1,
              "decisions": int, "orders": int, "fills": int}
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from quantumtrader.features.schema import BOOK_NAMES, QT77_NAMES

__all__ = ["FEATURES_SHOWN", "Dashboard", "log_line", "render"]

#: The non-book features the "latest features" panel shows when present.
FEATURES_SHOWN: tuple[str, ...] = (
    "returns_1", "returns_5", "returns_20", "volatility_20", "order_flow_imbalance_20",
    "volume_ratio_20", "trade_intensity", "time_normalized",
)
_BAR = 20


def _num(value: Any, digits: int | None = None) -> str:
    """A figure: fixed ``digits`` decimals (prices), else 5 significant digits (features)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        if value != value:
            return "nan"
        return f"{value:,.{digits}f}" if digits is not None else f"{value:.5g}"
    return str(value)


def _money(value: Any) -> str:
    if value is None:
        return "-"
    amount = Decimal(str(value))
    return f"-R$ {-amount:,.2f}" if amount < 0 else f"R$ {amount:,.2f}"


def _features(snapshot: Mapping[str, Any]) -> dict[str, float]:
    raw = snapshot.get("features")
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        return {str(k): float(v) for k, v in raw.items()}
    values = [float(v) for v in raw]  # float32 or float64 alike
    if len(values) != len(QT77_NAMES):
        raise ValueError(f"features has {len(values)} values, not the {len(QT77_NAMES)} of qt77")
    return dict(zip(QT77_NAMES, values, strict=True))


def _book(snapshot: Mapping[str, Any], features: Mapping[str, float]) -> dict[str, Any]:
    book = snapshot.get("book")
    if isinstance(book, Mapping):
        return {name: None if book.get(name) is None else float(book[name]) for name in BOOK_NAMES}
    return {name: features.get(name) for name in BOOK_NAMES}


def _time(exch_ns: Any) -> str:
    if not exch_ns:
        return "-"
    return dt.datetime.fromtimestamp(int(exch_ns) / 1e9, dt.UTC).strftime("%H:%M:%S UTC")


def _probabilities(snapshot: Mapping[str, Any]) -> tuple[float, float, float] | None:
    p = snapshot.get("probabilities")
    if p is None:
        return None
    sell, hold, buy = (float(x) for x in p)
    return sell, hold, buy


def _signal(snapshot: Mapping[str, Any]) -> tuple[str, str]:
    s = snapshot.get("signal") or {}
    if isinstance(s, str):
        return s, ""
    return str(s.get("action", "-")), str(s.get("reason", ""))


def log_line(snapshot: Mapping[str, Any]) -> str:
    """One line of the latest figures (the non-terminal form)."""
    session = snapshot.get("session") or {}
    position = snapshot.get("position") or {}
    pnl = snapshot.get("pnl") or {}
    risk = snapshot.get("risk") or {}
    feed = snapshot.get("feed") or {}
    p = _probabilities(snapshot)
    action, _ = _signal(snapshot)
    progress = session.get("progress")
    parts = [
        f"{snapshot.get('ticker', '-')} {_time(snapshot.get('exch_ns'))} "
        f"last {_num(snapshot.get('price'), 1)}",
        f"pos {int(position.get('quantity', 0)):+d} @ {_num(position.get('average_price'), 1)}",
        f"net {_money(pnl.get('net_brl'))} fees {_money(pnl.get('fees_brl'))}",
        "p(s/h/b) " + ("/".join(f"{x:.2f}" for x in p) if p else "-") + f" {action}",
        f"orders {len(snapshot.get('orders') or [])}",
        f"risk {risk.get('state', '-')} denials {sum((risk.get('denials') or {}).values())}",
        f"feed {'ok' if feed.get('ok', True) else 'DOWN ' + str(feed.get('detail', ''))}",
        f"decisions {_num(session.get('decisions'))}",
    ]
    agents = snapshot.get("agents")
    if agents:
        rows = (agents.get("agents") or {}).values()
        c = agents.get("consensus")
        parts.append(f"agents {sum(1 for a in rows if a.get('alive'))}/{len(rows)} consensus "
                     + ("/".join(f"{x:.2f}" for x in c) if c else "none"))
    if progress is not None:
        parts.append(f"session {100 * float(progress):.0f}%")
    return " | ".join(parts)


def _text(value: Any, style: str = "") -> Any:
    """Plain text for a cell: a snapshot's strings are data, never rich markup."""
    from rich.text import Text

    return value if isinstance(value, Text) else Text(str(value), style=style)


def _side_style(quantity: int) -> str:
    return "green" if quantity > 0 else "red" if quantity < 0 else ""


def _kv_table(rows: Sequence[tuple[str, Any]]) -> Any:
    from rich.table import Table

    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim")
    table.add_column(justify="right")
    for key, value in rows:
        table.add_row(_text(key), _text(value))
    return table


def _model_panel(snapshot: Mapping[str, Any]) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table.grid(padding=(0, 1))
    p = _probabilities(snapshot)
    colors = ("red", "white", "green")
    for name, value, color in zip(("sell", "hold", "buy"), p or (None, None, None), colors, strict=True):
        if value is None:
            table.add_row(name, "-")
            continue
        filled = round(max(0.0, min(1.0, value)) * _BAR)
        table.add_row(name, Text("█" * filled + "░" * (_BAR - filled), style=color), f"{value:.3f}")
    action, reason = _signal(snapshot)
    table.add_row("signal", Text(action, style="bold"), Text(reason))
    return table


def _orders_panel(snapshot: Mapping[str, Any]) -> Any:
    from rich.table import Table

    orders = snapshot.get("orders") or []
    table = Table(box=None, padding=(0, 1), show_edge=False)
    for head in ("id", "order", "qty", "price", "status", "for"):
        table.add_column(head, justify="right" if head in ("qty", "price") else "left", no_wrap=True)
    for o in orders[:8]:
        table.add_row(_text(_num(o.get("id"))), _text(f"{o.get('side', '-')} {o.get('type', '')}".strip()),
                      *(_text(_num(o.get(k), 1)) for k in ("quantity", "price", "status", "purpose")))
    if len(orders) > 8:
        table.add_row("…", f"{len(orders) - 8} more", "", "", "", "")
    if not orders:
        table.add_row("-", "no working orders", "", "", "", "")
    return table


def _agents_panel(agents: Mapping[str, Any]) -> Any:
    """Each agent: alive, its latest proposal, the coordinator's weight, its hit
    rate so far; then the consensus the signal blended (or "no opinion")."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, padding=(0, 1), show_edge=False, expand=True)
    for head in ("agent", "", "sell", "hold", "buy", "weight", "hit rate", "restarts"):
        table.add_column(head, justify="left" if head in ("agent", "") else "right", no_wrap=True)
    for name, a in (agents.get("agents") or {}).items():
        p = a.get("proposal")
        hit = a.get("hit_rate")
        state = Text("alive", style="green") if a.get("alive") else Text("DOWN", style="red")
        table.add_row(_text(name), state,
                      *((_text(f"{x:.2f}") for x in p) if p else (_text("-"),) * 3),
                      _text(f"{float(a.get('weight', 0)):.3f}"),
                      _text("-" if hit is None else f"{100 * hit:.1f}% of {a.get('outcomes', 0)}"),
                      _text(_num(a.get("restarts"))))
    c = agents.get("consensus")
    waited = agents.get("waited_ns")
    table.add_row(Text("consensus", style="bold"), "", *((_text(f"{x:.2f}") for x in c) if c else
                                                          (_text("no opinion"), _text(""), _text(""))),
                  "", _text("" if waited is None else f"in {waited / 1e3:,.0f} µs"), "")
    return table


def render(snapshot: Mapping[str, Any]) -> Any:
    """The dashboard view of ``snapshot`` as a rich renderable."""
    from rich.panel import Panel
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    features = _features(snapshot)
    session = snapshot.get("session") or {}
    position = snapshot.get("position") or {}
    pnl = snapshot.get("pnl") or {}
    risk = snapshot.get("risk") or {}
    feed = snapshot.get("feed") or {}
    head = Table.grid(padding=(0, 2), expand=True)
    for _ in range(4):
        head.add_column()
    progress = session.get("progress")
    bar = ProgressBar(total=1.0, completed=float(progress), width=30) if progress is not None else "-"
    feed_ok = feed.get("ok", True)
    head.add_row(
        Text.assemble((str(session.get("name", "session")), "bold"), f" ({session.get('venue', '-')}) ",
                      str(snapshot.get("ticker", "-"))),
        Text.assemble(f"{_time(snapshot.get('exch_ns'))} last ", (_num(snapshot.get("price"), 1), "bold")),
        Text.assemble(("feed ok", "green") if feed_ok else ("feed DOWN ", "red"),
                      "" if feed_ok else str(feed.get("detail", "")),
                      f" (last trade {_num(feed.get('last_trade_age_s'), 1)} s ago)"),
        Text(f"phase {session.get('phase', '-')}"),
    )
    head.add_row(bar, Text(f"decisions {_num(session.get('decisions'))}"),
                 Text(f"orders {_num(session.get('orders'))}"), Text(f"fills {_num(session.get('fills'))}"))
    book = _book(snapshot, features)
    shown = [(n, features[n]) for n in FEATURES_SHOWN if n in features]
    if not shown:  # a feature set without these names: its first non-book ones
        shown = [(n, v) for n, v in features.items() if n not in BOOK_NAMES][:8]
    denials = risk.get("denials") or {}
    state = str(risk.get("state", "-"))
    state_style = {"ACTIVE": "green", "REDUCING": "yellow", "HALTED": "red"}.get(state.upper(), "")
    quantity = int(position.get("quantity", 0))
    grid = Table.grid(expand=True, padding=(0, 1))
    for _ in range(3):
        grid.add_column(ratio=1)
    grid.add_row(
        Panel(_kv_table([(n, _num(v)) for n, v in book.items()]), title="book"),
        Panel(_kv_table([(n, _num(v)) for n, v in shown] or [("-", "no decision yet")]),
              title="latest features"),
        Panel(_model_panel(snapshot), title="model"),
    )
    grid.add_row(
        Panel(_orders_panel(snapshot), title="working orders"),
        Panel(_kv_table([
            ("position", Text(f"{quantity:+d}", style=_side_style(quantity))),
            ("average price", _num(position.get("average_price"), 1)),
            ("realized", _money(pnl.get("realized_brl"))),
            ("unrealized", _money(pnl.get("unrealized_brl"))),
            ("fees", _money(pnl.get("fees_brl"))),
            ("net", Text(_money(pnl.get("net_brl")), style="bold")),
        ]), title="position and P&L"),
        Panel(_kv_table([
            ("state", Text(state, style=state_style)),
            ("detail", str(risk.get("detail", "")) or "-"),
            *((str(k), _num(v)) for k, v in sorted(denials.items(), key=lambda kv: -kv[1])[:6]),
        ]), title=f"risk (denials {sum(denials.values())})"),
    )
    outer = Table.grid(expand=True)
    outer.add_row(Panel(head, title="QuantumTrader"))
    outer.add_row(grid)
    agents = snapshot.get("agents")
    if agents:
        outer.add_row(Panel(_agents_panel(agents), title=f"agents ({agents.get('mode', '-')})"))
    return outer


class Dashboard:
    """See the module docstring."""

    def __init__(self, console: Any = None, refresh_hz: float = 4, log_every_s: float = 10,
                 logger: logging.Logger | None = None) -> None:
        if refresh_hz <= 0 or log_every_s <= 0:
            raise ValueError("dashboard: refresh_hz and log_every_s must be positive")
        if console is None:
            from rich.console import Console

            console = Console()
        self.console = console
        self.refresh_hz = float(refresh_hz)
        self.log_every_s = float(log_every_s)
        self.logger = logger
        self.render_errors = 0
        self.lines = 0
        self._snapshot: Mapping[str, Any] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live: Any = None
        self._lock = threading.Lock()  # start/stop against each other, not update

    @property
    def interactive(self) -> bool:
        """Whether the console is a terminal (Live view) or not (log lines)."""
        return bool(self.console.is_terminal)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def update(self, snapshot: Mapping[str, Any]) -> None:
        """Hand over the latest snapshot (any thread; stores the reference)."""
        self._snapshot = snapshot

    def _view(self, snapshot: Mapping[str, Any] | None) -> Any:
        try:
            return render(snapshot or {})
        except Exception as exc:  # a bad field must not stop the session
            self.render_errors += 1
            return _text(f"dashboard: cannot draw the snapshot ({type(exc).__name__}: {exc})", "red")

    def _line(self, snapshot: Mapping[str, Any] | None) -> None:
        try:
            text = log_line(snapshot or {})
        except Exception as exc:
            self.render_errors += 1
            text = f"dashboard: cannot summarise the snapshot ({type(exc).__name__}: {exc})"
        self.lines += 1
        if self.logger is not None:
            self.logger.info("%s", text)
        else:
            stamp = time.strftime("%H:%M:%S")
            self.console.out(f"{stamp} {text}", highlight=False)

    def _run(self) -> None:
        period = 1.0 / self.refresh_hz
        next_line = time.monotonic() + self.log_every_s
        while not self._stop.wait(period):
            try:
                if self._live is not None:
                    self._live.update(self._view(self._snapshot), refresh=True)
                elif time.monotonic() >= next_line:
                    self._line(self._snapshot)
                    next_line = time.monotonic() + self.log_every_s
            except Exception:  # the terminal went away, a renderer bug: never stop the session for it
                self.render_errors += 1

    def start(self) -> Dashboard:
        """Start the rendering thread (no-op when running); returns self."""
        with self._lock:
            if self.running:
                return self
            self._stop.clear()
            if self.interactive:
                from rich.live import Live

                self._live = Live(self._view(self._snapshot), console=self.console, auto_refresh=False,
                                  transient=False, redirect_stdout=True, redirect_stderr=True)
                self._live.start(refresh=True)
            self._thread = threading.Thread(target=self._run, name="dashboard", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread, draw or log the latest snapshot once more and
        give the terminal back; idempotent."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._stop.set()
            thread.join(timeout=2.0)
            live, self._live = self._live, None
            if live is not None:
                try:
                    live.update(self._view(self._snapshot), refresh=True)
                finally:
                    live.stop()
            else:
                self._line(self._snapshot)

    def __enter__(self) -> Dashboard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
