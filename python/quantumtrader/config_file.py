"""TOML configuration files: reading one, and turning a ``[section]`` table
into a frozen dataclass with every refusal a single line that names the file,
the section and the key (``live.toml: [risk] daily_loss_limit_brl: must be
>= 0``).

Field types understood: ``int``, ``float`` (an int is accepted), ``str``,
``bool``, ``Decimal`` (money: an int, a float written in the file or a
string, converted through its text so 0.1 stays 0.1), ``tuple[str, ...]``
(a list of strings) and ``Mapping[str, Decimal]`` (a sub-table of amounts).
The dataclass's own ``__post_init__`` checks ranges; its ValueError text is
prefixed with the file and section."""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["ConfigError", "read_toml", "section"]


class ConfigError(ValueError):
    """A configuration cannot be used (one line naming the file and key)."""


def read_toml(path: str) -> dict[str, Any]:
    """The TOML document in ``path``; ConfigError when unreadable or malformed."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _convert(origin: str, where: str, want: Any, value: Any) -> Any:
    """``value`` as the field type ``want``, or ConfigError."""
    def bad(kind: str) -> ConfigError:
        return ConfigError(f"{origin}: {where}: must be {kind} (got {value!r})")

    if want is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if want is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        return value
    if want is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return float(value)
    if want is str:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if want is Decimal:
        d = _amount(value)
        if d is None:
            raise bad("an amount")
        return d
    origin_t = typing.get_origin(want)
    args = typing.get_args(want)
    if origin_t is tuple and args[:1] == (str,):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings")
        return tuple(value)
    if origin_t in (Mapping, dict, typing.Mapping) and args == (str, Decimal):
        if not isinstance(value, dict):
            raise bad("a table of amounts")
        out = {}
        for k, v in value.items():
            d = _amount(v)
            if d is None:
                raise ConfigError(f"{origin}: {where}.{k}: must be an amount (got {v!r})")
            out[str(k)] = d
        return out
    raise bad(str(want))


def section(origin: str, name: str, typ: type, table: Any) -> Any:
    """The dataclass ``typ`` built from the TOML table ``[name]``: unknown
    keys, wrong types and the dataclass's own range checks are refused in
    one line naming ``origin`` and the key; missing keys keep defaults."""
    if not isinstance(table, dict):
        raise ConfigError(f"{origin}: [{name}] must be a table")
    hints = typing.get_type_hints(typ)
    fields = [f.name for f in dataclasses.fields(typ) if f.init]
    values = {}
    for key, value in table.items():
        if key not in fields:
            raise ConfigError(f"{origin}: [{name}] unknown key {key!r} (known: {', '.join(fields)})")
        values[key] = _convert(origin, f"[{name}] {key}", hints[key], value)
    try:
        return typ(**values)
    except (ValueError, TypeError) as e:
        text = str(e)
        text = text[len(name) + 1:] if text.startswith(f"{name}.") else text  # "[risk] risk.x" reads twice
        raise ConfigError(f"{origin}: [{name}] {text}") from None
