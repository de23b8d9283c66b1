"""Credentials come from the environment or the keyring and never show."""

from __future__ import annotations

import sys
import types

import pytest

from quantumtrader.adapters.profitdll import credentials as cr
from quantumtrader.adapters.profitdll.credentials import CredentialsError, ProfitCredentials, load_credentials

ENV = {cr.ENV_KEY: "k-0451", cr.ENV_USER: "u-0452", cr.ENV_PASSWORD: "p-0453",
       cr.ENV_ROUTING_PASSWORD: "r-0454"}


def test_from_environment_and_never_shown() -> None:
    c = load_credentials(routing=True, env=ENV)
    assert (c.activation_key, c.user, c.password, c.routing_password) == (
        "k-0451", "u-0452", "p-0453", "r-0454")
    for text in (repr(c), str(c), f"{c}", f"{c!r}"):
        for secret in ENV.values():
            assert secret not in text
    assert "environment" in repr(c)


def test_missing_names_the_variables_not_the_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # no keyring installed
    env = {cr.ENV_KEY: "k-0451", cr.ENV_USER: "u-0452"}
    with pytest.raises(CredentialsError) as err:
        load_credentials(env=env)
    assert cr.ENV_PASSWORD in str(err.value) and "k-0451" not in str(err.value)
    with pytest.raises(CredentialsError) as err:
        load_credentials(routing=True, env={**env, cr.ENV_PASSWORD: "p"})
    assert cr.ENV_ROUTING_PASSWORD in str(err.value)
    assert ProfitCredentials.from_keyring() is None


def test_keyring_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    store = {(cr.KEYRING_SERVICE, "activation_key"): "kk", (cr.KEYRING_SERVICE, "user"): "uu",
             (cr.KEYRING_SERVICE, "password"): "pp"}
    fake = types.SimpleNamespace(get_password=lambda service, name: store.get((service, name)))
    monkeypatch.setitem(sys.modules, "keyring", fake)
    c = load_credentials(env={})
    assert (c.activation_key, c.user, c.password) == ("kk", "uu", "pp")
    assert c.source == f"keyring:{cr.KEYRING_SERVICE}" and "pp" not in repr(c)
    # the environment wins when it has the login fields
    assert load_credentials(env=ENV).user == "u-0452"
