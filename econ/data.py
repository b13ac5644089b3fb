"""Load and validate the sourced tables in ``data/``.

Each table is ``data/<name>.csv`` with a sidecar ``data/<name>.yaml`` that says
what the table is, its key column, and the unit, meaning and range of every
column. :func:`load` checks a table against its sidecar and returns a
``pandas.DataFrame`` indexed by its key; every problem is reported with the
table, row key, column and value.

Where the tables are (:data:`DATA_DIR`): inside the installed package (``econ/_data``, which a
wheel built from the repository carries), found with :mod:`importlib.resources`; in a checkout
(an editable install), the repository's ``data/`` folder.
"""
from __future__ import annotations

import csv as _csv
import functools
import io
import os
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import hfconfig

__all__ = ["DataError", "load", "stamp", "keys", "row", "model_row", "tables", "load_claims",
           "DATA_DIR", "UNIT_SUFFIXES", "unit_of"]


def _data_dir():
    """``econ/_data`` in an installed wheel, else the checkout's ``data/``."""
    shipped = resources.files(__package__) / "_data"
    if shipped.is_dir() and (shipped / "models.yaml").is_file():
        return Path(str(shipped))
    return Path(__file__).resolve().parent.parent / "data"


#: The folder holding the tables.
DATA_DIR = _data_dir()

#: Column-name suffix -> the unit it declares. The longest matching suffix wins.
UNIT_SUFFIXES = {
    "_usd": "USD",
    "_usd_per_hour": "USD/h",
    "_usd_per_mtok": "USD/Mtok",
    "_usd_per_kwh": "USD/kWh",
    "_usd_per_day": "USD/day",
    "_usd_per_year": "USD/year",
    "_flop": "FLOP",
    "_flop_per_s": "FLOP/s",
    "_flop_per_tok": "FLOP/token",
    "_bytes": "bytes",
    "_bytes_per_s": "bytes/s",
    "_bytes_per_tok": "bytes/token",
    "_w": "W",
    "_kwh": "kWh",
    "_years": "years",
    "_days": "days",
    "_hours": "hours",
    "_s": "s",
    "_gpu_hours": "GPU-hours",
    "_frac": "fraction",
    "_ratio": "ratio",
    "_tok": "tokens",
    "_tok_per_s": "tokens/s",
    "_tok_per_day": "tokens/day",
    "_params": "parameters",
    "_dim": "elements",
    "_count": "count",
    "_nodes": "nodes",
    "_devices": "devices",
    "_samples": "samples",
}
#: Prefix for counts (``n_layers``, ``n_heads``).
COUNT_PREFIX = "n_"
TEXT_UNIT = "text"
DATE_UNIT = "date"
SOURCE_KINDS = ("primary", "secondary", "derived", "measured", "assumption")
SOURCE_COLUMNS = ("source_url", "source_date", "source_kind")


class DataError(ValueError):
    """A data table or its sidecar breaks a rule; the message says where and why."""


def unit_of(column):
    """Unit a column name declares through its suffix (or ``n_`` prefix).

    Returns ``None`` when the name carries no known unit.
    """
    best = None
    for suffix, unit in UNIT_SUFFIXES.items():
        if column.endswith(suffix) and (best is None or len(suffix) > len(best[0])):
            best = (suffix, unit)
    if best is not None:
        return best[1]
    if column.startswith(COUNT_PREFIX):
        return "count"
    return None


def tables(data_dir=None):
    """Names of the tables in ``data/`` (those with a CSV and a sidecar)."""
    d = Path(data_dir) if data_dir else DATA_DIR
    return sorted(p.stem for p in d.glob("*.csv") if p.with_suffix(".yaml").exists())


def load(name, data_dir=None):
    """Load table ``name`` from ``data/``, validated against its sidecar.

    Parameters
    ----------
    name : str
        Table name, e.g. ``"hardware"``; :func:`tables` lists them.
    data_dir : str or Path, optional
        Another folder laid out like ``data/`` (used by tests on broken copies).

    Returns
    -------
    pandas.DataFrame
        Indexed by the table's key column; numeric columns as float.

    Raises
    ------
    KeyError
        Unknown table name (the message lists the valid ones).
    DataError
        Any rule broken, with table, row key, column and value in the message.
    """
    return _frame(name, data_dir).copy()


def _frame(name, data_dir=None):
    """The cached, validated table itself: for lookups within this module that copy only
    what they return (:func:`row`, :func:`keys`, :func:`model_row`), never to be changed."""
    d = Path(data_dir).resolve() if data_dir else DATA_DIR
    return _load_cached(name, str(d), stamp(name, d))


def stamp(name, data_dir=None):
    """Size and modification time of a table's files (CSV and YAML): a key for caches of
    anything computed from the table, which changes when a file does."""
    d = Path(data_dir).resolve() if data_dir else DATA_DIR
    out = []
    for ext in ("csv", "yaml"):
        try:
            st = (d / f"{name}.{ext}").stat()
            out.append((st.st_size, st.st_mtime_ns))
        except (OSError, TypeError, ValueError):
            out.append(None)
    return tuple(out)


@functools.lru_cache(maxsize=256)
def _load_cached(name, data_dir, _stamp):
    d = Path(data_dir)
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]+", name or ""):
        raise KeyError(f"table name must be one of {tables(d)}, got {name!r}")
    csv, side = d / f"{name}.csv", d / f"{name}.yaml"
    if not csv.exists() or not side.exists():
        raise KeyError(f"unknown table {name!r}; valid tables: {tables(d)}")
    meta = _read_sidecar(name, side)
    try:
        text = csv.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}.csv: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    _check_shape(name, text)
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    return _validate(name, raw, meta)


def _check_shape(name, text):
    """Reject an empty or truncated file before pandas pads the damage with blanks."""
    if not text.strip():
        raise DataError(f"{name}.csv: is empty")
    if not text.endswith("\n"):
        raise DataError(f"{name}.csv: does not end with a newline; the file looks truncated")
    try:
        rows = list(_csv.reader(io.StringIO(text), strict=True))
    except _csv.Error as exc:
        raise DataError(f"{name}.csv: cannot be parsed as CSV ({exc})") from None
    n = len(rows[0])
    for i, r in enumerate(rows[1:], start=2):
        if r and len(r) != n:
            raise DataError(f"{name}.csv: line {i} has {len(r)} fields but the header has {n}; "
                            f"the file looks truncated or a comma is unquoted")


def _read_sidecar(name, path):
    try:
        meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DataError(f"{name}.yaml: cannot be read as YAML ({exc})") from None
    if not isinstance(meta, dict):
        raise DataError(f"{name}.yaml: must be a mapping with description, key, columns")
    for field in ("description", "key", "origin", "columns"):
        if field not in meta:
            raise DataError(f"{name}.yaml: missing field {field!r}")
    if not isinstance(meta["columns"], dict) or not meta["columns"]:
        raise DataError(f"{name}.yaml: 'columns' must map each column to its unit and meaning")
    for col, spec in meta["columns"].items():
        if not isinstance(spec, dict) or "unit" not in spec or "description" not in spec:
            raise DataError(f"{name}.yaml: column {col!r} needs 'unit' and 'description'")
        unit = spec["unit"]
        if unit in (TEXT_UNIT, DATE_UNIT, "per-row"):
            continue
        if "unit_not_in_name" in spec:
            # a name fixed by an outside layout (e.g. tp, ep): allowed only with a stated reason
            why = spec["unit_not_in_name"]
            if not isinstance(why, str) or not why.strip():
                raise DataError(f"{name}.yaml: column {col!r}: 'unit_not_in_name' must say why "
                                f"the name carries no unit suffix, got {why!r}")
            continue
        declared = unit_of(col)
        if declared is None:
            raise DataError(
                f"{name}.yaml: column {col!r} has unit {unit!r} but its name carries no unit "
                f"suffix; use one of {sorted(UNIT_SUFFIXES)} or the prefix 'n_'")
        if declared != unit:
            raise DataError(
                f"{name}.yaml: column {col!r} declares unit {unit!r} but its suffix means "
                f"{declared!r}")
    return meta


def _validate(name, raw, meta):
    cols = meta["columns"]
    key = meta["key"]
    expected = list(cols)
    missing = [c for c in expected if c not in raw.columns]
    if missing:
        raise DataError(f"{name}.csv: missing column(s) {missing}; the sidecar declares {expected}")
    extra = [c for c in raw.columns if c not in cols]
    if extra:
        raise DataError(f"{name}.csv: column(s) {extra} are not declared in {name}.yaml")
    for c in SOURCE_COLUMNS:
        if c not in cols:
            raise DataError(f"{name}.yaml: every table needs the column {c!r}")
    if raw.empty:
        raise DataError(f"{name}.csv: has no rows")
    raw = raw.apply(lambda s: s.str.strip())

    keys_ = raw[key]
    if (keys_ == "").any():
        raise DataError(
            f"{name}.csv: row {int(np.flatnonzero(keys_ == '')[0]) + 2} has an empty key {key!r}"
        )
    dup = keys_[keys_.duplicated()]
    if len(dup):
        raise DataError(f"{name}.csv: duplicate key {key}={dup.iloc[0]!r}")

    out = pd.DataFrame(index=pd.Index(keys_, name=key))
    for col, spec in cols.items():
        if col == key:
            continue
        out[col] = _column(name, raw, key, col, spec)
    _check_sources(name, out)
    _check_per_row_units(name, out, cols)
    return out


def _column(name, raw, key, col, spec):
    vals = raw[col]

    def check(wrong, problem, why=""):
        """Raise for the first row where ``wrong``: table, row key, column, value, rule."""
        if wrong.any():
            i = int(np.flatnonzero(wrong.to_numpy())[0])
            got = "" if problem == "is empty" else f", got {vals.iloc[i]!r}"
            raise DataError(f"{name}.csv: row {key}={raw[key].iloc[i]!r}: column {col!r} "
                            f"{problem}{why}{got}")

    req_if = spec.get("required_if")
    need = pd.Series(bool(spec.get("required", True)), index=raw.index)
    why = ""
    if req_if:
        other, _, need = _rows_where(raw, req_if)
        why = f" (required when {other} is {req_if[other]})"
    empty = vals == ""
    check(need & empty, "is empty", why)
    if spec.get("only_if"):
        other, values, may = _rows_where(raw, spec["only_if"])
        check(~empty & ~may, f"must be empty unless {other} is {values}")
    unit = spec["unit"]
    if unit == TEXT_UNIT:
        allowed = spec.get("allowed")
        if allowed:
            check(~empty & ~vals.isin(allowed), f"must be one of {allowed}")
        return vals.where(~empty, None).to_numpy()
    if unit == DATE_UNIT:
        parsed = pd.to_datetime(vals.where(~empty), format="%Y-%m-%d", errors="coerce")
        check(~empty & parsed.isna(), "must be an ISO date YYYY-MM-DD")
        return vals.where(~empty, None).to_numpy()
    nums = pd.to_numeric(vals.where(~empty), errors="coerce")
    not_finite = vals.str.lower().str.lstrip("+-").isin(["nan", "inf", "infinity"])
    check(~empty & not_finite, "must be finite")
    check(~empty & nums.isna(), f"must be a number [{unit}]")
    check(~empty & ~np.isfinite(nums), "must be finite")
    lo = spec.get("min", 0.0 if unit != "per-row" else None)
    hi = spec.get("max", 1.0 if unit == "fraction" else None)
    if lo is not None:
        check(~empty & (nums < lo), f"must be >= {lo} [{unit}]")
    if hi is not None:
        check(~empty & (nums > hi), f"must be <= {hi} [{unit}]")
    if spec.get("integer"):
        check(~empty & (nums != np.round(nums)), f"must be a whole number [{unit}]")
    return nums.to_numpy(dtype=float)


def _rows_where(raw, condition):
    """A sidecar condition ``{other_column: value or [values]}``: the other column, its
    values as a list, and the mask of the rows where the other column holds one of them."""
    (other, values), = condition.items()
    values = values if isinstance(values, list) else [values]
    return other, values, raw[other].isin([str(v) for v in values])


def _check_sources(name, out):
    for i, k in enumerate(out.index):
        urls = str(out["source_url"].iloc[i] or "")
        parts = [u for u in re.split(r"\s*;\s*", urls) if u]
        if not parts or not all(
            re.match(r"^(https?://\S+|measured:\S+|derived:\S+)$", u) for u in parts
        ):
            raise DataError(
                f"{name}.csv: row {out.index.name}={k!r}: column 'source_url' must hold "
                f"one or more http(s) addresses separated by ';' (or 'measured:<file>' / "
                f"'derived:<how>'), got {urls!r}"
            )
        kind = out["source_kind"].iloc[i]
        if kind not in SOURCE_KINDS:
            raise DataError(f"{name}.csv: row {out.index.name}={k!r}: column 'source_kind' must be "
                            f"one of {list(SOURCE_KINDS)}, got {kind!r}")


def _check_per_row_units(name, out, cols):
    """Tables of figures (``value`` + ``unit`` + ``metric``): the metric's suffix names the unit."""
    if "unit" not in out.columns or "value" not in out.columns:
        return
    metrics = out["metric"] if "metric" in out.columns else out.index.to_series()
    for k, metric, unit in zip(out.index, metrics, out["unit"]):
        declared = unit_of(str(metric))
        if declared is None:
            raise DataError(f"{name}.csv: row {out.index.name}={k!r}: metric {metric!r} carries no "
                            f"unit suffix; use one of {sorted(UNIT_SUFFIXES)}")
        if declared != unit:
            raise DataError(f"{name}.csv: row {out.index.name}={k!r}: metric {metric!r} means "
                            f"{declared!r} but column 'unit' says {unit!r}")
    frac = out["unit"] == "fraction"
    for col in ("value", "low", "high"):
        if col in out.columns:
            bad = frac & ((out[col] < 0) | (out[col] > 1))
            if bad.any():
                k = out.index[bad][0]
                raise DataError(f"{name}.csv: row {out.index.name}={k!r}: column {col!r} is a "
                                f"fraction and must be in [0, 1], got {out.loc[k, col]!r}")
    if {"low", "high"} <= set(out.columns):
        bad = (out["low"] > out["value"]) | (out["value"] > out["high"])
        if bad.any():
            k = out.index[bad][0]
            raise DataError(f"{name}.csv: row {out.index.name}={k!r}: value "
                            f"{out.loc[k, 'value']!r} must lie between low {out.loc[k, 'low']!r} "
                            f"and high {out.loc[k, 'high']!r}")


def keys(name, data_dir=None):
    """Valid keys of table ``name`` (e.g. the hardware names), sorted."""
    return sorted(_frame(name, data_dir).index)


def row(name, key, data_dir=None):
    """One row of table ``name`` as a Series; ``KeyError`` lists the valid keys.

    A model may also be given by the path of its ``config.json`` (:func:`model_row`)."""
    if name == "models" and data_dir is None and is_config_path(key):
        return model_row(key)
    df = _frame(name, data_dir)
    if not isinstance(key, str) or key not in df.index:
        raise KeyError(
            f"unknown {df.index.name} {key!r} in table {name!r}; valid: {sorted(df.index)}"
        )
    return df.loc[key].copy()


def load_claims(data_dir=None):
    """The claims ledger (``data/claims.csv``): the debate's claims and how each is judged.

    Parameters
    ----------
    data_dir : str or Path, optional
        Another folder laid out like ``data/``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``claim_id``; the columns of ``data/claims.yaml`` (claim, claimant, kind,
        notebook, metric, subject, test, target_value, tolerance_frac, other_metric,
        other_subject, sources). Judge it against a run with ``econ.judge_claims``.

    Raises
    ------
    DataError
        A rule of the sidecar broken, or a metric that is not a snake_case name.
    """
    claims = load("claims", data_dir)
    bad = [m for m in list(claims["metric"]) + list(claims["other_metric"].dropna())
           if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", m)]
    if bad:
        raise DataError(f"claims.csv: metric names must be snake_case result metrics, "
                        f"got {bad[0]!r}")
    return claims


def is_config_path(model):
    """Whether :func:`model_row` reads ``model`` as a Hugging Face ``config.json`` (a path
    object, or a string ending in ``.json``) rather than as a name of ``data/models.csv``."""
    return isinstance(model, os.PathLike) or (
        isinstance(model, str) and model.strip().lower().endswith(".json"))


def model_row(model):
    """Resolve a model given by name or by its Hugging Face ``config.json`` into a models row.

    The one resolver of model names: every ``econ`` function that takes a model (the engine's
    :func:`econ.model_spec`, the KV-cache and training closed forms, the notebooks' ``model``
    parameter) passes a string or path through here, so a user's own config works wherever
    a name from ``data/models.csv`` does.

    Parameters
    ----------
    model : str, os.PathLike or other
        A key of ``data/models.csv`` (``"deepseek-v3"``); or a path to a ``config.json``: a
        string ending in ``.json`` or a :class:`pathlib.Path` (to the file, or to a folder
        holding ``config.json``), read by :func:`econ.model_from_hf_config`. Anything else (a
        row, a mapping, a table, a spec) is returned unchanged for the caller to check.

    Returns
    -------
    pandas.Series or the input
        The table's row (named by its key), or the row computed from the config, named after
        the file (its folder's name for a file called ``config.json``).

    Raises
    ------
    KeyError
        A name that is not in the models table; the message lists the valid names and says a
        ``config.json`` path is accepted too.
    ValueError
        A config path that does not exist or cannot be read, or a config the closed forms do
        not model (the message names the field and what is allowed).
    """
    if is_config_path(model):
        path = Path(model).expanduser()
        if not path.exists():
            raise ValueError(
                f"model {str(model)!r}: no such config file. A model is a name in "
                f"data/models.csv (valid: {keys('models')}) or the path of an existing Hugging "
                "Face config.json (a string ending in .json, or a Path to the file or its folder)")
        name = path.stem if path.is_file() and path.stem != "config" else (
            path.parent.name if path.is_file() else path.name)
        return hfconfig.model_from_hf_config(path, name=name)
    if isinstance(model, str):
        table = _frame("models")
        if model not in table.index:
            raise KeyError(f"unknown model {model!r}; valid names in data/models.csv: "
                           f"{sorted(table.index)}; or pass the path of a Hugging Face "
                           "config.json (a string ending in .json, or a Path)")
        return table.loc[model].copy()
    return model
