"""ProfitDLL results as Python exceptions.

Every export returns an NResult (``NL_OK = 0``; errors from ``0x80000001``
upward, negative as int32).  :func:`check_nresult` turns each error into an
instance of its own class, all subclasses of :class:`ProfitDLLError`, which
carries the code, the name and the call that failed; nothing is ignored.
"""

from __future__ import annotations

__all__ = [
    "ERROR_CLASSES",
    "NL_OK",
    "LibraryLoadError",
    "ProfitDLLError",
    "UnknownNResultError",
    "check_nresult",
    "error_for",
    "nresult_name",
]

from quantumtrader.qtcore import nresult as _c

NL_OK = _c.OK

# The names in the DLL's order, 0x80000001 upward as signed int32, from the
# C header (qt_profitdll.h): the one list of them.
_NAMES: tuple[str, ...] = _c.error_names()
_FIRST = _c.FIRST_ERROR  # -2147483647


class LibraryLoadError(RuntimeError):
    """The library could not be loaded, or lacks exports the system uses
    (``missing`` names them).  Raised before any login."""

    def __init__(self, message: str, path: str, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.path = path
        self.missing = missing


class ProfitDLLError(Exception):
    """An NResult other than NL_OK.  ``code`` is the signed int32 value,
    ``name`` the DLL's name for it (``"NL_INVALID_ARGS"``), ``call`` the
    export that returned it."""

    code: int = 0
    name: str = ""

    def __init__(self, code: int, call: str = "", detail: str = "") -> None:
        self.code = int(code)
        self.name = nresult_name(self.code)
        self.call = call
        self.detail = detail
        where = f"{call}: " if call else ""
        extra = f" ({detail})" if detail else ""
        super().__init__(f"{where}{self.name} ({self.code & 0xFFFFFFFF:#010x}){extra}")

    def __reduce__(self):  # picklable across processes despite the custom __init__
        return (type(self), (self.code, self.call, self.detail))


class UnknownNResultError(ProfitDLLError):
    """A negative result outside the documented range (a newer DLL?)."""


def _class_name(nl_name: str) -> str:
    words = nl_name.removeprefix("NL_").split("_")
    base = "".join(w.capitalize() for w in words)
    base = base.replace("Sha1", "SHA1").replace("Md5", "MD5").replace("Oco", "OCO")
    return base if base.endswith("Error") else base + "Error"


ERROR_CLASSES: dict[int, type[ProfitDLLError]] = {}
for _i, _name in enumerate(_NAMES):
    _cls = type(_class_name(_name), (ProfitDLLError,), {
        "__doc__": f"ProfitDLL returned {_name}.",
        "__module__": __name__,
    })
    _cls.code = _FIRST + _i
    _cls.name = _name
    globals()[_cls.__name__] = _cls
    __all__.append(_cls.__name__)
    ERROR_CLASSES[_FIRST + _i] = _cls
del _i, _name, _cls


def nresult_name(code: int) -> str:
    """``"NL_OK"``, the error's name, or ``"NResult(<code>)"`` if unknown."""
    if code == NL_OK:
        return "NL_OK"
    cls = ERROR_CLASSES.get(int(code))
    return cls.name if cls is not None else f"NResult({int(code)})"


def error_for(code: int, call: str = "", detail: str = "") -> ProfitDLLError:
    """The exception instance for an error code."""
    cls = ERROR_CLASSES.get(int(code), UnknownNResultError)
    return cls(code, call, detail)


def check_nresult(code: int, call: str) -> int:
    """Return ``code`` when it is not an error (>= 0: NL_OK, an order id, a
    count); raise its exception otherwise."""
    code = int(code)
    if code >= 0:
        return code
    raise error_for(code, call)
