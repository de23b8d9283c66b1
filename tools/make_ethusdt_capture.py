"""Make ``tests/data/binance-usdm-ethusdt-sample.gz``: a small ETHUSDT-like
Binance USD-M capture for the import tests, derived from the real BTCUSDT
capture of ``shared/data/real`` (hftbacktest's example data, MIT).

The first ``LINES`` lines are kept line for line (receive times, update ids,
quantities, trade ids, stream layout and the REST snapshot unchanged); the
symbol becomes ETHUSDT and every price moves to ETHUSDT's grid: a BTCUSDT
price of ``k`` ticks of 0.1 becomes ``k`` ticks of 0.01 (61800.20 ->
6180.02), printed with two decimals as Binance prints ETHUSDT.  Price order and the book's
structure are kept exactly, so the sample syncs, never crosses and has no
gap, like the original; only the grid differs (most prices now need the
second decimal), which is what a 0.1 price unit gets wrong.

    python tools/make_ethusdt_capture.py SHARED/data/real/binance-usdm-btcusdt-20240808.gz \\
        tests/data/binance-usdm-ethusdt-sample.gz
"""

from __future__ import annotations

import gzip
import json
import sys

LINES = 3000


def eth_price(text: str) -> str:
    whole, _, frac = text.partition(".")
    if frac.rstrip("0")[1:]:
        raise ValueError(f"price {text} is not on BTCUSDT's 0.1 grid")
    ticks = int(whole) * 10 + int((frac + "0")[0])
    return f"{ticks // 100}.{ticks % 100:02d}"


def convert(msg: dict) -> dict:
    data = msg.get("data", msg)
    if "stream" in msg:
        msg["stream"] = msg["stream"].replace("btcusdt", "ethusdt")
    if "s" in data:
        data["s"] = "ETHUSDT"
    for key in ("bids", "asks", "b", "a"):
        if isinstance(data.get(key), list):
            data[key] = [[eth_price(p), q] for p, q in data[key]]
    for key in ("p", "b", "a"):
        if isinstance(data.get(key), str):
            data[key] = eth_price(data[key])
    return msg


def main(src: str, dst: str) -> None:
    out = []
    with gzip.open(src, "rb") as f:
        for i, line in enumerate(f):
            if i == LINES:
                break
            recv, _, payload = line.partition(b" ")
            msg = convert(json.loads(payload))
            out.append(recv + b" " + json.dumps(msg, separators=(",", ":")).encode() + b"\n")
    with gzip.GzipFile(dst, "wb", mtime=0) as g:
        g.write(b"".join(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
