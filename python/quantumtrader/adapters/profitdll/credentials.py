"""ProfitDLL credentials: from environment variables or the OS keyring,
never from a file in the repository, never into a log.

Environment: ``QT_PROFIT_KEY`` (activation key), ``QT_PROFIT_USER``,
``QT_PROFIT_PASSWORD`` and, for routing, ``QT_PROFIT_ROUTING_PASSWORD``.
Keyring (when the optional ``keyring`` package is installed): service
``quantumtrader.profitdll``, entries ``activation_key``, ``user``,
``password``, ``routing_password``.

:class:`ProfitCredentials` shows no value in ``repr``/``str`` (only which
ones are set and where they came from), so logging the object, an exception
holding it or a connection that owns it cannot leak them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "ENV_KEY",
    "ENV_PASSWORD",
    "ENV_ROUTING_PASSWORD",
    "ENV_USER",
    "KEYRING_SERVICE",
    "CredentialsError",
    "ProfitCredentials",
    "load_credentials",
]

ENV_KEY = "QT_PROFIT_KEY"
ENV_USER = "QT_PROFIT_USER"
ENV_PASSWORD = "QT_PROFIT_PASSWORD"
ENV_ROUTING_PASSWORD = "QT_PROFIT_ROUTING_PASSWORD"
KEYRING_SERVICE = "quantumtrader.profitdll"
_FIELDS = ("activation_key", "user", "password", "routing_password")
_ENV = dict(zip(_FIELDS, (ENV_KEY, ENV_USER, ENV_PASSWORD, ENV_ROUTING_PASSWORD), strict=True))


class CredentialsError(RuntimeError):
    """Credentials missing (the message names the variables, never values)."""


@dataclass(frozen=True, eq=False)
class ProfitCredentials:
    activation_key: str = field(repr=False)
    user: str = field(repr=False)
    password: str = field(repr=False)
    routing_password: str = field(default="", repr=False)
    source: str = "explicit"

    def __repr__(self) -> str:
        have = [f for f in _FIELDS if getattr(self, f)]
        return f"ProfitCredentials(source={self.source!r}, set={have})"

    __str__ = __repr__

    def __reduce__(self):  # no pickling into a file or another process by accident
        raise TypeError("ProfitCredentials cannot be pickled")

    def require(self, routing: bool) -> None:
        missing = [_ENV[f] for f in _FIELDS[:3] if not getattr(self, f)]
        if routing and not self.routing_password:
            missing.append(_ENV["routing_password"])
        if missing:
            raise CredentialsError(f"missing ProfitDLL credentials ({self.source}): " + ", ".join(missing))

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> ProfitCredentials:
        e = os.environ if env is None else env
        return cls(*(e.get(_ENV[f], "") for f in _FIELDS), source="environment")

    @classmethod
    def from_keyring(cls, service: str = KEYRING_SERVICE) -> ProfitCredentials | None:
        """The keyring's entries, or None when the ``keyring`` package is
        not installed or holds nothing for the service."""
        try:
            import keyring  # optional dependency
        except ImportError:
            return None
        values = []
        for f in _FIELDS:
            try:
                values.append(keyring.get_password(service, f) or "")
            except Exception as exc:  # a locked or absent backend is "no keyring"
                raise CredentialsError(f"keyring service {service!r}: {type(exc).__name__}") from None
        if not any(values):
            return None
        return cls(*values, source=f"keyring:{service}")


def load_credentials(routing: bool = False, env: Mapping[str, str] | None = None) -> ProfitCredentials:
    """Environment first; if it lacks the login fields, the keyring.  Raises
    CredentialsError naming what is missing."""
    creds = ProfitCredentials.from_environment(env)
    if not (creds.activation_key and creds.user and creds.password):
        from_ring = ProfitCredentials.from_keyring()
        if from_ring is not None:
            creds = from_ring
    creds.require(routing)
    return creds
