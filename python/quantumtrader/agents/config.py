"""The ``[agents]`` section of a trading configuration (runners/config.py).

    [agents]
    enabled = true          # false: the signal trades the model alone
    mode = "auto"           # auto: threads in a backtest, processes in paper and live;
                            # "threads", "processes", or "external" (started apart by
                            # quantumtrader agents run, on this or another machine)
    transport = "auto"      # auto: inproc for threads, else ipc (tcp on loopback without ipc);
                            # "ipc", "tcp", "inproc"
    address = "127.0.0.1:*" # tcp: HOST:PORT of the features socket; proposals on PORT + 1 (* = free ports)
    server_key = ""         # tcp: the node's CURVE secret key file (agents keygen); "" = no CURVE
    authorized = ""         # the folder of the agents' public keys ("" = server_key's folder/authorized)
    deadline_ms = 20.0      # paper and live: how long a decision waits for the agents' answers
    state = ""              # a folder of learned states to start from (agents pretrain --out)
    fresh = false           # a corrupt state file: move it aside and start that agent fresh
    learning_rate = 0.05    # the agents' online policy step
    exploration = 0.0       # a floor under every proposal probability; off by default
    cost = 0.0001           # the cost of a trade as a return (about one WDO tick at 5,000 points)
    hedge_rate = 0.1        # the coordinator's Hedge step on rewards
    hedge_share = 0.01      # each step this share of the weight goes back to uniform (Fixed Share)
    min_weight = 0.05       # no agent's weight below this ...
    max_weight = 0.6        # ... or above this
    freshness_ms = 500.0    # older proposals take no part in a consensus
    min_confidence = 0.05   # below this weighted mean confidence the agents have no opinion
    heartbeat_timeout_s = 1.0

A backtest's decisions wait for every live agent (up to ``LOCKSTEP_DEADLINE_MS``),
so its result does not depend on the machine's speed."""

from __future__ import annotations

import math
from dataclasses import dataclass

from quantumtrader.agents.coordinator import CoordinatorConfig

__all__ = ["LOCKSTEP_DEADLINE_MS", "AgentsConfig"]

LOCKSTEP_DEADLINE_MS = 2000.0

_MODES = ("auto", "threads", "processes", "external")
_TRANSPORTS = ("auto", "ipc", "tcp", "inproc")


@dataclass(frozen=True)
class AgentsConfig:
    enabled: bool = True
    mode: str = "auto"
    transport: str = "auto"
    address: str = "127.0.0.1:*"
    server_key: str = ""
    authorized: str = ""
    deadline_ms: float = 20.0
    state: str = ""
    fresh: bool = False
    learning_rate: float = 0.05
    exploration: float = 0.0
    cost: float = 0.0001
    hedge_rate: float = 0.1
    hedge_share: float = 0.01
    min_weight: float = 0.05
    max_weight: float = 0.6
    freshness_ms: float = 500.0
    heartbeat_timeout_s: float = 1.0
    min_confidence: float = 0.05

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f"mode: one of {', '.join(_MODES)} (got {self.mode!r})")
        if self.transport not in _TRANSPORTS:
            raise ValueError(f"transport: one of {', '.join(_TRANSPORTS)} (got {self.transport!r})")
        host, _, port = self.address.rpartition(":")
        if not host or not (port == "*" or (port.isdigit() and 0 < int(port) < 65535)):
            raise ValueError(f"address: HOST:PORT with a port 1-65534 or * (got {self.address!r})")
        if self.transport == "inproc" and self.mode in ("processes", "external"):
            raise ValueError(f"transport: inproc works inside one process, not with mode {self.mode!r}")
        if self.server_key and self.transport != "tcp":
            raise ValueError("server_key: CURVE keys are for transport = \"tcp\"")
        for name in ("deadline_ms", "learning_rate", "heartbeat_timeout_s", "freshness_ms", "hedge_rate"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name}: must be > 0 (got {v!r})")
        if not (math.isfinite(self.cost) and 0 <= self.cost < 0.1):
            raise ValueError(f"cost: a return in [0, 0.1) (got {self.cost!r})")
        if not 0 <= self.exploration < 1 / 3:
            raise ValueError(f"exploration: in [0, 1/3) (got {self.exploration!r})")
        self.coordinator()  # the weight bounds checked here, named as in this section

    def policy(self) -> dict[str, float]:
        """The agents' OnlinePolicy settings (AgentTeam's and the agent processes' ``policy``)."""
        return {"learning_rate": self.learning_rate, "cost": self.cost, "exploration": self.exploration}

    def coordinator(self) -> CoordinatorConfig:
        return CoordinatorConfig(learning_rate=self.hedge_rate, share=self.hedge_share,
                                 min_weight=self.min_weight, max_weight=self.max_weight,
                                 freshness_ms=self.freshness_ms, heartbeat_timeout_s=self.heartbeat_timeout_s,
                                 min_confidence=self.min_confidence)

    def resolved_mode(self, lockstep: bool) -> str:
        """threads, processes or external: ``auto`` is threads in a backtest, processes otherwise."""
        if self.mode != "auto":
            return self.mode
        return "threads" if lockstep else "processes"

    def resolved_transport(self, mode: str) -> str:
        if self.transport != "auto":
            return self.transport
        return "inproc" if mode == "threads" else "auto"  # auto: ipc where this libzmq has it, else tcp
