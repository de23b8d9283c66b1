"""The agents' wire format and transport over real ZeroMQ sockets: a
decision's feature vector published and received bit for bit over inproc,
ipc and tcp; proposals and consensus round trips; malformed and
wrong-version frames counted and dropped while the stream goes on; a CURVE
endpoint that refuses a client without an authorized key."""

from __future__ import annotations

import contextlib
import math
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import zmq

from quantumtrader.agents.messages import (
    HEADER,
    WIRE_VERSION,
    Consensus,
    DropCounter,
    FeatureVector,
    Heartbeat,
    MessageError,
    Proposal,
    decode,
)
from quantumtrader.agents.transport import bind_endpoint, close, keygen, secure_client, secure_server


def _vector(decision: int) -> FeatureVector:
    f = np.linspace(-1.0, 1.0, 77)
    f[5] = np.nan
    return FeatureVector(1, decision, 1_793_707_200_000_000_000 + decision, f, sent_ns=123)


def _receive(sub: zmq.Socket, pub: zmq.Socket, frame: bytes, topic: bytes,
             timeout_s: float = 5.0) -> list[bytes]:
    """Publish until the subscriber gets one (PUB/SUB drops what is sent before the join)."""
    poller = zmq.Poller()
    poller.register(sub, zmq.POLLIN)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pub.send_multipart([topic, frame])
        if poller.poll(50):
            return sub.recv_multipart()
    raise AssertionError("nothing received")


@pytest.mark.parametrize("transport", ["inproc", "ipc", "tcp"])
def test_feature_vector_round_trip(transport: str, tmp_path: Path) -> None:
    ctx = zmq.Context()
    pub, sub = ctx.socket(zmq.PUB), ctx.socket(zmq.SUB)
    try:
        ep = bind_endpoint(pub, tmp_path, f"features-{transport}", transport=transport)
        assert ep.startswith(f"{transport}://")
        sub.setsockopt(zmq.SUBSCRIBE, b"WDOZ26")
        sub.connect(ep)
        sent = _vector(7)
        topic, frame = _receive(sub, pub, sent.encode(), b"WDOZ26")
        got = decode(frame)
        assert topic == b"WDOZ26" and isinstance(got, FeatureVector)
        assert (got.instrument, got.decision_id, got.exch_ns, got.sent_ns) == (1, 7, sent.exch_ns, 123)
        assert np.array_equal(got.features.view(np.uint64), sent.features.view(np.uint64))  # NaN kept
    finally:
        close(pub, sub)
        ctx.term()


def test_proposal_consensus_heartbeat_round_trip() -> None:
    p = Proposal("order_flow", 2, 9, 55, (0.2, 0.3, 0.5), 0.8)
    assert decode(p.encode()) == p
    c = Consensus(2, 9, 55, (0.1, 0.2, 0.7), {"order_flow": 0.6, "liquidity": 0.4},
                  {"order_flow": 10, "liquidity": 20})
    assert decode(c.encode()) == c
    none = Consensus(2, 10, 56, None, {})
    assert decode(none.encode()).probabilities is None
    assert decode(Heartbeat("tape").encode()) == Heartbeat("tape")
    with pytest.raises(ValueError):
        Proposal("x", 1, 1, 1, (0.5, 0.5, 0.5), 0.5).encode()
    with pytest.raises(ValueError):
        Heartbeat("").encode()


def test_malformed_and_wrong_version_are_counted_and_dropped() -> None:
    good = _vector(1).encode()
    wrong_version = bytearray(good)
    struct.pack_into("<H", wrong_version, 4, WIRE_VERSION + 1)
    bad_magic = b"XXXX" + good[4:]
    short = good[: HEADER.size - 1]
    cut = good[:-8]
    unknown_kind = bytearray(good)
    unknown_kind[6] = 99
    bad_probs = bytearray(Proposal("a", 1, 1, 1, (0.2, 0.3, 0.5), 0.5).encode())
    struct.pack_into("<d", bad_probs, HEADER.size + 32, math.nan)
    counter = DropCounter()
    for frame in (bytes(wrong_version), bad_magic, short, cut, bytes(unknown_kind), bytes(bad_probs), good):
        counter.take(frame)
    assert counter.taken == 1
    assert counter.dropped == {"version": 1, "magic": 1, "short": 1, "size": 1, "kind": 1, "probabilities": 1}
    with pytest.raises(MessageError, match="version"):
        decode(bytes(wrong_version))


def test_curve_endpoint_refuses_a_client_without_the_key(tmp_path: Path) -> None:
    keys, authorized = tmp_path / "keys", tmp_path / "authorized"
    authorized.mkdir()
    server_pub, server_sec = keygen(keys, "coordinator")
    client_pub, client_sec = keygen(keys, "agent1")
    _, stranger_sec = keygen(keys, "stranger")
    assert oct(server_sec.stat().st_mode & 0o777) == "0o600"
    (authorized / client_pub.name).write_bytes(client_pub.read_bytes())
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    auth = secure_server(ctx, pull, server_sec, authorized)
    pushes = []
    try:
        pull.bind("tcp://127.0.0.1:*")
        ep = pull.getsockopt_string(zmq.LAST_ENDPOINT)

        def client(secret: Path | None) -> zmq.Socket:
            s = ctx.socket(zmq.PUSH)
            s.setsockopt(zmq.SNDTIMEO, 200)
            if secret is not None:
                secure_client(s, secret, server_pub)
            s.connect(ep)
            pushes.append(s)
            return s

        for sock, who in ((client(None), b"plain"), (client(stranger_sec), b"stranger")):
            with contextlib.suppress(zmq.Again):  # never connected: the handshake was refused
                sock.send(who)
        assert pull.poll(1000) == 0, "a client without an authorized key got through"
        client(client_sec).send(b"agent1")
        assert pull.poll(5000) and pull.recv() == b"agent1"
    finally:
        close(*pushes, pull, auth)
        ctx.term()


def test_keygen_never_overwrites(tmp_path: Path) -> None:
    keygen(tmp_path, "a")
    with pytest.raises(ValueError, match="never overwritten"):
        keygen(tmp_path, "a")
