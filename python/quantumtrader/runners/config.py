"""The configuration of a trading session: paper, backtest or live.

One TOML file (``live.toml``; optional for paper and backtest, whose command
lines cover the usual cases).  Every section is optional and every missing
key keeps its default; unknown sections or keys, wrong types and values out
of range are refused in one line naming the file and the key.  The sections:

    [instruments]
    tickers = ["WDO"]            # roots (resolved to the contract of the day) or tickers

    [model]
    path = ""                    # a bundle folder; "" = the shipped default
    allow_unvalidated = false    # trade a bundle the gate has not promoted

    [signal]                     # quantumtrader.signal.SignalConfig
    [risk]                       # quantumtrader.risk.RiskConfig (limits in contracts and BRL)
    [brackets]                   # quantumtrader.execution.BracketConfig (stop / take-profit in ticks)

    [journal]
    path = "journal.sqlite"      # SQLite journal; relative to the run folder

    [session]
    flatten_on_exit = true       # stopping (end, Ctrl-C) cancels working orders and flattens

    [simulator]                  # the simulator venue (paper, backtest, live --dry-run)
    speed = 500.0                # paper: replay pace, x real time (0 = as fast as possible)
    order_latency_us = 5000      # order, change and cancel to the exchange, market time
    seed = 1
    state_file = ""              # broker state that outlives the process ("" = in the run folder)

    [agents]                     # quantumtrader.agents.config.AgentsConfig: the specialist agents
    enabled = true               # mode, transport, keys, deadline, learned state, learning

    [profitdll]                  # live: Nelogica's DLL on the Windows host
    library = "C:/Nelogica/ProfitDLL64.dll"
    broker_id = 0
    account_id = ""
    sub_account_id = ""
    connect_timeout_s = 60.0

Credentials never go in this file: ``QT_PROFIT_KEY``, ``QT_PROFIT_USER``,
``QT_PROFIT_PASSWORD``, ``QT_PROFIT_ROUTING_PASSWORD`` or the OS keyring
(quantumtrader.adapters.profitdll.credentials)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from quantumtrader.agents.config import AgentsConfig
from quantumtrader.config_file import ConfigError, read_toml, section
from quantumtrader.execution.config import BracketConfig
from quantumtrader.risk import RiskConfig
from quantumtrader.signal import SignalConfig

__all__ = [
    "ConfigError",
    "InstrumentsConfig",
    "JournalConfig",
    "ModelConfig",
    "ProfitDLLConfig",
    "SessionConfig",
    "SimulatorConfig",
    "TradingConfig",
    "load_trading_config",
]


@dataclass(frozen=True)
class InstrumentsConfig:
    tickers: tuple[str, ...] = ("WDO",)

    def __post_init__(self) -> None:
        if not self.tickers:
            raise ValueError("tickers: give at least one")
        for t in self.tickers:
            if not t.isalnum() or not 3 <= len(t) <= 12:
                raise ValueError(f"tickers: {t!r} is not a B3 root or ticker")


@dataclass(frozen=True)
class ModelConfig:
    path: str = ""
    allow_unvalidated: bool = False


@dataclass(frozen=True)
class JournalConfig:
    path: str = "journal.sqlite"

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("path: give a file name")


@dataclass(frozen=True)
class SessionConfig:
    flatten_on_exit: bool = True


@dataclass(frozen=True)
class SimulatorConfig:
    speed: float = 500.0
    order_latency_us: int = 5000
    seed: int = 1
    state_file: str = ""

    def __post_init__(self) -> None:
        if not (self.speed >= 0 and math.isfinite(self.speed)):
            raise ValueError(f"speed: must be >= 0 (got {self.speed!r})")
        if not 0 <= self.order_latency_us <= 60_000_000:
            raise ValueError(f"order_latency_us: must be 0..60000000 (got {self.order_latency_us})")
        if self.seed < 0:
            raise ValueError(f"seed: must be >= 0 (got {self.seed})")


@dataclass(frozen=True)
class ProfitDLLConfig:
    library: str = ""
    broker_id: int = 0
    account_id: str = ""
    sub_account_id: str = ""
    connect_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        if not (self.connect_timeout_s > 0 and math.isfinite(self.connect_timeout_s)):
            raise ValueError(f"connect_timeout_s: must be > 0 (got {self.connect_timeout_s!r})")
        if self.broker_id < 0:
            raise ValueError(f"broker_id: must be >= 0 (got {self.broker_id})")


SECTIONS: dict[str, type] = {
    "instruments": InstrumentsConfig,
    "model": ModelConfig,
    "signal": SignalConfig,
    "risk": RiskConfig,
    "brackets": BracketConfig,
    "journal": JournalConfig,
    "session": SessionConfig,
    "simulator": SimulatorConfig,
    "agents": AgentsConfig,
    "profitdll": ProfitDLLConfig,
}


@dataclass(frozen=True)
class TradingConfig:
    instruments: InstrumentsConfig = field(default_factory=InstrumentsConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    signal: SignalConfig = field(default_factory=SignalConfig)
    risk: RiskConfig = field(default_factory=RiskConfig)
    brackets: BracketConfig = field(default_factory=BracketConfig)
    journal: JournalConfig = field(default_factory=JournalConfig)
    session: SessionConfig = field(default_factory=SessionConfig)
    simulator: SimulatorConfig = field(default_factory=SimulatorConfig)
    agents: AgentsConfig = field(default_factory=AgentsConfig)
    profitdll: ProfitDLLConfig = field(default_factory=ProfitDLLConfig)
    origin: str = "defaults"

    def with_agents(self, changes: dict[str, Any]) -> TradingConfig:
        """This configuration with some [agents] keys changed (the command line's flags)."""
        if not changes:
            return self
        try:
            return dataclasses.replace(self, agents=dataclasses.replace(self.agents, **changes))
        except ValueError as e:
            raise ConfigError(f"[agents] {e}") from None

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "config") -> TradingConfig:
        unknown = sorted(set(data) - set(SECTIONS))
        if unknown:
            raise ConfigError(f"{origin}: unknown section or key {unknown[0]!r} (known: "
                              f"{', '.join(f'[{s}]' for s in SECTIONS)})")
        parts = {name: section(origin, name, typ, data.get(name, {})) for name, typ in SECTIONS.items()}
        return cls(**parts, origin=origin)


def load_trading_config(path: str | None) -> TradingConfig:
    """The configuration in the TOML file ``path`` (None: the defaults)."""
    if path is None:
        return TradingConfig()
    return TradingConfig.from_dict(read_toml(path), path)
