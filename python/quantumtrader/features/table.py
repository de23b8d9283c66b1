"""Feature tables on disk (Parquet): one row per decision point with ``ts``
(int64 ns UTC, the engine's clock), ``trade_number`` and the features of one
set in spec order, float64, NaN where the spec says.

The file's key-value metadata (key ``quantumtrader.features``, JSON, written
when the table is closed) records the set name, spec version, schema hash and
names, so a training run or an audit can refuse a table made under another
schema, plus what the writer was given: the session parameters the engine ran
with, the input, the engine's counters.  Used for training sets (``quantumtrader features``) and for
the audit log of the live loop (every N-th vector)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from quantumtrader.features.schema import FeatureSchema
from quantumtrader.output_path import commit_partial, partial_path

METADATA_KEY = b"quantumtrader.features"
TABLE_FORMAT = "qt-feature-table/1"


def _compression() -> str:
    return "zstd" if pa.Codec.is_available("zstd") else "snappy"


class FeatureTableWriter:
    """Writes batches to ``path`` as they come (constant memory).  The file
    appears under its name only when :meth:`close` succeeds (a hidden
    partial sibling renamed in place, the rules of output_path); a failed or
    aborted write leaves nothing behind and an existing table as it was."""

    def __init__(
        self, path: str | os.PathLike[str], schema: FeatureSchema, metadata: dict[str, Any] | None = None
    ) -> None:
        self.path = os.fspath(path)
        self.schema = schema
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._arrow_schema = pa.schema(
            [("ts", pa.int64()), ("trade_number", pa.int64())] + [(n, pa.float64()) for n in schema.names]
        )
        self._partial = os.fspath(partial_path(self.path))
        try:
            self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
                self._partial, self._arrow_schema, compression=_compression()
            )
        except BaseException:
            os.remove(self._partial)
            raise
        self.rows_written = 0

    def write(self, ts: np.ndarray, trade_number: np.ndarray, matrix: np.ndarray) -> None:
        """One batch: ``matrix`` has a row per entry of ``ts`` and at least as many
        columns as the schema (the engine's 77; a qt65 table takes the first 65)."""
        if self._writer is None:
            raise ValueError(f"{self.path}: the feature table is closed")
        n, width = len(self.schema), matrix.shape[1] if matrix.ndim == 2 else -1
        if matrix.ndim != 2 or width < n or len(matrix) != len(ts) or len(ts) != len(trade_number):
            raise ValueError(f"batch of shape {matrix.shape} with {len(ts)} ts does not fit {n} features")
        if len(ts) == 0:
            return
        by_column = np.ascontiguousarray(matrix[:, :n].T)  # one transpose, then every column is contiguous
        columns = [
            pa.array(np.asarray(ts, dtype=np.int64)),
            pa.array(np.asarray(trade_number, dtype=np.int64)),
        ]
        columns += [pa.array(by_column[j]) for j in range(n)]
        self._writer.write_table(pa.Table.from_arrays(columns, schema=self._arrow_schema))
        self.rows_written += len(ts)

    def close(self, metadata: dict[str, Any] | None = None) -> None:
        """Finish the file (``metadata`` is added to what the writer was given)."""
        if self._writer is None:
            return
        self.metadata.update(metadata or {})
        meta = {
            "format": TABLE_FORMAT,
            "set": self.schema.set_name,
            "spec_version": self.schema.spec_version,
            "schema_hash": self.schema.hash,
            "names": list(self.schema.names),
            "rows": self.rows_written,
            **self.metadata,
        }
        writer, self._writer = self._writer, None
        try:
            writer.add_key_value_metadata({METADATA_KEY: json.dumps(meta).encode("utf-8")})
            writer.close()
            commit_partial(self._partial, self.path)
        except BaseException:
            if os.path.exists(self._partial):
                os.remove(self._partial)
            raise

    def abort(self) -> None:
        """Drop what was written (the target file is left as it was)."""
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        try:
            writer.close()
        finally:
            if os.path.exists(self._partial):
                os.remove(self._partial)

    def __enter__(self) -> FeatureTableWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


@dataclass(frozen=True)
class FeatureTable:
    metadata: dict[str, Any]
    names: tuple[str, ...]
    ts: np.ndarray
    trade_number: np.ndarray
    matrix: np.ndarray  # (rows, len(names)) float64

    @property
    def schema_hash(self) -> str:
        return str(self.metadata["schema_hash"])


def read_feature_table(path: str | os.PathLike[str]) -> FeatureTable:
    """Read a whole feature table.  Raises ValueError for a Parquet file that is
    not one, or whose columns disagree with its recorded schema."""
    file_meta = pq.read_metadata(os.fspath(path)).metadata or {}
    raw = file_meta.get(METADATA_KEY)
    if raw is None:
        raise ValueError(f"{os.fspath(path)}: not a feature table (no {METADATA_KEY.decode()} metadata)")
    meta = json.loads(raw)
    names = tuple(meta["names"])
    table = pq.read_table(os.fspath(path))
    if tuple(table.column_names) != ("ts", "trade_number", *names):
        raise ValueError(f"{os.fspath(path)}: columns do not match the recorded feature names")
    matrix = (
        np.column_stack([table.column(n).to_numpy() for n in names]) if names else np.empty((len(table), 0))
    )
    return FeatureTable(
        meta,
        names,
        table.column("ts").to_numpy(),
        table.column("trade_number").to_numpy(),
        matrix.astype(np.float64, copy=False),
    )
