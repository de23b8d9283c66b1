"""Self-contained HTML report pages: what the training report and the
trading report share.

A page built here opens offline and alone: the stylesheet is inline, every
chart is a PNG drawn by matplotlib's Agg renderer (``Figure`` objects, so
pyplot's global state is never touched) and embedded as a
``data:image/png;base64`` URI, and there is no script, link or remote
reference.  Every text that goes into the page is HTML-escaped here.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["CSS", "figure", "figure_png", "img", "page", "table"]

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:72em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em}th,td{padding:.3em .7em;border-bottom:1px solid #e4e4e4}
th{background:#f4f6f8;text-align:right}td{text-align:right;font-variant-numeric:tabular-nums}
th:first-child,td:first-child{text-align:left}tr.all td{font-weight:600;border-top:2px solid #999}
.gate{padding:.6em 1em;border-radius:4px;display:inline-block;font-weight:600}
.passed{background:#e3f4e8;color:#1d6b36}.refused{background:#fbe6e4;color:#8e2a1f}
.note{color:#666;font-size:.85em}img{max-width:100%}
"""


def figure(width_in: float, height_in: float) -> Any:
    """A matplotlib Figure on the Agg canvas, laid out to fit its labels."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), layout="constrained")


def figure_png(fig: Any, dpi: int = 110) -> bytes:
    """The figure as PNG bytes (for a file, or for ``img``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def img(png: bytes | None, alt: str, missing: str) -> str:
    """An ``<img>`` holding ``png`` inline, or a note saying ``missing``."""
    if png is None:
        return f'<p class="note">{html.escape(missing)}</p>'
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def table(head: Sequence[str], rows: Iterable[tuple[str, Sequence[str]]], total_label: str = "all") -> str:
    """A table of text cells; each row is (label, cells) and the row whose
    label is ``total_label`` is set apart as the total."""
    out = ["<table>", "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for label, cells in rows:
        css = ' class="all"' if label == total_label else ""
        out.append(f"<tr{css}>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def page(title: str, body: Iterable[str], css: str = "") -> str:
    """The whole document: ``title`` as its title and first heading, then
    the ``body`` fragments (already HTML), the shared stylesheet plus ``css``."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{CSS}{css}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *(part for part in body if part),
        "</body></html>\n",
    ]
    return "\n".join(parts)
