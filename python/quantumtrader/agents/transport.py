"""Where the agents' sockets live and who may connect.

- ``inproc://``: everything in one process (backtests; one ``zmq.Context``).
- ``ipc://``: one machine, the default where this libzmq has it
  (:func:`ipc_available`); the socket file goes in the run folder.  A path
  too long for a Unix socket falls back to ``tcp://127.0.0.1`` on a free port.
- ``tcp://``: agents on other machines, with CURVE: the server has a key
  pair, each client its own, and the server accepts only the public keys
  found in its ``authorized/`` folder (:func:`secure_server`).  Keys are made
  by :func:`keygen` (``quantumtrader agents keygen``): ``NAME.key`` (public)
  and ``NAME.key_secret`` (owner read/write only), outside the repository.

The same agent code runs over all three: only the endpoint string and, for
CURVE, the keys differ."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

__all__ = [
    "KeyFileError", "bind_endpoint", "close", "ipc_available", "keygen", "load_keys", "secure_client",
    "secure_server",
]

_UNIX_PATH_MAX = 100  # sun_path is 104-108 bytes depending on the system: stay below all


class KeyFileError(ValueError):
    """A CURVE key file that cannot be used (one line naming the file)."""


def ipc_available() -> bool:
    """This libzmq supports ipc:// endpoints."""
    return bool(zmq.has("ipc"))


def bind_endpoint(sock: zmq.Socket, folder: Path | None, name: str, *, transport: str = "auto",
                  address: str = "127.0.0.1:*") -> str:
    """Bind ``sock`` and return the endpoint peers connect to.  ``transport``:
    ``auto`` (ipc in ``folder`` when possible, else tcp on loopback),
    ``ipc``, ``tcp`` (on ``address``, ``HOST:PORT``; port ``*`` = a free
    one) or ``inproc``."""
    if transport == "inproc":
        ep = f"inproc://qt-{name}"
        sock.bind(ep)
        return ep
    if transport in ("auto", "ipc") and folder is not None and ipc_available():
        path = (Path(folder) / f"{name}.sock").resolve()
        if len(str(path)) < _UNIX_PATH_MAX:
            ep = f"ipc://{path}"
            sock.bind(ep)
            return ep
        if transport == "ipc":
            raise ValueError(f"{path}: too long for an ipc socket; use a shorter run folder or tcp")
    elif transport == "ipc":
        raise ValueError("this libzmq has no ipc:// transport" if not ipc_available()
                         else "an ipc endpoint needs a folder")
    sock.bind(f"tcp://{address if transport == 'tcp' else '127.0.0.1:*'}")
    return sock.getsockopt_string(zmq.LAST_ENDPOINT)


def keygen(folder: Path, name: str) -> tuple[Path, Path]:
    """A CURVE key pair ``folder/NAME.key`` (public) and
    ``folder/NAME.key_secret`` (mode 0600); refuses to overwrite."""
    folder.mkdir(parents=True, exist_ok=True)
    public, secret = folder / f"{name}.key", folder / f"{name}.key_secret"
    for p in (public, secret):
        if p.exists():
            raise KeyFileError(f"{p}: exists; keys are never overwritten")
    pub, sec = zmq.auth.create_certificates(str(folder), name)
    os.chmod(sec, stat.S_IRUSR | stat.S_IWUSR)
    return Path(pub), Path(sec)


def load_keys(path: Path) -> tuple[bytes, bytes | None]:
    """(public, secret or None) of a key file; KeyFileError for a bad one, or a
    secret readable by others."""
    try:
        public, secret = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as e:
        raise KeyFileError(f"{path}: not a CURVE key file ({e})") from None
    if secret is not None and os.name != "nt" and os.stat(path).st_mode & 0o077:
        raise KeyFileError(f"{path}: a secret key readable by others; chmod 600 it")
    return public, secret


def secure_server(ctx: zmq.Context, sock: zmq.Socket, secret_file: Path,
                  authorized: Path) -> ThreadAuthenticator:
    """Make ``sock`` a CURVE server that accepts only the public keys in the
    folder ``authorized``; returns the running authenticator (stop it with
    the socket)."""
    public, secret = load_keys(secret_file)
    if secret is None:
        raise KeyFileError(f"{secret_file}: holds no secret key")
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain="*", location=str(authorized))
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.curve_server = True
    return auth


def secure_client(sock: zmq.Socket | zmq.Context, secret_file: Path, server_public_file: Path) -> None:
    """Make ``sock`` a CURVE client of the server whose public key is in
    ``server_public_file``.  Given a Context, the keys become its defaults
    for every socket it opens afterwards (how an agent process secures the
    sockets ``run_agent`` opens)."""
    public, secret = load_keys(secret_file)
    if secret is None:
        raise KeyFileError(f"{secret_file}: holds no secret key")
    server_public, _ = load_keys(server_public_file)
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.curve_serverkey = server_public


def close(*items: Any) -> None:
    """Close sockets (linger 0) and stop authenticators, ignoring what is already closed."""
    for item in items:
        if isinstance(item, ThreadAuthenticator):
            item.stop()
        elif isinstance(item, zmq.Socket) and not item.closed:
            item.close(linger=0)
