"""Loading the library: every export the system uses is resolved at load
time, so a DLL lacking one (or a file that is no DLL) is a clear error
before login; and where the library is looked for."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from quantumtrader.adapters.profitdll import library
from quantumtrader.adapters.profitdll.errors import LibraryLoadError
from quantumtrader.adapters.profitdll.library import LibraryNotFoundError, profit_dll_path, simulator_path
from quantumtrader.qtcore import profitdll


def build_library(tmp_path: Path, exports: list[str]) -> Path:
    """A tiny shared library exporting `exports` (each returns NL_INTERNAL_ERROR)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or sys.platform == "win32":
        pytest.skip("needs a C compiler producing ELF shared libraries")
    src = tmp_path / "partial.c"
    src.write_text("".join(f"int {name}(void) {{ return (int)0x80000001u; }}\n" for name in exports))
    out = tmp_path / "libpartial.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    return out


def test_required_exports_are_the_ones_the_system_calls() -> None:
    names = profitdll.required_exports()
    assert len(set(names)) == len(names)
    for n in ("DLLInitializeLogin", "DLLInitializeMarketLogin", "DLLFinalize", "SetTradeCallbackV2",
              "SetHistoryTradeCallbackV2", "SetChangeStateTickerCallback", "SetOrderCallback",
              "SubscribeTicker", "SubscribePriceBook", "SubscribeOfferBook", "GetHistoryTrades",
              "TranslateTrade", "FreePointer", "GetOrderDetails", "SendOrder", "SendChangeOrderV2",
              "SendCancelOrderV2", "SendCancelAllOrdersV2", "SendZeroPositionV2", "GetPositionV2",
              "GetServerClock"):
        assert n in names


def test_a_missing_export_is_a_clear_error_before_login(tmp_path: Path) -> None:
    names = list(profitdll.required_exports())
    lib = build_library(tmp_path, [n for n in names if n not in ("SendOrder", "TranslateTrade")])
    calls_before = profitdll.feed_counters()["calls"]["state"]
    with pytest.raises(LibraryLoadError) as err:
        profitdll.ProfitDLL(lib)
    assert set(err.value.missing) == {"SendOrder", "TranslateTrade"}
    assert "SendOrder" in str(err.value) and "TranslateTrade" in str(err.value)
    assert str(lib) in str(err.value)
    assert profitdll.feed_counters()["calls"]["state"] == calls_before  # nothing ran
    # with every export present it loads (and is refused only when used)
    (tmp_path / "full").mkdir()
    dll = profitdll.ProfitDLL(build_library(tmp_path / "full", names))
    assert not dll.logged_in and dll.has_export("SendOrder") and not dll.has_export("SimSetSpeed")
    with pytest.raises(LibraryLoadError):
        dll.sim_set_speed(1.0)  # not the simulator


def test_a_file_that_is_not_a_library_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "ProfitDLL64.dll"
    fake.write_bytes(b"MZ this is not a library")
    with pytest.raises(LibraryLoadError) as err:
        profitdll.ProfitDLL(fake)
    assert str(fake) in str(err.value) and err.value.missing == ()
    with pytest.raises(LibraryLoadError):
        profitdll.ProfitDLL(tmp_path / "absent.dll")


def test_where_the_libraries_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = Path(simulator_path())
    assert sim.is_absolute() and sim.is_file()
    monkeypatch.delenv(library.DLL_PATH_ENV, raising=False)
    monkeypatch.delenv(library.DLL_FOLDER_ENV, raising=False)
    with pytest.raises(LibraryNotFoundError) as err:
        profit_dll_path()
    assert "--dll" in str(err.value) and library.DLL_PATH_ENV in str(err.value)
    dll = tmp_path / "ProfitDLL64.dll"
    dll.write_bytes(b"x")
    assert profit_dll_path(tmp_path) == str(dll.resolve())  # a folder: the DLL inside it
    assert profit_dll_path(dll) == str(dll.resolve())
    monkeypatch.setenv(library.DLL_FOLDER_ENV, str(tmp_path))
    assert profit_dll_path() == str(dll.resolve())
    monkeypatch.setenv(library.DLL_PATH_ENV, str(tmp_path / "other.dll"))
    with pytest.raises(LibraryNotFoundError):
        profit_dll_path()
