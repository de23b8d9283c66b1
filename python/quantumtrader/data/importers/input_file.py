"""An input file read as bytes, gzip-decompressed transparently (detected
by the gzip magic, not the name), with its position in the file on disk for
progress bars."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"


class InputFile:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        if os.path.isdir(self.path):
            raise IsADirectoryError(f"{self.path} is a directory")
        self._raw = open(self.path, "rb")  # noqa: SIM115 (closed by close())
        self.size = os.fstat(self._raw.fileno()).st_size
        self.compressed = self._raw.read(2) == GZIP_MAGIC
        self._raw.seek(0)
        self.stream: BinaryIO
        if self.compressed:
            self.stream = gzip.GzipFile(fileobj=self._raw, mode="rb")  # type: ignore[assignment]
        else:
            self.stream = self._raw

    def position(self) -> int:
        """Bytes of the file on disk consumed so far."""
        return self._raw.tell()

    def readinto(self, view: memoryview) -> int:
        """Fill as much of ``view`` as the file allows; 0 at the end."""
        got = 0
        while got < len(view):
            n = self.stream.readinto(view[got:])  # type: ignore[attr-defined]
            if not n:
                break
            got += n
        return got

    def lines(self) -> Iterator[bytes]:
        return iter(self.stream)

    def close(self) -> None:
        if self.compressed:
            self.stream.close()
        self._raw.close()

    def __enter__(self) -> InputFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
