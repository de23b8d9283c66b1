"""The model bundle: a folder ``models/NAME`` holding an ensemble and all it was trained with.

Files:
- ``manifest.json``: see ``ModelBundle.manifest`` (format, feature schema,
  classes, session / sampler / label parameters, training range and
  instruments, metrics, gate result and ``promoted``, models with their
  soft-vote weights, library versions, sha256 of every native file, and last
  ``manifest_sha256``: sha256 of its own canonical JSON without that field,
  so an edited manifest is refused like a tampered model file);
- ``xgboost.json``: the Booster in XGBoost's own JSON;
- ``forest.skops``: the scikit-learn forest in skops' format (no pickle: a
  zip of JSON and numpy arrays; loading instantiates only the types of
  ``FOREST_TRUSTED`` and scikit-learn/numpy's default-trusted ones, anything
  else is refused);
- ``compiled/<platform-tag>/``: the libraries ``compile.ensure_compiled``
  builds on first use.  A cache, not an input: not checksummed, rebuilt when
  built for another platform or library version (a bundle in a read-only
  folder is compiled into the per-user cache, ``compile.user_cache_dir``).

Saving writes a hidden sibling folder and renames it into place; an existing
bundle is replaced only with ``replace=True``, and never the folder the
bundle was loaded from (its input).  Loading refuses, with one line
(``BundleError``, or ``SchemaMismatch`` for the schema): a missing folder or
file, bad JSON, an unknown format version, a native file whose sha256
differs from the manifest or a manifest whose own checksum differs
("tampered or corrupt: <file> checksum differs"),
a feature schema the engine does not produce (naming the missing or
reordered features), and (``allow_unvalidated=False``) a bundle the gate did
not promote.

Prediction: ``predict_proba`` runs the compiled ensemble
(``quantumtrader.qtcore.predict.Ensemble``, the code the live loop runs);
``native_proba`` runs XGBoost and scikit-learn themselves (research, and the
parity reference).  Both take the engine's full rows (n, 77) float64 in the
qt77 order and return (n, 3) float64 (sell, hold, buy); a row with NaN in the
model's features gives NaN (not predicted)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from quantumtrader.features.schema import (
    QT77_NAMES,
    FeatureSchema,
    SchemaMismatch,
    schema_for,
)
from quantumtrader.models import compile as model_compile
from quantumtrader.models.classes import CLASSES, LABELS
from quantumtrader.output_path import atomic_output, commit_partial

if TYPE_CHECKING:  # the training libraries load only where a native model is read or checked
    from sklearn.ensemble import RandomForestClassifier

FORMAT = "quantumtrader-model-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHECKSUM_FIELD = "manifest_sha256"
MODEL_FILES = {"xgboost": "xgboost.json", "forest": "forest.skops"}
FOREST_TRUSTED = ["sklearn.tree._tree.Tree"]
ENGINE_WIDTH = len(QT77_NAMES)


def default_bundle_dir() -> Path:
    """``models/default``: inside the installed package (``default_bundle``), or
    the repository's folder when running from a source tree."""
    packaged = Path(__file__).with_name("default_bundle")
    if (packaged / MANIFEST).is_file():
        return packaged
    return Path(__file__).resolve().parents[3] / "models" / "default"


class BundleError(ValueError):
    """A bundle cannot be saved or loaded (one line: which folder or file, and why)."""


def _skops_io() -> Any:
    """``skops.io``, imported so that it cannot import arbitrary modules.

    On import skops names the type of every object without ``__module__``
    (scipy's ufuncs: ``exp1``, ``gamma``...) by ``getattr(entry, name)`` over
    all of ``sys.modules``.  When Cython is installed, scipy has loaded
    ``Cython.Shadow``, which puts objects that are not modules in
    ``sys.modules`` (``cython.cimports``...) whose ``__getattr__`` imports any
    name asked of it: a file ``exp1.py`` in the current folder (on
    ``sys.path`` under ``python -m``) would run.  Entries that are not modules
    are set aside during the import."""
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    import scipy.special  # noqa: F401  (whatever loads Cython.Shadow is loaded now)

    aside = {k: v for k, v in list(sys.modules.items()) if not isinstance(v, types.ModuleType)}
    for name in aside:
        sys.modules.pop(name, None)
    try:
        import skops.io
    finally:
        for name, entry in aside.items():
            sys.modules.setdefault(name, entry)
    return skops.io


def save_forest(model: RandomForestClassifier, path: str | os.PathLike[str]) -> None:
    """Write a forest in skops' format (no pickle)."""
    _skops_io().dump(model, path)


def load_forest(path: str | os.PathLike[str]) -> RandomForestClassifier:
    """Read a forest written by ``save_forest``; BundleError if the file holds
    anything but a RandomForestClassifier of trusted types."""
    skops_io = _skops_io()
    try:
        untrusted = set(skops_io.get_untrusted_types(file=path)) - set(FOREST_TRUSTED)
        if untrusted:
            raise BundleError(f"{path}: refusing untrusted types {', '.join(sorted(untrusted))}")
        model = skops_io.load(path, trusted=FOREST_TRUSTED)
    except BundleError:
        raise
    except Exception as exc:
        raise BundleError(
            f"{path} is not a readable forest ({type(exc).__name__}: {_first_line(exc)})"
        ) from None
    from sklearn.ensemble import RandomForestClassifier

    if type(model) is not RandomForestClassifier:
        raise BundleError(f"{path} holds a {type(model).__name__}, not a RandomForestClassifier")
    return model


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "no detail"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def manifest_checksum(manifest: dict[str, Any]) -> str:
    """sha256 of the manifest's canonical JSON (sorted keys, no spaces),
    without its own ``manifest_sha256`` field."""
    rest = {k: v for k, v in manifest.items() if k != CHECKSUM_FIELD}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), default=_json_default)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _dumps(manifest: dict[str, Any]) -> str:
    """The manifest as JSON with its checksum last (numpy scalars and arrays
    as plain values; NaN and infinity as Python's json writes and reads them)."""
    plain = json.loads(json.dumps(manifest, default=_json_default))
    plain.pop(CHECKSUM_FIELD, None)
    plain[CHECKSUM_FIELD] = manifest_checksum(plain)
    return json.dumps(plain, indent=1) + "\n"


def library_versions() -> dict[str, str]:
    """Versions of everything that trains, stores, compiles and runs the
    models, from the installed distributions' metadata (importing
    scikit-learn or XGBoost for a version string would load them into a
    trading process that must not carry them)."""
    from importlib.metadata import PackageNotFoundError, version

    import quantumtrader

    def dist(*names: str) -> str:
        for name in names:
            try:
                return version(name)
            except PackageNotFoundError:
                continue
        return "not installed"

    return {
        "quantumtrader": quantumtrader.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "xgboost": dist("xgboost", "xgboost-cpu"),
        "scikit-learn": dist("scikit-learn"),
        "skops": dist("skops"),
        "treelite": dist("treelite"),
        "tl2cgen": dist("tl2cgen"),
    }


def _check_model(name: str, model: Any, n_features: int) -> None:
    """The model fits the bundle: three classes, the schema's feature count.
    None: not read (a bundle loaded for trading keeps only its compiled form)."""
    if model is None and name in MODEL_FILES:
        return
    if name == "xgboost":
        import xgboost as xgb

        if not isinstance(model, xgb.Booster):
            raise BundleError(f"model 'xgboost' must be an xgboost.Booster, got {type(model).__name__}")
        learner = json.loads(model.save_config())["learner"]
        objective = learner["objective"]["name"]
        num_class = int(learner["learner_model_param"]["num_class"])
        if objective != "multi:softprob" or num_class != len(CLASSES):
            raise BundleError(
                f"XGBoost model is {objective} with {num_class} classes: need multi:softprob, 3"
            )
        if model.num_features() != n_features:
            raise BundleError(
                f"XGBoost model takes {model.num_features()} features, the schema has {n_features}"
            )
    elif name == "forest":
        from sklearn.ensemble import RandomForestClassifier

        if type(model) is not RandomForestClassifier:
            raise BundleError(f"model 'forest' must be a RandomForestClassifier, got {type(model).__name__}")
        if list(model.classes_) != [0, 1, 2]:
            have = ", ".join(CLASSES[int(c)] for c in model.classes_ if int(c) in (0, 1, 2))
            raise BundleError(f"forest was trained on classes {have}: need sell, hold and buy")
        if model.n_features_in_ != n_features:
            raise BundleError(f"forest takes {model.n_features_in_} features, the schema has {n_features}")
    else:
        raise BundleError(f"unknown model {name!r}: a bundle holds 'xgboost' and/or 'forest'")


def _check_weights(models: dict[str, Any], weights: dict[str, float]) -> dict[str, float]:
    if set(weights) != set(models):
        raise BundleError(f"ensemble weights name {sorted(weights)}, the models are {sorted(models)}")
    w = {name: float(weights[name]) for name in models}
    if not all(np.isfinite(v) and v > 0 for v in w.values()):
        raise BundleError(f"ensemble weights must be finite and > 0, got {w}")
    total = sum(w.values())
    return {name: v / total for name, v in w.items()}


def _engine_check(schema: FeatureSchema, engine: FeatureSchema, where: str) -> None:
    """SchemaMismatch unless the engine's vector holds the model's features in
    the model's order (extra engine features are fine: the model picks its
    own by position)."""
    required = set(schema.names)
    offered = FeatureSchema(engine.set_name, [n for n in engine.names if n in required], engine.spec_version)
    try:
        schema.check_compatible(offered)
    except SchemaMismatch as exc:
        raise SchemaMismatch(
            f"{where}: the engine ({engine.set_name}) does not produce this model's features: {exc}"
        ) from None


class ModelBundle:
    """An ensemble of up to two models (``xgboost``: Booster, ``forest``:
    RandomForestClassifier) over the features ``schema``, with its soft-vote
    ``weights`` (normalised to sum 1) and the parameters it was trained with.
    ``session``, ``sampler``, ``labels``, ``training``, ``metrics``,
    ``model_config`` and ``gate`` are JSON-able dicts the trainer fills (kept
    as given); ``training`` should name the data range and instruments."""

    def __init__(
        self,
        schema: FeatureSchema,
        models: dict[str, Any],
        weights: dict[str, float],
        *,
        session: dict[str, Any] | None = None,
        sampler: dict[str, Any] | None = None,
        labels: dict[str, Any] | None = None,
        training: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        model_config: dict[str, Any] | None = None,
        gate: dict[str, Any] | None = None,
        promoted: bool = False,
    ) -> None:
        if not models:
            raise BundleError("a bundle needs at least one model")
        for name, model in models.items():
            _check_model(name, model, len(schema))
        unknown = [n for n in schema.names if n not in QT77_NAMES]
        if unknown:
            raise BundleError(f"features the engine does not compute: {', '.join(unknown)}")
        self.schema = schema
        self.models = dict(models)
        self.weights = _check_weights(self.models, weights)
        self.session = dict(session or {})
        self.sampler = dict(sampler or {})
        self.labels = dict(labels or {})
        self.training = dict(training or {})
        self.metrics = dict(metrics or {})
        self.model_config = dict(model_config or {})
        self.gate = None if gate is None else dict(gate)
        self.promoted = bool(promoted)
        self.path: Path | None = None
        self.versions: dict[str, str] = library_versions()
        self.created_utc = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.files: dict[str, str] = {}
        self._ensemble: Any = None
        self._live: Any = None

    # ------------------------------------------------------------------ manifest

    @property
    def feature_index(self) -> np.ndarray:
        """Positions of the model's features in the engine's 77-vector, in model order."""
        return np.array([QT77_NAMES.index(n) for n in self.schema.names], dtype=np.int64)

    def manifest(self) -> dict[str, Any]:
        """The manifest as written (``files`` filled by ``save``), e.g.::

        {"format": "quantumtrader-model-bundle", "format_version": 1,
         "created_utc": "2026-12-06T13:05:00Z",
         "features": {"set": "qt77", "spec_version": "qt-features/1",
                      "schema_hash": "9f2c...", "names": ["volatility_10", ...]},
         "classes": ["sell", "hold", "buy"], "labels": [-1, 0, 1],
         "session": {...}, "sampler": {"kind": "cusum", ...},
         "label_params": {"kind": "triple_barrier", ...},
         "training": {"start": "...", "end": "...", "instruments": ["WDOFUT"]},
         "model_config": {"rf_trees": 100, ...}, "metrics": {...},
         "gate": null, "promoted": false,
         "models": [{"name": "xgboost", "kind": "xgboost", "file": "xgboost.json",
                     "weight": 0.52, "sha256": "..."},
                    {"name": "forest", "kind": "forest", "file": "forest.skops",
                     "weight": 0.48, "sha256": "..."}],
         "files": {"xgboost.json": "...", "forest.skops": "..."},
         "versions": {"xgboost": "3.2.0", "scikit-learn": "1.9.1", "treelite": "4.8.1",
                      "tl2cgen": "1.0.0", ...}}"""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_utc": self.created_utc,
            "features": {
                "set": self.schema.set_name,
                "spec_version": self.schema.spec_version,
                "schema_hash": self.schema.hash,
                "names": list(self.schema.names),
            },
            "classes": list(CLASSES),
            "labels": list(LABELS),
            "session": self.session,
            "sampler": self.sampler,
            "label_params": self.labels,
            "training": self.training,
            "model_config": self.model_config,
            "metrics": self.metrics,
            "gate": self.gate,
            "promoted": self.promoted,
            "models": [
                {
                    "name": name,
                    "kind": name,
                    "file": MODEL_FILES[name],
                    "weight": self.weights[name],
                    "sha256": self.files.get(MODEL_FILES[name], ""),
                }
                for name in self.models
            ],
            "files": dict(self.files),
            "versions": self.versions,
        }

    # ---------------------------------------------------------------------- save

    def save(
        self, directory: str | os.PathLike[str], *, replace: bool = False, compile: bool = False
    ) -> Path:
        """Write the bundle to ``directory`` (a hidden sibling first, then one
        rename).  An existing bundle is replaced only with ``replace``; a folder
        that is not a bundle, and the folder this bundle was loaded from, never.  ``compile``: also build this
        host's libraries before the rename.  Returns the path."""
        target = Path(directory)
        parent = target.parent if str(target.parent) else Path(".")
        if self.path is not None and target.exists() and os.path.samefile(target, self.path):
            raise BundleError(f"{target} is the bundle being saved (its input): choose another folder")
        if target.exists() and not target.is_dir():
            raise BundleError(f"{target} exists and is not a bundle folder")
        if target.exists() and not replace:
            raise BundleError(f"{target} already exists: choose another folder or replace it explicitly")
        if target.exists() and not (target / MANIFEST).is_file():
            raise BundleError(f"{target} exists and is not a model bundle: refusing to replace it")
        if not parent.is_dir():
            raise BundleError(f"cannot save {target}: folder {parent} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise BundleError(f"cannot save {target}: folder {parent} is not writable")
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=parent))
        previous = self.files
        try:
            files: dict[str, str] = {}
            for name, model in self.models.items():
                path = tmp / MODEL_FILES[name]
                if name == "xgboost":
                    model.save_model(str(path))
                else:
                    save_forest(model, path)
                files[path.name] = model_compile.file_sha256(path)
            self.files = files
            (tmp / MANIFEST).write_text(_dumps(self.manifest()), encoding="utf-8")
            if compile:
                for entry in self.manifest()["models"]:
                    model_compile.ensure_compiled(tmp, entry)
            self._put_in_place(tmp, target)
        except BaseException:
            self.files = previous
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.path = target
        self._ensemble = self._live = None
        return target

    @staticmethod
    def _put_in_place(tmp: Path, target: Path) -> None:
        if not target.exists():
            commit_partial(tmp, target)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=tmp.parent))
        os.rmdir(old)
        os.replace(target, old)
        try:
            commit_partial(tmp, target)
        except BaseException:
            os.replace(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)

    # ---------------------------------------------------------------------- load

    @classmethod
    def load(
        cls,
        directory: str | os.PathLike[str],
        *,
        engine_schema: FeatureSchema | None = None,
        allow_unvalidated: bool = True,
        native: bool = True,
    ) -> ModelBundle:
        """Read and verify a bundle (see the module's refusals).  ``engine_schema``:
        what the engine produces (default: the full qt77 vector).  The compiled
        libraries are built or checked on first use (``ensemble``).
        ``native=False``: the native models are checksummed but not read (their
        entries hold None), so a trading process runs the compiled ensemble
        without importing scikit-learn or XGBoost; ``predict_proba`` and
        ``pipeline_hook`` work, ``native_proba`` and ``save`` do not."""
        folder = Path(directory)
        if not folder.is_dir():
            raise BundleError(f"no model bundle at {folder}: no such folder")
        m = _read_manifest(folder)
        where = str(folder)
        feats = m["features"]
        schema = FeatureSchema(feats["set"], feats["names"], feats["spec_version"])
        if schema.hash != feats["schema_hash"]:
            raise BundleError(f"{folder}/{MANIFEST}: schema_hash does not match its feature names")
        _engine_check(schema, engine_schema or schema_for("qt77"), where)
        if list(m["classes"]) != list(CLASSES):
            raise BundleError(
                f"{folder}/{MANIFEST}: classes {m['classes']}, this version uses {list(CLASSES)}"
            )
        for file, digest in m["files"].items():
            path = folder / file
            if Path(file).name != file:
                raise BundleError(f"{folder}/{MANIFEST}: file {file!r} is not inside the bundle")
            if not path.is_file():
                raise BundleError(f"{folder}: missing file {file}")
            if model_compile.file_sha256(path) != digest:
                raise BundleError(f"tampered or corrupt: {folder.name}/{file} checksum differs")
        models: dict[str, Any] = {}
        weights: dict[str, float] = {}
        for entry in m["models"]:
            name, file = entry["name"], entry["file"]
            if name not in MODEL_FILES or file != MODEL_FILES[name] or entry["kind"] != name:
                raise BundleError(f"{folder}/{MANIFEST}: unknown model entry {name!r} ({file})")
            if m["files"].get(file) != entry["sha256"]:
                raise BundleError(f"{folder}/{MANIFEST}: model {name} has no checksum of {file}")
            models[name] = _load_native(name, folder / file) if native else None
            weights[name] = entry["weight"]
        if not m["promoted"] and not allow_unvalidated:
            failed = (m["gate"] or {}).get("failed") if isinstance(m["gate"], dict) else None
            why = (
                f"the gate refused it ({', '.join(map(str, failed))})"
                if failed
                else "it was not promoted by the gate"
            )
            raise BundleError(f"{folder}: {why}; refusing an unvalidated model (allow_unvalidated=False)")
        try:
            bundle = cls(
                schema,
                models,
                weights,
                session=m["session"],
                sampler=m["sampler"],
                labels=m["label_params"],
                training=m["training"],
                metrics=m["metrics"],
                model_config=m["model_config"],
                gate=m["gate"],
                promoted=m["promoted"],
            )
        except BundleError as exc:
            raise BundleError(f"{folder}: {exc}") from None
        bundle.path = folder
        bundle.files = dict(m["files"])
        bundle.versions = dict(m["versions"])
        bundle.created_utc = m["created_utc"]
        return bundle

    # ------------------------------------------------------------------ promote

    def mark_promoted(self, passed: bool, gate: dict[str, Any]) -> None:
        """Record the gate's verdict (``gate``: its JSON-able result) and
        ``promoted = passed`` in the saved manifest, rewritten atomically.  The
        bundle on disk must still be the one loaded or saved."""
        if self.path is None:
            raise BundleError("the bundle has not been saved: save it before marking it")
        on_disk = _read_manifest(self.path)
        if on_disk["files"] != self.files:
            raise BundleError(f"{self.path} changed since it was loaded: load it again")
        on_disk["gate"] = dict(gate)
        on_disk["promoted"] = bool(passed)
        text = _dumps(on_disk)
        with atomic_output(self.path / MANIFEST) as tmp:
            tmp.write_text(text, encoding="utf-8")
        self.gate, self.promoted = dict(gate), bool(passed)

    # ---------------------------------------------------------------- predicting

    def _rows(self, features77: npt.ArrayLike) -> np.ndarray:
        f = np.ascontiguousarray(features77, dtype=np.float64)
        if f.ndim == 1:
            f = f.reshape(1, -1)
        if f.ndim != 2 or f.shape[1] != ENGINE_WIDTH:
            raise ValueError(f"features must be the engine's rows (n, {ENGINE_WIDTH}), got shape {f.shape}")
        return f

    def native_proba(self, features77: npt.ArrayLike) -> np.ndarray:
        """Soft vote of XGBoost and scikit-learn themselves on the engine's rows:
        (n, 3) float64, NaN where a model feature is NaN."""
        from quantumtrader.models.estimators import native_proba as model_native_proba

        f = self._rows(features77)
        x = f[:, self.feature_index]
        ok = ~np.isnan(x).any(axis=1)
        out = np.full((f.shape[0], len(CLASSES)), np.nan)
        acc = np.zeros((int(ok.sum()), len(CLASSES)))
        for name, model in self.models.items():
            acc += self.weights[name] * model_native_proba(model, x[ok])
        out[ok] = acc
        return out

    def compiled_paths(self, build: bool = True) -> dict[str, Path]:
        """This host's compiled library of each model, built when missing or
        stale; ``build=False``: only those already built (a model missing
        from the result must be compiled first, e.g. by
        ``python -m quantumtrader.models.compile BUNDLE``)."""
        if self.path is None:
            raise BundleError("the bundle has not been saved: save it before compiling it")
        entries = self.manifest()["models"]
        if build:
            return {e["name"]: model_compile.ensure_compiled(self.path, e) for e in entries}
        found = {e["name"]: model_compile.find_compiled(self.path, e) for e in entries}
        return {name: lib for name, lib in found.items() if lib is not None}

    def ensemble(self, sampler: Any = None) -> Any:
        """A new compiled ``quantumtrader.qtcore.predict.Ensemble`` of this bundle
        (for the pipeline hook), with ``sampler`` (a ``predict.Sampler`` or None)."""
        from quantumtrader.qtcore.predict import Ensemble

        paths = self.compiled_paths()
        names = list(self.models)
        return Ensemble(
            [str(paths[n]) for n in names], [self.weights[n] for n in names], self.feature_index, sampler
        )

    def predict_proba(self, features77: npt.ArrayLike) -> np.ndarray:
        """The compiled ensemble on the engine's rows: (n, 3) float64, NaN where
        a model feature is NaN (not predicted)."""
        f = self._rows(features77)
        if self._ensemble is None:
            self._ensemble = self.ensemble()
        return np.asarray(self._ensemble.predict_proba(f))

    def pipeline_hook(self, engine: Any = None) -> Any:
        """The live decision hook of one instrument: this bundle's own sampler
        (from the manifest: the decision points training used) as the filter,
        the compiled ensemble as the decision; a "qt_pl_hook" capsule for
        ``Pipeline.set_hook``.  ``engine``: that instrument's FeatureEngine (the
        time sampler reads its clock, as training read the rows' ``ts``)."""
        from quantumtrader.models.sampler import SamplerConfig

        if self._live is None:
            self._live = self.ensemble(SamplerConfig(**self.sampler).build())
        return self._live.pipeline_hook(engine)  # new sampler state per call: one per instrument

    def predict_table(self, table: Any) -> Any:
        """Research: the compiled ensemble on a feature table (a path to what
        ``quantumtrader features`` writes, or a FeatureTable): a pandas
        DataFrame of ``ts``, ``trade_number`` and ``p_sell``, ``p_hold``,
        ``p_buy`` per row (NaN: not predicted).  The table must hold the
        bundle's features by name (SchemaMismatch names the missing ones)."""
        import pandas as pd

        from quantumtrader.features.table import read_feature_table

        if isinstance(table, (str, os.PathLike)):
            table = read_feature_table(table)
        missing = [n for n in self.schema.names if n not in table.names]
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise SchemaMismatch(f"the table ({len(table.names)} features) lacks the bundle's {shown}")
        full = np.full((len(table.ts), ENGINE_WIDTH), np.nan)
        for j, name in enumerate(table.names):
            if name in QT77_NAMES:
                full[:, QT77_NAMES.index(name)] = table.matrix[:, j]
        p = self.predict_proba(full)
        return pd.DataFrame({"ts": table.ts, "trade_number": table.trade_number,
                             **{f"p_{c}": p[:, i] for i, c in enumerate(CLASSES)}})


# ------------------------------------------------------------------- reading


_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "format": str,
    "format_version": int,
    "created_utc": str,
    "features": dict,
    "classes": list,
    "session": dict,
    "sampler": dict,
    "label_params": dict,
    "training": dict,
    "model_config": dict,
    "metrics": dict,
    "gate": (dict, type(None)),
    "promoted": bool,
    "models": list,
    "files": dict,
    "versions": dict,
}


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BundleError(f"{folder}: missing file {MANIFEST} (not a model bundle)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: cannot read it ({_first_line(exc)})") from None
    try:
        m = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BundleError(
            f"{path} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise BundleError(f"{path} is not a QuantumTrader model manifest")
    version = m.get("format_version")
    if version != FORMAT_VERSION:
        raise BundleError(
            f"{path}: unknown format version {version!r} (this version reads {FORMAT_VERSION})"
        )
    if m.get(CHECKSUM_FIELD) != manifest_checksum(m):
        raise BundleError(f"tampered or corrupt: {folder.name}/{MANIFEST} checksum differs")
    for key, kind in _REQUIRED.items():
        if key not in m:
            raise BundleError(f"{path}: missing field {key!r}")
        if not isinstance(m[key], kind) or (kind is int and isinstance(m[key], bool)):
            raise BundleError(f"{path}: field {key!r} has the wrong type")
    feats = m["features"]
    if not (
        isinstance(feats.get("set"), str)
        and isinstance(feats.get("spec_version"), str)
        and isinstance(feats.get("schema_hash"), str)
        and isinstance(feats.get("names"), list)
        and all(isinstance(n, str) for n in feats["names"])
    ):
        raise BundleError(f"{path}: field 'features' needs set, spec_version, schema_hash and names")
    if not m["models"]:
        raise BundleError(f"{path}: no models")
    for entry in m["models"]:
        if not (
            isinstance(entry, dict)
            and all(isinstance(entry.get(k), str) for k in ("name", "kind", "file", "sha256"))
            and isinstance(entry.get("weight"), (int, float))
            and not isinstance(entry.get("weight"), bool)
        ):
            raise BundleError(f"{path}: a model entry needs name, kind, file, sha256 and weight")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in m["files"].items()):
        raise BundleError(f"{path}: field 'files' maps file names to sha256")
    return m


def _load_native(name: str, path: Path) -> Any:
    if name == "forest":
        return load_forest(path)
    import xgboost as xgb

    booster = xgb.Booster()
    try:
        booster.load_model(str(path))
    except xgb.core.XGBoostError as exc:
        raise BundleError(f"{path} is not a readable XGBoost model ({_first_line(exc)})") from None
    return booster
