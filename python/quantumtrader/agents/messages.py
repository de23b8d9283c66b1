"""The agents' wire format: one ZeroMQ frame per message, a fixed
little-endian header then a payload whose layout the header's kind names.

Header (``HEADER``, 40 bytes)::

    magic      4s   b"QTAG"
    version    u16  WIRE_VERSION; another version is dropped and counted
    kind       u8   Kind (features, proposal, consensus, heartbeat)
    flags      u8   0 (reserved)
    instrument u16  the instrument id the pipeline gave the decision
    n          u16  payload item count (features: 77; consensus: agents)
    decision   u64  the decision id (features, proposal, consensus; 0 heartbeat)
    exch_ns    i64  market time of the decision's trade (UTC ns)
    sent_ns    i64  sender's monotonic clock when sent (latency)

Payloads:

- FEATURES: ``n`` float64, the decision's feature vector in QT77_NAMES order
  (the engine's own numbers; NaN stays NaN).
- PROPOSAL: agent name (32 bytes UTF-8, NUL-padded), sell / hold / buy
  probabilities and a confidence, 4 float64.
- CONSENSUS: sell / hold / buy (3 float64, all NaN: "no opinion"), then
  ``n`` times (agent name 32 bytes, weight float64, proposal age in ns int64).
- HEARTBEAT: agent name (32 bytes).
- OUTCOME: agent name (32 bytes, all NUL: every agent) and the decision's
  realized forward return (float64, finite), for the agents to learn from.

:func:`decode` refuses anything else (short, long, wrong magic or version,
unknown kind, probabilities that are not a distribution, a bad name) with a
:class:`MessageError` whose ``reason`` is one word; :class:`DropCounter`
counts them, so a receiver drops and counts and never crashes."""

from __future__ import annotations

import enum
import math
import struct
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "HEADER",
    "NAME_BYTES",
    "WIRE_VERSION",
    "Consensus",
    "DropCounter",
    "FeatureVector",
    "Heartbeat",
    "Kind",
    "MessageError",
    "Outcome",
    "Proposal",
    "decode",
]

WIRE_VERSION = 1
MAGIC = b"QTAG"
HEADER = struct.Struct("<4sHBBHHQqq")
NAME_BYTES = 32
_NAME = struct.Struct(f"<{NAME_BYTES}s")
_PROPOSAL = struct.Struct(f"<{NAME_BYTES}s4d")
_WEIGHT = struct.Struct(f"<{NAME_BYTES}sdq")
_TRIPLE = struct.Struct("<3d")
_OUTCOME = struct.Struct(f"<{NAME_BYTES}sd")
MAX_FEATURES = 256
MAX_AGENTS = 64


class Kind(enum.IntEnum):
    FEATURES = 1
    PROPOSAL = 2
    CONSENSUS = 3
    HEARTBEAT = 4
    OUTCOME = 5


class MessageError(ValueError):
    """A frame that is not a message of this version (``reason``: one word)."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}")


def _name_bytes(name: str) -> bytes:
    raw = name.encode("utf-8")
    if not raw or len(raw) > NAME_BYTES or b"\0" in raw:
        raise ValueError(f"agent name must be 1..{NAME_BYTES} UTF-8 bytes without NUL (got {name!r})")
    return raw


def _name(raw: bytes) -> str:
    text = raw.rstrip(b"\0")
    if not text or b"\0" in text:
        raise MessageError("name", "empty or NUL inside")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise MessageError("name", "not UTF-8") from None


def _distribution(p: tuple[float, float, float], what: str) -> None:
    if not all(math.isfinite(x) and 0.0 <= x <= 1.0 for x in p) or abs(sum(p) - 1.0) > 1e-6:
        raise MessageError("probabilities", f"{what} {p} is not a distribution over sell/hold/buy")


def _header(kind: Kind, instrument: int, n: int, decision: int, exch_ns: int, sent_ns: int) -> bytes:
    return HEADER.pack(MAGIC, WIRE_VERSION, int(kind), 0, instrument, n, decision, exch_ns, sent_ns)


@dataclass(frozen=True)
class FeatureVector:
    instrument: int
    decision_id: int
    exch_ns: int
    features: np.ndarray  # float64, QT77_NAMES order
    sent_ns: int = 0

    def encode(self) -> bytes:
        f = np.ascontiguousarray(self.features, dtype="<f8")
        if f.ndim != 1 or not 0 < len(f) <= MAX_FEATURES:
            raise ValueError(f"a feature vector is 1..{MAX_FEATURES} values (got shape {f.shape})")
        return _header(Kind.FEATURES, self.instrument, len(f), self.decision_id, self.exch_ns,
                       self.sent_ns) + f.tobytes()


@dataclass(frozen=True)
class Proposal:
    agent: str
    instrument: int
    decision_id: int
    exch_ns: int
    probabilities: tuple[float, float, float]  # sell, hold, buy
    confidence: float
    sent_ns: int = 0

    def encode(self) -> bytes:
        p = tuple(float(x) for x in self.probabilities)
        if len(p) != 3:
            raise ValueError("a proposal has three probabilities (sell, hold, buy)")
        try:
            _distribution(p, "proposal")  # type: ignore[arg-type]
        except MessageError as e:
            raise ValueError(str(e)) from None
        if not (math.isfinite(self.confidence) and 0.0 <= self.confidence <= 1.0):
            raise ValueError(f"confidence must be in [0, 1] (got {self.confidence!r})")
        return _header(Kind.PROPOSAL, self.instrument, 1, self.decision_id, self.exch_ns, self.sent_ns) + \
            _PROPOSAL.pack(_name_bytes(self.agent), *p, float(self.confidence))


@dataclass(frozen=True)
class Consensus:
    instrument: int
    decision_id: int
    exch_ns: int
    probabilities: tuple[float, float, float] | None  # None: no opinion
    weights: dict[str, float] = field(default_factory=dict)   # agent -> weight, the agents that took part
    ages_ns: dict[str, int] = field(default_factory=dict)     # agent -> age of its proposal
    sent_ns: int = 0

    def encode(self) -> bytes:
        if len(self.weights) > MAX_AGENTS:
            raise ValueError(f"at most {MAX_AGENTS} agents in a consensus")
        p = (math.nan,) * 3 if self.probabilities is None else tuple(float(x) for x in self.probabilities)
        body = [_TRIPLE.pack(*p)]
        for name, w in self.weights.items():
            body.append(_WEIGHT.pack(_name_bytes(name), float(w), int(self.ages_ns.get(name, 0))))
        return _header(Kind.CONSENSUS, self.instrument, len(self.weights), self.decision_id, self.exch_ns,
                       self.sent_ns) + b"".join(body)


@dataclass(frozen=True)
class Heartbeat:
    agent: str
    sent_ns: int = 0

    def encode(self) -> bytes:
        return _header(Kind.HEARTBEAT, 0, 1, 0, 0, self.sent_ns) + _NAME.pack(_name_bytes(self.agent))


@dataclass(frozen=True)
class Outcome:
    agent: str            # "" for every agent
    instrument: int
    decision_id: int
    exch_ns: int          # when the return became known
    forward_return: float
    sent_ns: int = 0

    def encode(self) -> bytes:
        if not math.isfinite(self.forward_return):
            raise ValueError(f"forward return must be finite (got {self.forward_return!r})")
        name = _name_bytes(self.agent) if self.agent else b""
        return _header(Kind.OUTCOME, self.instrument, 1, self.decision_id, self.exch_ns, self.sent_ns) + \
            _OUTCOME.pack(name, float(self.forward_return))


Message = FeatureVector | Proposal | Consensus | Heartbeat | Outcome


def decode(frame: bytes | memoryview) -> Message:
    """The message in one frame; MessageError for anything else."""
    buf = memoryview(frame).cast("B")
    if len(buf) < HEADER.size:
        raise MessageError("short", f"{len(buf)} bytes, a header is {HEADER.size}")
    magic, version, kind, _flags, instrument, n, decision, exch_ns, sent_ns = HEADER.unpack_from(buf)
    if magic != MAGIC:
        raise MessageError("magic", f"{bytes(magic)!r} is not {MAGIC!r}")
    if version != WIRE_VERSION:
        raise MessageError("version", f"wire version {version}, this program speaks {WIRE_VERSION}")
    body = buf[HEADER.size:]
    if kind == Kind.FEATURES:
        if not 0 < n <= MAX_FEATURES or len(body) != 8 * n:
            raise MessageError("size", f"features: {len(body)} bytes for {n} values")
        return FeatureVector(instrument, decision, exch_ns, np.frombuffer(body, dtype="<f8").copy(), sent_ns)
    if kind == Kind.PROPOSAL:
        if len(body) != _PROPOSAL.size:
            raise MessageError("size", f"proposal: {len(body)} bytes, expected {_PROPOSAL.size}")
        raw, s, h, b, conf = _PROPOSAL.unpack_from(body)
        _distribution((s, h, b), "proposal")
        if not (math.isfinite(conf) and 0.0 <= conf <= 1.0):
            raise MessageError("confidence", f"{conf!r} is not in [0, 1]")
        return Proposal(_name(raw), instrument, decision, exch_ns, (s, h, b), conf, sent_ns)
    if kind == Kind.CONSENSUS:
        if n > MAX_AGENTS or len(body) != _TRIPLE.size + n * _WEIGHT.size:
            raise MessageError("size", f"consensus: {len(body)} bytes for {n} agents")
        p = _TRIPLE.unpack_from(body)
        probs = None if all(math.isnan(x) for x in p) else p
        if probs is not None:
            _distribution(probs, "consensus")
        weights, ages = {}, {}
        for i in range(n):
            raw, w, age = _WEIGHT.unpack_from(body, _TRIPLE.size + i * _WEIGHT.size)
            if not (math.isfinite(w) and w >= 0):
                raise MessageError("weight", f"{w!r} is not a weight")
            name = _name(raw)
            weights[name], ages[name] = w, age
        return Consensus(instrument, decision, exch_ns, probs, weights, ages, sent_ns)
    if kind == Kind.HEARTBEAT:
        if len(body) != _NAME.size:
            raise MessageError("size", f"heartbeat: {len(body)} bytes")
        return Heartbeat(_name(bytes(body)), sent_ns)
    if kind == Kind.OUTCOME:
        if len(body) != _OUTCOME.size:
            raise MessageError("size", f"outcome: {len(body)} bytes")
        raw, r = _OUTCOME.unpack_from(body)
        if not math.isfinite(r):
            raise MessageError("outcome", f"forward return {r!r} is not finite")
        agent = "" if not raw.strip(b"\0") else _name(raw)
        return Outcome(agent, instrument, decision, exch_ns, r, sent_ns)
    raise MessageError("kind", f"unknown message kind {kind}")


class DropCounter:
    """Frames dropped by reason: ``take(frame)`` is the message or None."""

    def __init__(self) -> None:
        self.dropped: Counter[str] = Counter()
        self.taken = 0

    def take(self, frame: bytes | memoryview) -> Message | None:
        try:
            msg = decode(frame)
        except MessageError as e:
            self.dropped[e.reason] += 1
            return None
        self.taken += 1
        return msg
