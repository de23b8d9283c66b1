"""NResult -> exception mapping: one class per error name under
ProfitDLLError, carrying code, name and the failing call; and the binding
raising them for what the (simulated) DLL returns."""

from __future__ import annotations

import pickle

import pytest
from profitdll_support import configure_sim

from quantumtrader.adapters.profitdll import errors
from quantumtrader.adapters.profitdll.library import simulator_path
from quantumtrader.qtcore import profitdll
from quantumtrader.qtcore.ring import Ring

# The spec's list, 0x80000001 upward.
SPEC_NAMES = [
    "INTERNAL_ERROR", "NOT_INITIALIZED", "INVALID_ARGS", "WAITING_SERVER", "NO_LOGIN", "NO_LICENSE",
    "PASSWORD_HASH_SHA1", "PASSWORD_HASH_MD5", "OUT_OF_RANGE", "MARKET_ONLY", "NO_POSITION", "NOT_FOUND",
    "VERSION_NOT_SUPPORTED", "OCO_NO_RULES", "EXCHANGE_UNKNOWN", "NO_OCO_DEFINED", "INVALID_SERIE",
    "LICENSE_NOT_ALLOWED", "NOT_HARD_LOGOUT", "SERIE_NO_HISTORY", "ASSET_NO_DATA", "SERIE_NO_DATA",
    "HAS_STRATEGY_RUNNING", "SERIE_NO_MORE_HISTORY", "SERIE_MAX_COUNT", "DUPLICATE_RESOURCE",
    "UNSIGNED_CONTRACT", "NO_PASSWORD", "NO_USER", "FILE_ALREADY_EXISTS", "INVALID_TICKER",
    "NOT_MASTER_ACCOUNT",
]


def test_every_code_has_its_own_class() -> None:
    assert len(SPEC_NAMES) == 32
    seen = set()
    for i, name in enumerate(SPEC_NAMES):
        code = (0x80000001 + i) - (1 << 32)
        exc = errors.error_for(code, "SomeCall")
        cls = type(exc)
        assert cls is errors.ERROR_CLASSES[code] and cls not in seen
        seen.add(cls)
        assert isinstance(exc, errors.ProfitDLLError)
        assert (exc.code, exc.name, exc.call) == (code, "NL_" + name, "SomeCall")
        assert cls.code == code and cls.name == "NL_" + name
        assert f"NL_{name}" in str(exc) and f"{0x80000001 + i:#010x}" in str(exc)
        with pytest.raises(cls):
            errors.check_nresult(code, "SomeCall")
        again = pickle.loads(pickle.dumps(exc))
        assert type(again) is cls and again.code == code and again.call == "SomeCall"
    assert errors.InvalidArgsError.name == "NL_INVALID_ARGS"
    assert errors.PasswordHashSHA1Error.name == "NL_PASSWORD_HASH_SHA1"


def test_non_errors_pass_and_unknown_codes_still_raise() -> None:
    assert errors.check_nresult(0, "X") == 0
    assert errors.check_nresult(42, "SendOrder") == 42  # an order id
    with pytest.raises(errors.UnknownNResultError) as e:
        errors.check_nresult(-7, "X")
    assert e.value.code == -7 and isinstance(e.value, errors.ProfitDLLError)
    assert errors.nresult_name(0) == "NL_OK" and errors.nresult_name(-7) == "NResult(-7)"


def test_the_binding_raises_what_the_dll_returns(tmp_path) -> None:
    dll = profitdll.ProfitDLL(simulator_path())
    configure_sim(dll, None)
    with pytest.raises(errors.NotInitializedError) as e:
        dll.subscribe_ticker("WDOZ26", "F")
    assert e.value.call == "SubscribeTicker(WDOZ26:F)"
    with pytest.raises(errors.NotInitializedError):
        dll.get_server_clock()
    market = Ring(1024)
    with pytest.raises(errors.NoPasswordError):
        dll.login("key", "user", "", market=market)
    assert not dll.logged_in  # nothing started: the rings were released
    with pytest.raises(errors.NoUserError):
        dll.login("key", "", "pw", market=market)
    dll.login("key", "user", "pw", market=market)
    try:
        with pytest.raises(RuntimeError):
            dll.login("key", "user", "pw", market=market)  # one session at a time
        with pytest.raises(errors.InvalidArgsError):
            dll.get_history_trades("WDOZ26", "F", "yesterday", "today")
        with pytest.raises(errors.MarketOnlyError):
            dll.get_order_details(1)
        with pytest.raises(ValueError):
            dll.subscribe_ticker("WDO\0Z26", "F")  # not something to hand a C string
    finally:
        dll.finalize()
    assert not dll.logged_in
