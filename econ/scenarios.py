"""Scenarios: validated parameter sets, grids, Monte Carlo and tornado sensitivity.

A *scenario* is a small YAML file of parameter values (``notebooks/scenarios/<name>.yaml``),
checked against a :class:`Schema` of :class:`Param` s before any notebook runs. A schema is
built from a notebook's typed, commented parameters cell (:meth:`Schema.from_notebook`, through
``papermill.inspect_notebook``) or written by hand; the reports run validates scenario files
against the union of every notebook's schema (:meth:`Schema.union`).

The analysis helpers return tidy ``pandas.DataFrame`` s and never loop over samples:

* :func:`grid` and :func:`evaluate`: a Cartesian product of parameter values and a vectorized
  function applied to its columns;
* :func:`monte_carlo` and :func:`summarize`: seeded sampling of uncertain inputs given as
  distributions (:func:`uniform`, :func:`triangular`, :func:`lognormal_from_range`,
  :func:`normal`, :func:`fixed`), and their p5/p50/p95;
* :func:`tornado`: one-at-a-time sensitivity of one output, sorted by swing.

Conventions read from a parameters cell (the comment after a parameter is its help text):

* the type comes from the annotation (``float``, ``int``, ``str``, ``bool``, ``list[float]``,
  ``Optional[str]`` ...), or from the default's literal when there is none;
* the allowed range comes from an interval in the help, ``[0, 1]``, ``(0, 1]``, ``[1, inf)``;
  without one, a name whose unit suffix is ``_frac`` is held to [0, 1] and any other name with a
  unit suffix or the prefix ``n_`` (:func:`econ.data.unit_of`) to >= 0;
* allowed strings come from ``key in data/<table>.csv`` (the keys of that table) or a set in
  braces, ``{mha, gqa, mla}``.
"""
from __future__ import annotations

import ast
import dataclasses
import difflib
import inspect
import math
import re
import statistics
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from . import data as _data
from . import setups as _setups

__all__ = [
    "ScenarioError", "Param", "Schema", "Scenario", "SCENARIO_DIR", "SCENARIO_NAME_PATTERN",
    "load_scenario", "validate_params", "scenario_names", "notebook_parameters",
    "injected_parameter_names", "resolve_same_as",
    "grid", "evaluate",
    "Distribution", "uniform", "triangular", "lognormal_from_range", "normal", "fixed",
    "assumption_triangulars", "monte_carlo", "summarize", "tornado",
]

#: Folder of the shipped scenario files.
SCENARIO_DIR = Path(__file__).resolve().parent.parent / "notebooks" / "scenarios"
#: A scenario name: lower-case letters, digits, ``_`` and ``-``; nothing that can name a path.
SCENARIO_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"

_TYPES = {"float": float, "int": int, "str": str, "bool": bool, "list": list, "dict": dict}
_TYPE_NAMES = {v: k for k, v in _TYPES.items()}
_Z95 = statistics.NormalDist().inv_cdf(0.95)  # 1.6448536...


class ScenarioError(ValueError):
    """A scenario file or a parameter value breaks its schema; the message says where and why."""


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter: its type, allowed values and meaning.

    Parameters
    ----------
    name : str
        Python identifier, with its unit suffix (``utilization_frac``).
    type : type
        ``float``, ``int``, ``str``, ``bool``, ``list`` or ``dict``. A ``float`` accepts an
        ``int`` value (converted); an ``int`` accepts only whole numbers; ``bool`` is never a
        number.
    default : object, optional
        The notebook's default value (``None`` if unknown).
    min, max : float, optional
        Allowed range of a number, or of each number in a list.
    min_inclusive, max_inclusive : bool
        Whether each bound is itself allowed.
    choices : tuple, optional
        Allowed values of a string (or of each string in a list).
    help : str
        What the parameter means (the comment in the parameters cell).
    item_type : type, optional
        Type of each element of a ``list`` parameter.
    optional : bool
        Whether ``None`` is allowed (annotation ``Optional[...]``).
    same_as : str, optional
        Another parameter whose value this one takes when it is ``None`` (help text
        ``None: same as <name>``); resolved by :func:`notebook_parameters`.
    source : str
        Where the parameter was declared (a notebook path), for error messages.
    """

    name: str
    type: type = float
    default: Any = None
    min: float | None = None
    max: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    choices: tuple | None = None
    help: str = ""
    item_type: type | None = None
    optional: bool = False
    same_as: str | None = None
    source: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"Param name must be a Python identifier, got {self.name!r}")
        if self.type not in _TYPE_NAMES:
            raise ValueError(f"Param {self.name!r}: type must be one of "
                             f"{sorted(_TYPES)}, got {self.type!r}")
        if self.item_type is not None and self.item_type not in (float, int, str, bool):
            raise ValueError(f"Param {self.name!r}: item_type must be float, int, str or bool, "
                             f"got {self.item_type!r}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"Param {self.name!r}: min {self.min} is above max {self.max}")
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))

    # -- description -----------------------------------------------------------------------
    def allowed(self):
        """What the parameter accepts, in words (used in error messages)."""
        tname = _TYPE_NAMES[self.type]
        if self.type is list and self.item_type is not None:
            tname = f"list of {_TYPE_NAMES[self.item_type]}"
        if self.choices is not None:
            shown = list(self.choices[:30]) + (["..."] if len(self.choices) > 30 else [])
            parts = [f"one of {shown}" if self.type is not list else f"a list of {shown}"]
        else:
            parts = [f"an {tname}" if tname.startswith("int") else f"a {tname}"]
        rng = _fmt_interval(self.min, self.max, self.min_inclusive, self.max_inclusive)
        if rng:
            parts.append(f"in {rng}")
        if self.optional:
            parts.append("or null")
        return " ".join(parts)

    # -- checking --------------------------------------------------------------------------
    def check(self, value, where=""):
        """Return ``value`` converted to this parameter's type, or raise :class:`ScenarioError`.

        ``where`` (a file name, ``"parameters"``) starts the message.
        """
        prefix = f"{where}: " if where else ""
        if value is None:
            if self.optional:
                return None
            raise ScenarioError(f"{prefix}key {self.name!r}: value is missing (null); "
                                f"allowed: {self.allowed()}")
        if self.type is list:
            if not isinstance(value, (list, tuple)):
                raise self._wrong(prefix, value, "wrong type")
            if self.item_type is None:
                return list(value)
            return [self._check_scalar(v, self.item_type, prefix, f"[{i}]")
                    for i, v in enumerate(value)]
        if self.type is dict:
            if not isinstance(value, dict):
                raise self._wrong(prefix, value, "wrong type")
            return dict(value)
        return self._check_scalar(value, self.type, prefix, "")

    def _wrong(self, prefix, value, problem, at=""):
        shown = f"{value!r} ({type(value).__name__})"
        hint = ""
        if isinstance(value, bool) and self.type is str:
            hint = " (YAML reads yes/no/on/off/true/false as booleans: quote the string)"
        return ScenarioError(f"{prefix}key {self.name!r}{at}: {problem}, got {shown}; "
                             f"allowed: {self.allowed()}{hint}")

    def _check_scalar(self, value, typ, prefix, at):
        if typ is bool:
            if not isinstance(value, (bool, np.bool_)):
                raise self._wrong(prefix, value, "wrong type", at)
            return bool(value)
        if typ is str:
            if not isinstance(value, str):
                raise self._wrong(prefix, value, "wrong type", at)
            if self.choices is not None and value not in self.choices:
                near = difflib.get_close_matches(value, [str(c) for c in self.choices], n=1)
                extra = f" (did you mean {near[0]!r}?)" if near else ""
                raise ScenarioError(f"{prefix}key {self.name!r}{at}: {value!r} is not an allowed "
                                    f"value{extra}; allowed: {self.allowed()}")
            return value
        # numbers
        if isinstance(value, str) and typ is float and re.fullmatch(
                r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+", value.strip()):
            value = float(value)  # YAML 1.1 reads 1e6 (no dot) as a string
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                         np.floating)):
            raise self._wrong(prefix, value, "wrong type", at)
        if not math.isfinite(float(value)):
            raise self._wrong(prefix, value, "not a finite number", at)
        if typ is int:
            if float(value) != round(float(value)) or isinstance(value, (float, np.floating)):
                raise self._wrong(prefix, value, "wrong type (must be a whole number written "
                                  "without a decimal point)", at)
            value = int(value)
        else:
            value = float(value)
        if not _in_interval(value, self.min, self.max, self.min_inclusive, self.max_inclusive):
            raise ScenarioError(f"{prefix}key {self.name!r}{at}: out of range, got {value!r}; "
                                f"allowed: {self.allowed()}")
        return value

    # -- combining -------------------------------------------------------------------------
    def merge(self, other):
        """The parameter two notebooks share: same type, the narrower range, common choices.

        Raises ``ValueError`` when the two declare different types or different defaults
        (``notebooks/README.md``: a shared parameter has the same name, type and default).
        """
        if (self.type, self.item_type) != (other.type, other.item_type):
            raise ValueError(
                f"parameter {self.name!r} is declared with different types: "
                f"{_type_label(self)} in {self.source or '?'} and {_type_label(other)} in "
                f"{other.source or '?'}; a scenario value must suit every notebook")
        if not _same_default(self.default, other.default):
            raise ValueError(
                f"parameter {self.name!r} has different defaults: {self.default!r} in "
                f"{self.source or '?'} and {other.default!r} in {other.source or '?'}; a "
                f"parameter shared by notebooks must have the same name, type and default")
        lo, lo_inc = _tighter(self.min, self.min_inclusive, other.min, other.min_inclusive, max)
        hi, hi_inc = _tighter(self.max, self.max_inclusive, other.max, other.max_inclusive, min)
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"parameter {self.name!r}: ranges in {self.source} and "
                             f"{other.source} do not overlap")
        if self.choices is None or other.choices is None:
            choices = self.choices if other.choices is None else other.choices
        else:
            choices = tuple(c for c in self.choices if c in other.choices)
        helps = [h for h in dict.fromkeys((self.help, other.help)) if h]
        sources = ", ".join(s for s in dict.fromkeys((self.source, other.source)) if s)
        return dataclasses.replace(self, min=lo, min_inclusive=lo_inc, max=hi, max_inclusive=hi_inc,
                                   choices=choices, help=" / ".join(helps),
                                   optional=self.optional and other.optional, source=sources)


def _same_default(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    return a == b


def _type_label(p):
    t = _TYPE_NAMES[p.type]
    return f"{t}[{_TYPE_NAMES[p.item_type]}]" if p.item_type else t


def _tighter(a, a_inc, b, b_inc, pick):
    if a is None:
        return b, b_inc
    if b is None:
        return a, a_inc
    if a == b:
        return a, a_inc and b_inc
    return (a, a_inc) if pick(a, b) == a else (b, b_inc)


def _in_interval(v, lo, hi, lo_inc, hi_inc):
    if lo is not None and (v < lo if lo_inc else v <= lo):
        return False
    if hi is not None and (v > hi if hi_inc else v >= hi):
        return False
    return True


def _fmt_interval(lo, hi, lo_inc, hi_inc):
    if lo is None and hi is None:
        return ""
    left = "[" if lo_inc and lo is not None else "("
    right = "]" if hi_inc and hi is not None else ")"
    a = "-inf" if lo is None else f"{lo:g}"
    b = "inf" if hi is None else f"{hi:g}"
    return f"{left}{a}, {b}{right}"


class Schema(Mapping):
    """The parameters a notebook (or a set of notebooks) accepts: a read-only name -> Param map.

    Build it from :class:`Param` s, from a notebook (:meth:`from_notebook`), from the source of
    a parameters cell (:meth:`from_source`), or as the union of others (:meth:`union`).
    """

    def __init__(self, params: Iterable[Param] = ()):
        self._params: dict[str, Param] = {}
        for p in params:
            if not isinstance(p, Param):
                raise TypeError(f"Schema takes Param objects, got {p!r}")
            if p.name in self._params:
                raise ValueError(f"parameter {p.name!r} is declared twice"
                                 + (f" in {p.source}" if p.source else ""))
            self._params[p.name] = p

    def __getitem__(self, name):
        return self._params[name]

    def __iter__(self):
        return iter(self._params)

    def __len__(self):
        return len(self._params)

    def __repr__(self):
        return f"Schema({list(self._params)})"

    def defaults(self):
        """``{name: default}`` of every parameter."""
        return {n: p.default for n, p in self._params.items()}

    def to_frame(self):
        """One row per parameter: name, type, default, allowed, help, source."""
        return pd.DataFrame([{"name": p.name, "type": _type_label(p), "default": p.default,
                              "allowed": p.allowed(), "help": p.help, "source": p.source}
                             for p in self._params.values()])

    def validate(self, values, where="parameters"):
        """:func:`validate_params` against this schema."""
        return validate_params(values, self, where=where)

    @classmethod
    def union(cls, *schemas):
        """The parameters of several notebooks: each name once, types agreeing, ranges narrowed.

        A scenario value reaches every notebook that declares the parameter, so it must suit
        all of them: the allowed range is the intersection. Different types or defaults raise
        ``ValueError`` naming both notebooks.
        """
        merged: dict[str, Param] = {}
        for s in schemas:
            for name, p in _as_schema(s).items():
                merged[name] = merged[name].merge(p) if name in merged else p
        return cls(merged.values())

    def __or__(self, other):
        return Schema.union(self, other)

    @classmethod
    def from_notebook(cls, path):
        """Schema of a notebook's cell tagged ``parameters`` (``papermill.inspect_notebook``).

        Every name assigned in the cell must be one papermill can read (``papermill
        --help-notebook`` shows the same list): an annotation it cannot parse (``str | None``)
        raises ``ValueError`` naming the line; write ``Optional[str]`` instead. A default that is
        out of its own declared range also raises.
        """
        import nbformat
        import papermill

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"notebook not found: {path}")
        nb = nbformat.read(path, as_version=4)
        cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        if not cells:
            raise ValueError(f"{path}: no cell tagged 'parameters'")
        if not nb.metadata.get("kernelspec", {}).get("name"):
            raise ValueError(f"{path}: notebook metadata has no kernelspec name; papermill needs "
                             f"one (save it from Jupyter with the python3 kernel)")
        found = list(papermill.inspect_notebook(str(path)).values())
        return cls._from_inspected(found, cells[0].source, str(path))

    @classmethod
    def from_source(cls, source, where="<parameters>"):
        """Schema of the source text of a parameters cell (the same parser papermill uses)."""
        from papermill.translators import PythonTranslator

        found = [p._asdict() for p in PythonTranslator.inspect({"source": source})]
        return cls._from_inspected(found, source, where)

    @classmethod
    def _from_inspected(cls, found, source, where):
        names = {d["name"] for d in found}
        lines = source.splitlines()
        for lineno, name in _assigned_names(source, where):
            if name not in names:
                line = lines[lineno - 1] if lineno <= len(lines) else ""
                why = ("the line holds more than one '=' (papermill skips such lines, even "
                       "when the extra '=' is in the comment: reword the help without '=')"
                       if line.count("=") > 1 else
                       "it is not in the form 'name: type = value  # help'; write "
                       "Optional[str] rather than str | None")
                raise ValueError(
                    f"{where}: parameters cell line {lineno}: papermill cannot read parameter "
                    f"{name!r}, so `papermill --help-notebook` would not list it: {why}")
        return cls(_param_from_papermill(d, where) for d in found)


def _assigned_names(source, where):
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: parameters cell is not valid Python ({exc.msg}, "
                         f"line {exc.lineno})") from None
    out = []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out.append((node.lineno, node.target.id))
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out.append((node.lineno, t.id))
    return out


_INTERVAL = re.compile(r"([\[(])\s*(-?inf|[-+]?[\d.]+(?:[eE][-+]?\d+)?)\s*,\s*"
                       r"([-+]?inf|[-+]?[\d.]+(?:[eE][-+]?\d+)?)\s*([\])])")
_TABLE_KEY = re.compile(r"key (?:in|of) data/([a-z0-9_]+)(?:\.csv)?")
_BRACES = re.compile(r"\{([^{}]+)\}")
_SAME_AS = re.compile(r"None:\s*same as `?([A-Za-z_]\w*)`?")


def _param_from_papermill(d, where):
    name, help_ = d["name"], d.get("help", "") or ""
    raw_default = d.get("default", "")
    try:
        default = ast.literal_eval(raw_default)
    except (ValueError, SyntaxError):
        default = None  # an expression: type from the annotation only
    tname = (d.get("inferred_type_name") or "None").strip()
    optional = False
    m = re.fullmatch(r"(?:typing\.)?Optional\[(.+)\]", tname)
    if m:
        optional, tname = True, m.group(1).strip()
    item_type = None
    m = re.fullmatch(r"(?:list|List|typing\.List)\[(\w+)\]", tname)
    if m:
        tname, item_type = "list", _TYPES.get(m.group(1))
        if item_type is None:
            raise ValueError(
                f"{where}: parameter {name!r}: list of {m.group(1)!r} is not supported"
            )
    elif tname in ("List", "typing.List"):
        tname = "list"
    if tname in ("None", "NoneType", ""):
        if default is None:
            raise ValueError(f"{where}: parameter {name!r} has no type annotation and no literal "
                             f"default to infer one from; write '{name}: float = ...'")
        tname = _TYPE_NAMES.get(type(default), None)
        if tname is None:
            raise ValueError(f"{where}: parameter {name!r}: cannot infer a type from {raw_default}")
    if tname not in _TYPES:
        raise ValueError(f"{where}: parameter {name!r}: annotation {tname!r} is not one of "
                         f"{sorted(_TYPES)} (optionally Optional[...] or list[...])")
    typ = _TYPES[tname]
    lo = hi = None
    lo_inc = hi_inc = True
    iv = _INTERVAL.search(help_)
    numeric = typ in (float, int) or item_type in (float, int)
    if numeric and iv:
        lo = None if iv.group(2).lstrip("-") == "inf" else float(iv.group(2))
        hi = None if iv.group(3).lstrip("+") == "inf" else float(iv.group(3))
        lo_inc, hi_inc = iv.group(1) == "[", iv.group(4) == "]"
    elif numeric:
        if name.endswith("_frac"):
            lo, hi = 0.0, 1.0
        elif _data.unit_of(name) is not None:
            lo = 0.0
    choices = None
    textual = typ is str or item_type is str
    if textual and (m := _TABLE_KEY.search(help_)):
        table = m.group(1)
        try:
            choices = tuple(_data.keys(table))
        except KeyError:
            raise ValueError(f"{where}: parameter {name!r} says 'key in data/{table}.csv' but "
                             f"there is no such table; tables: {_data.tables()}") from None
    elif textual and (m := _BRACES.search(help_)):
        choices = tuple(c.strip().strip("'\"") for c in re.split(r"[,|]", m.group(1)) if c.strip())
    m = _SAME_AS.search(help_)
    p = Param(name=name, type=typ, default=default, min=lo, max=hi, min_inclusive=lo_inc,
              max_inclusive=hi_inc, choices=choices, help=help_, item_type=item_type,
              optional=optional or (default is None and raw_default.strip() == "None"),
              same_as=m.group(1) if m else None, source=where)
    if default is not None or raw_default.strip() == "None":
        try:
            p.check(default, where=f"{where}: default")
        except ScenarioError as exc:
            raise ValueError(str(exc)) from None
    return p


def _as_schema(schema):
    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, (str, Path)) and str(schema).endswith(".ipynb"):
        return Schema.from_notebook(schema)
    if isinstance(schema, Mapping):
        return Schema(schema.values())
    try:
        return Schema(schema)
    except TypeError:
        raise TypeError(f"schema must be a Schema, Params or a notebook path, got {schema!r}") \
            from None


def _infer_param(name, value):
    """Param from a value and its name's unit suffix (for validate_params without a schema)."""
    if isinstance(value, bool):
        return Param(name, bool)
    if isinstance(value, str):
        return Param(name, str)
    if isinstance(value, (int, float, np.integer, np.floating)):
        typ = int if isinstance(value, (int, np.integer)) else float
        if name.endswith("_frac"):
            return Param(name, typ, min=0.0, max=1.0)
        if _data.unit_of(name) is not None:
            return Param(name, typ, min=0.0)
        return Param(name, typ)
    if isinstance(value, (list, tuple)):
        return Param(name, list)
    if isinstance(value, dict):
        return Param(name, dict)
    return None


# --------------------------------------------------------------------------------------------
# Scenario files
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Scenario:
    """A validated scenario: its name, file and parameter values (only those the file sets)."""

    name: str
    path: Path | None
    values: dict

    def for_schema(self, schema):
        """The values a given notebook accepts (to pass to ``papermill`` as parameters)."""
        s = _as_schema(schema)
        return {k: v for k, v in self.values.items() if k in s}


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice (safe_load keeps the last silently)."""


def _no_duplicates(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            dup = key in seen
        except TypeError:
            dup = False
        if dup:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice", key_node.start_mark)
        try:
            seen.add(key)
        except TypeError:
            pass
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def scenario_names(folder=None):
    """Names of the scenario files in ``folder`` (default :data:`SCENARIO_DIR`), sorted."""
    d = Path(folder) if folder else SCENARIO_DIR
    return sorted(p.stem for p in d.glob("*.yaml") if re.fullmatch(SCENARIO_NAME_PATTERN, p.stem))


def _resolve(path_or_name, folder):
    if isinstance(path_or_name, Path):
        path = path_or_name
        return path.stem, path
    if not isinstance(path_or_name, str):
        raise TypeError(f"scenario must be a name (str) or a pathlib.Path, got {path_or_name!r}")
    name = path_or_name
    d = Path(folder) if folder else SCENARIO_DIR
    if not re.fullmatch(SCENARIO_NAME_PATTERN, name):
        raise ScenarioError(
            f"scenario name {name!r} is not allowed: a name must match {SCENARIO_NAME_PATTERN} "
            f"(lower-case letters, digits, '_' and '-'; no '/', '..' or '.yaml') and names a file "
            f"in {d}; scenarios there: {scenario_names(d)}")
    path = d / f"{name}.yaml"
    if not path.resolve().is_relative_to(d.resolve()):
        raise ScenarioError(f"scenario {name!r}: {path} resolves outside {d}")
    if not path.exists():
        raise ScenarioError(f"unknown scenario {name!r}: no file {path}; scenarios there: "
                            f"{scenario_names(d)}")
    return name, path


def load_scenario(path_or_name, schema, folder=None):
    """Read a scenario file and check every value against ``schema``.

    Parameters
    ----------
    path_or_name : str or pathlib.Path
        A scenario *name* (``"base"``; must match :data:`SCENARIO_NAME_PATTERN`) looked up as
        ``<folder>/<name>.yaml``, or a ``pathlib.Path`` to any YAML file. A ``str`` is always a
        name, so user input such as ``"../x"`` cannot leave the folder.
    schema : Schema, iterable of Param, or path to a notebook
        What the file may set (for a report run: ``Schema.union`` of every notebook's schema).
    folder : str or Path, optional
        Folder of scenario files; default :data:`SCENARIO_DIR`.

    Returns
    -------
    Scenario
        Its values converted to the declared types (an ``int`` given for a ``float`` becomes a
        float).

    Raises
    ------
    ScenarioError
        (a ``ValueError``) naming the file, the key, the value and what is allowed: unknown key,
        wrong type, out of range, a key given twice, a file that is not YAML or not a mapping,
        an empty or comment-only file (it would run the defaults under another name), or a
        name that is not allowed.
    """
    name, path = _resolve(path_or_name, folder)
    s = _as_schema(schema)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{where}: scenario file not found") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{where}: not valid UTF-8 ({exc.reason} at byte {exc.start})") \
            from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # safe: a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{where}: not valid YAML{at}: {problem}") from None
    if raw is None or raw == {}:
        raise ScenarioError(f"{where}: the scenario file sets no parameter (it is empty or holds "
                            f"only comments); set at least one, 'name: value  # why' per line "
                            f"(`python -m econ.reports --list` lists them)")
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: a scenario file must be a mapping of parameter names to "
                            f"values ('name: value  # comment' lines), got a "
                            f"{type(raw).__name__}")
    return Scenario(name=name, path=path, values=validate_params(raw, s, where=where))


def validate_params(values, schema=None, *, where="parameters"):
    """Check a dict of parameter values against a schema; return them converted.

    For a notebook's "validate parameters" cell (``econ.validate_params(dict(model=model,
    utilization_frac=utilization_frac), "this_notebook.ipynb")``) and for scenario files.

    Parameters
    ----------
    values : mapping
        ``{name: value}``.
    schema : Schema, iterable of Param, path to a ``.ipynb``, or None
        With ``None`` each value is checked by its own type and its name's unit suffix only
        (``_frac`` in [0, 1]; other unit suffixes and ``n_`` >= 0; finite numbers).
    where : str
        Start of every error message (a file name).

    Returns
    -------
    dict
        The values, ``int`` converted to ``float`` for float parameters.

    Raises
    ------
    ScenarioError
        Unknown key (with the nearest valid name), wrong type, out of range, not allowed.
    """
    if not isinstance(values, Mapping):
        raise ScenarioError(f"{where}: parameters must be a mapping of names to values, got "
                            f"{type(values).__name__}")
    s = None if schema is None else _as_schema(schema)
    out = {}
    for key, value in values.items():
        if not isinstance(key, str):
            raise ScenarioError(f"{where}: key {key!r} is not a parameter name (a key must be a "
                                f"string)")
        if s is None:
            p = _infer_param(key, value)
            if p is None:
                raise ScenarioError(f"{where}: key {key!r}: unsupported value {value!r}")
        elif key not in s:
            near = difflib.get_close_matches(key, list(s), n=1)
            extra = f" (did you mean {near[0]!r}?)" if near else ""
            raise ScenarioError(f"{where}: unknown key {key!r}{extra}; valid keys: {sorted(s)}")
        else:
            p = s[key]
        out[key] = p.check(value, where=where)
    return out


# --------------------------------------------------------------------------------------------
# Grids
# --------------------------------------------------------------------------------------------

def grid(**axes):
    """Every combination of the given parameter values, one row each (tidy).

    Parameters
    ----------
    **axes : scalar or 1-D sequence
        ``name=values``; a scalar is an axis of one value.

    Returns
    -------
    pandas.DataFrame
        One column per axis, in the order given; ``prod(len(values))`` rows, the last axis
        varying fastest.

    Examples
    --------
    >>> grid(batch_size=[1, 8, 64], utilization_frac=[0.4, 0.8]).shape
    (6, 2)
    """
    if not axes:
        raise ValueError("grid needs at least one axis, e.g. grid(batch_size=[1, 8, 64])")
    levels = []
    for name, vals in axes.items():
        if isinstance(vals, (str, bytes)) or np.ndim(vals) == 0:
            vals = [vals]
        vals = list(vals.tolist() if isinstance(vals, (np.ndarray, pd.Series, pd.Index)) else vals)
        if not vals:
            raise ValueError(f"grid axis {name!r} has no values")
        levels.append(vals)
    idx = pd.MultiIndex.from_product(levels, names=list(axes))
    return idx.to_frame(index=False)


def _call_columns(func, frame, constants):
    """Call ``func`` with the frame's columns (and constants) that match its parameters."""
    constants = dict(constants or {})
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        sig = None
    cols = {c: frame[c] for c in frame.columns}
    if sig is None or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        kwargs = {**cols, **constants}
    else:
        names = [n for n, p in sig.parameters.items()
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        kwargs = {n: constants[n] if n in constants else cols[n]
                  for n in names if n in constants or n in cols}
        missing = [n for n, p in sig.parameters.items()
                   if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                   and n not in kwargs]
        if missing:
            raise ValueError(f"{_fname(func)} needs {missing}: give them as columns "
                             f"(have {list(frame.columns)}) or as constants")
    return func(**kwargs)


def _fname(func):
    return getattr(func, "__name__", None) or type(func).__name__


def _outputs(result, n, index, output, func):
    """Normalize a function's result to {column: 1-D array of length n}."""
    if isinstance(result, pd.DataFrame):
        items = {c: result[c] for c in result.columns}
    elif isinstance(result, Mapping):
        items = dict(result)
    else:
        items = {output or _fname(func): result}
    out = {}
    for k, v in items.items():
        arr = v.to_numpy() if isinstance(v, (pd.Series, pd.Index)) else np.asarray(v)
        if arr.ndim == 0:
            arr = np.broadcast_to(arr, (n,)).copy()
        if arr.shape != (n,):
            raise ValueError(f"{_fname(func)} returned {k!r} of shape {arr.shape}; expected {n} "
                             f"values, one per row (is the function vectorized?)")
        out[k] = arr
    if isinstance(output, str) and output not in out:
        if len(out) == 1:
            out = {output: next(iter(out.values()))}
        else:
            raise ValueError(f"output {output!r} is not among {list(out)} returned by "
                             f"{_fname(func)}")
    return out


def evaluate(func, frame, constants=None, output=None):
    """Apply a vectorized function to the columns of a frame (e.g. a :func:`grid`).

    Parameters
    ----------
    func : callable
        Vectorized: called once with each of its parameters bound to the frame column of the
        same name (a pandas Series) or to ``constants[name]``.
    frame : pandas.DataFrame
        One row per case.
    constants : dict, optional
        Values shared by every row (a model name, a hardware key).
    output : str, optional
        Name of the output column; default the function's name (``cost_usd_per_mtok``). A
        function that returns a dict or DataFrame gives one column per key.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with the output column(s) added.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    result = _call_columns(func, frame, constants)
    out = frame.copy()
    for k, v in _outputs(result, len(frame), frame.index, output, func).items():
        out[k] = v
    return out


# --------------------------------------------------------------------------------------------
# Distributions and Monte Carlo
# --------------------------------------------------------------------------------------------

class Distribution:
    """An uncertain input. ``sample(n, rng)`` draws ``n`` values; ``ppf(q)`` is the quantile."""

    kind = "distribution"

    def sample(self, n, rng):  # pragma: no cover - abstract
        raise NotImplementedError

    def ppf(self, q):  # pragma: no cover - abstract
        raise NotImplementedError

    def interval(self, coverage=0.9):
        """Central interval holding ``coverage`` of the mass, e.g. (p5, p95) for 0.9."""
        a = (1.0 - coverage) / 2.0
        return float(self.ppf(a)), float(self.ppf(1.0 - a))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{self.kind}({args})"


def _num(name, x):
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) \
            or not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return float(x)


class _Uniform(Distribution):
    kind = "uniform"

    def __init__(self, lo, hi):
        self.lo, self.hi = _num("lo", lo), _num("hi", hi)
        if not self.lo < self.hi:
            raise ValueError(f"uniform needs lo < hi, got lo={lo!r}, hi={hi!r}")

    def sample(self, n, rng):
        return rng.uniform(self.lo, self.hi, n)

    def ppf(self, q):
        return self.lo + np.asarray(q, dtype=float) * (self.hi - self.lo)


class _Triangular(Distribution):
    kind = "triangular"

    def __init__(self, lo, mode, hi):
        self.lo, self.mode, self.hi = _num("lo", lo), _num("mode", mode), _num("hi", hi)
        if not (self.lo <= self.mode <= self.hi and self.lo < self.hi):
            raise ValueError(f"triangular needs lo <= mode <= hi and lo < hi, got lo={lo!r}, "
                             f"mode={mode!r}, hi={hi!r}")

    def sample(self, n, rng):
        return rng.triangular(self.lo, self.mode, self.hi, n)

    def ppf(self, q):
        q = np.asarray(q, dtype=float)
        a, c, b = self.lo, self.mode, self.hi
        fc = (c - a) / (b - a)
        left = a + np.sqrt(q * (b - a) * (c - a))
        right = b - np.sqrt((1 - q) * (b - a) * (b - c))
        return np.where(q < fc, left, right)


class _LogNormal(Distribution):
    kind = "lognormal_from_range"

    def __init__(self, lo, hi, coverage=0.9):
        self.lo, self.hi, self.coverage = _num("lo", lo), _num("hi", hi), _num("coverage",
                                                                              coverage)
        if not 0 < self.lo < self.hi:
            raise ValueError(f"lognormal_from_range needs 0 < lo < hi, got lo={lo!r}, hi={hi!r}")
        if not 0 < self.coverage < 1:
            raise ValueError(f"coverage must be in (0, 1), got {coverage!r}")
        z = statistics.NormalDist().inv_cdf(0.5 + self.coverage / 2.0)
        self.mu = (math.log(self.lo) + math.log(self.hi)) / 2.0
        self.sigma = (math.log(self.hi) - math.log(self.lo)) / (2.0 * z)

    def __repr__(self):
        return f"lognormal_from_range(lo={self.lo!r}, hi={self.hi!r}, coverage={self.coverage!r})"

    def sample(self, n, rng):
        return rng.lognormal(self.mu, self.sigma, n)

    def ppf(self, q):
        nd = statistics.NormalDist(self.mu, self.sigma)
        return np.exp(np.vectorize(nd.inv_cdf, otypes=[float])(np.asarray(q, dtype=float)))


class _Normal(Distribution):
    kind = "normal"

    def __init__(self, mean, sd):
        self.mean, self.sd = _num("mean", mean), _num("sd", sd)
        if not self.sd > 0:
            raise ValueError(f"normal needs sd > 0, got {sd!r}")

    def sample(self, n, rng):
        return rng.normal(self.mean, self.sd, n)

    def ppf(self, q):
        nd = statistics.NormalDist(self.mean, self.sd)
        return np.vectorize(nd.inv_cdf, otypes=[float])(np.asarray(q, dtype=float))


class _Fixed(Distribution):
    kind = "fixed"

    def __init__(self, value):
        self.value = value

    def sample(self, n, rng):
        return np.full(n, self.value, dtype=float if _is_number(self.value) else object)

    def ppf(self, q):
        return np.full(np.shape(q), self.value)


def _is_number(x):
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def uniform(lo, hi):
    """Uniform on [lo, hi]: every value equally likely (mean (lo+hi)/2)."""
    return _Uniform(lo, hi)


def triangular(lo, mode, hi):
    """Triangular on [lo, hi] peaking at ``mode``: a low, likely and high guess."""
    return _Triangular(lo, mode, hi)


def lognormal_from_range(lo, hi, coverage=0.9):
    """Log-normal whose central ``coverage`` interval (default 90%) is [lo, hi].

    For positive quantities known to within a factor (prices, efficiencies): the median is
    sqrt(lo*hi), and ln X ~ N(mu, sigma) with mu = (ln lo + ln hi)/2,
    sigma = (ln hi - ln lo) / (2 z), z the standard-normal quantile at 0.5 + coverage/2
    (1.645 for 90%).
    """
    return _LogNormal(lo, hi, coverage)


def normal(mean, sd):
    """Normal with the given mean and standard deviation (not truncated: mind the sign)."""
    return _Normal(mean, sd)


def fixed(value):
    """A known value (a number or a string key), the same in every sample."""
    return _Fixed(value)


def _stream_seed(seed, name):
    # Each input draws from its own stream, fixed by (seed, name): adding, removing or
    # reordering other inputs leaves its samples unchanged.
    return np.random.SeedSequence([int(seed), zlib.crc32(name.encode("utf-8"))])


def assumption_triangulars(assumptions, **values):
    """Triangular distributions of assumptions around the run's values, from their ranges.

    For each ``name=value``: ``triangular(min(low, value), value, max(high, value))`` with
    ``low`` and ``high`` the row ``name`` of ``assumptions``: the run's value is the mode and
    the range is widened to include it.

    Parameters
    ----------
    assumptions : pandas.DataFrame
        ``econ.data.load("assumptions")`` (columns ``low``, ``high``).
    **values : float
        The run's value of each assumption sampled.

    Returns
    -------
    dict
        ``{name: Distribution}`` for :func:`monte_carlo`.
    """
    out = {}
    for name, v in values.items():
        if name not in assumptions.index:
            raise KeyError(f"assumption_triangulars: no row {name!r} in the assumptions table; "
                           f"rows: {sorted(assumptions.index)}")
        lo, hi = float(assumptions.loc[name, "low"]), float(assumptions.loc[name, "high"])
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"assumption_triangulars: row {name!r} has no low/high range")
        out[name] = triangular(min(lo, float(v)), float(v), max(hi, float(v)))
    return out


def monte_carlo(func, inputs, n_samples=10_000, seed=0, *, constants=None, output=None,
                over=None):
    """Sample uncertain inputs and evaluate a vectorized function on all samples at once.

    Parameters
    ----------
    func : callable
        Vectorized function; its parameters are bound by name to the sampled inputs (numpy
        arrays), to ``constants`` and to the columns of ``over``.
    inputs : dict
        ``{name: Distribution}``; a plain number or string counts as :func:`fixed`.
    n_samples : int
        Samples per row of ``over`` (or in all, without ``over``).
    seed : int
        Seed of numpy's ``Generator``: the same seed gives the same samples. Each input has its
        own stream derived from (seed, input name).
    constants : dict, optional
        Extra arguments passed as they are (not included in the result).
    output : str, optional
        Name of the output column; default the function's name.
    over : pandas.DataFrame, optional
        A :func:`grid`: every row is evaluated on the same ``n_samples`` samples (common random
        numbers), so differences between rows are not sampling noise.

    Returns
    -------
    pandas.DataFrame
        One row per sample (times rows of ``over``): a ``sample`` column, the ``over`` columns,
        one column per input and the output column(s).
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(inputs, Mapping) or not inputs:
        raise ValueError("inputs must be a non-empty dict of name -> distribution")
    n = int(n_samples)
    reps = 1 if over is None else len(over)
    if over is not None and not isinstance(over, pd.DataFrame):
        raise TypeError(f"over must be a DataFrame (a grid), got {type(over).__name__}")
    frame = {"sample": np.tile(np.arange(n), reps)}
    args = {}
    if over is not None:
        clash = [c for c in over.columns if c in inputs]
        if clash:
            raise ValueError(f"{clash} are both inputs and grid columns")
        for c in over.columns:
            frame[c] = args[c] = np.repeat(over[c].to_numpy(), n)
    for name, dist in inputs.items():
        if not isinstance(dist, Distribution):
            if not (_is_number(dist) or isinstance(dist, str)):
                raise ValueError(f"input {name!r} must be a distribution (uniform, triangular, "
                                 f"lognormal_from_range, normal, fixed) or a value, got {dist!r}")
            dist = _Fixed(dist)
        if isinstance(dist, _Fixed):
            args[name] = dist.value  # scalars stay scalars (string keys included)
            frame[name] = np.full(n * reps, dist.value,
                                  dtype=float if _is_number(dist.value) else object)
            continue
        draws = dist.sample(n, np.random.default_rng(_stream_seed(seed, name)))
        frame[name] = args[name] = np.tile(draws, reps) if reps > 1 else draws
    result = _call_columns(func, _ArgFrame(args), constants)
    for k, v in _outputs(result, n * reps, None, output, func).items():
        if k in frame:
            raise ValueError(f"output {k!r} of {_fname(func)} has the name of an input")
        frame[k] = v
    # the arrays are freshly made here: no copy (saves ~25 ms per million rows x 17 columns)
    return pd.DataFrame(frame, copy=False)


class _ArgFrame:
    """Minimal frame-like view of a dict of arguments (arrays and scalars), for _call_columns."""

    def __init__(self, args):
        self._args = args
        self.columns = list(args)

    def __getitem__(self, k):
        return self._args[k]


def summarize(frame, columns=None, by=None, quantiles=(0.05, 0.5, 0.95)):
    """Mean and p5/p50/p95 of Monte Carlo outputs, tidy.

    Parameters
    ----------
    frame : pandas.DataFrame
        A :func:`monte_carlo` result (or any frame of samples).
    columns : str or list of str, optional
        Columns to summarize; default every numeric column except ``sample`` and ``by``.
    by : str or list of str, optional
        Group columns (the ``over`` grid axes): one summary per group.
    quantiles : sequence of float
        Probabilities; column names are ``p`` + percent (``p5``, ``p50``, ``p95``).

    Returns
    -------
    pandas.DataFrame
        Columns: the ``by`` columns, ``variable``, ``mean``, ``sd``, then one per quantile.
    """
    by = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if columns is None:
        columns = [c for c in frame.columns if c not in by and c != "sample"
                   and pd.api.types.is_numeric_dtype(frame[c])]
    elif isinstance(columns, str):
        columns = [columns]
    missing = [c for c in [*columns, *by] if c not in frame.columns]
    if missing:
        raise KeyError(f"columns {missing} not in the frame; have {list(frame.columns)}")
    qs = [float(q) for q in quantiles]
    if any(not 0 <= q <= 1 for q in qs):
        raise ValueError(f"quantiles must be in [0, 1], got {list(quantiles)}")
    names = [f"p{100 * q:g}" for q in qs]
    long = frame[[*by, *columns]].melt(id_vars=by, value_vars=columns, var_name="variable")
    keys = [*by, "variable"]
    g = long.groupby(keys, sort=False, observed=True)["value"]
    out = pd.concat([g.mean().rename("mean"), g.std().rename("sd")]
                    + [g.quantile(q).rename(nm) for q, nm in zip(qs, names)], axis=1)
    return out.reset_index()


# --------------------------------------------------------------------------------------------
# Tornado
# --------------------------------------------------------------------------------------------

def tornado(func, base, ranges, *, output=None, coverage=0.9):
    """One-at-a-time sensitivity of one output: move each input to its low and high value.

    Parameters
    ----------
    func : callable
        Vectorized; called once, on 1 + 2*len(ranges) cases.
    base : dict
        Base value of every argument of ``func`` (strings and other constants included).
    ranges : dict
        ``{name: (low, high)}`` or ``{name: Distribution}`` (its central ``coverage``
        interval, p5-p95 by default); every name must be in ``base``.
    output : str, optional
        Which output, when ``func`` returns several (a dict or DataFrame).
    coverage : float
        Interval of a distribution used as its (low, high).

    Returns
    -------
    pandas.DataFrame
        One row per input, largest ``swing`` first: ``output`` (its name: ``output`` or the
        function's name), ``parameter``, ``low_value``, ``high_value``, ``output_low``,
        ``output_high``, ``output_base``, ``swing`` (``|output_high - output_low|``).
    """
    if not isinstance(base, Mapping) or not isinstance(ranges, Mapping) or not ranges:
        raise ValueError("tornado needs base (a dict of every input) and ranges (a non-empty "
                         "dict of name -> (low, high))")
    unknown = [k for k in ranges if k not in base]
    if unknown:
        raise ValueError(f"ranges names {unknown} have no base value; base has {list(base)}")
    lows, highs = {}, {}
    for k, r in ranges.items():
        if isinstance(r, Distribution):
            lo, hi = r.interval(coverage)
        else:
            try:
                lo, hi = r
            except (TypeError, ValueError):
                raise ValueError(f"range of {k!r} must be (low, high) or a distribution, "
                                 f"got {r!r}") from None
            lo, hi = _num(f"low of {k!r}", lo), _num(f"high of {k!r}", hi)
        lows[k], highs[k] = lo, hi
    names = list(ranges)
    m = 1 + 2 * len(names)
    args = {}
    for k, v in base.items():
        if k in ranges:
            col = np.full(m, _num(f"base value of {k!r}", v))
            i = 1 + 2 * names.index(k)
            col[i], col[i + 1] = lows[k], highs[k]
            args[k] = col
        else:
            args[k] = v
    result = _call_columns(func, _ArgFrame(args), None)
    outs = _outputs(result, m, None, output, func)
    if output is None and len(outs) > 1:
        raise ValueError(f"{_fname(func)} returns several outputs {list(outs)}: pick one with "
                         f"output=")
    out_name = next(iter(outs)) if output is None else output
    y = np.asarray(outs[out_name], dtype=float)
    df = pd.DataFrame({
        "output": out_name,
        "parameter": names,
        "low_value": [lows[k] for k in names],
        "high_value": [highs[k] for k in names],
        "output_low": y[1::2],
        "output_high": y[2::2],
        "output_base": np.full(len(names), y[0]),
    })
    df["swing"] = (df["output_high"] - df["output_low"]).abs()
    return df.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# A notebook's own parameters, on every path that runs it
# --------------------------------------------------------------------------------------------

#: First line of the cell papermill injects with the parameters it was given.
_INJECTED_HEADER = "# Parameters"


def injected_parameter_names(namespace):
    """Names assigned by the cells papermill injected into this kernel (``[]`` when none).

    papermill passes parameters by adding a cell that starts with ``# Parameters`` after the
    notebook's parameters cell; a name the notebook does not declare only draws a warning from
    papermill. The kernel's input history (``In``) keeps that cell's source.

    Parameters
    ----------
    namespace : mapping
        The notebook's ``globals()``.

    Returns
    -------
    list of str
        In the order assigned.
    """
    history = namespace.get("In", []) if isinstance(namespace, Mapping) else []
    names = []
    for src in history if isinstance(history, (list, tuple)) else []:
        if isinstance(src, str) and src.lstrip().startswith(_INJECTED_HEADER):
            try:
                names += [n for _, n in _assigned_names(src, "injected parameters")]
            except ValueError:
                continue
    return list(dict.fromkeys(names))


def _notebook_path(notebook):
    path = Path(notebook)
    if path.exists():
        return path
    shipped = SCENARIO_DIR.parent / path.name
    if shipped.exists():
        return shipped
    raise FileNotFoundError(f"notebook not found: {notebook} (looked in {Path.cwd()} and "
                            f"{SCENARIO_DIR.parent})")


def resolve_same_as(params, schema, where="parameters"):
    """Give each parameter declared ``None: same as <other>`` and left ``None`` the other's value.

    Parameters
    ----------
    params : dict
        Values of every parameter of ``schema``.
    schema : Schema

    Returns
    -------
    dict
        A copy, resolved.
    """
    out = dict(params)
    s = _as_schema(schema)
    for name in s:
        p = s[name]
        if p.same_as is not None and out.get(name) is None:
            if p.same_as not in out:
                raise ScenarioError(f"{where}: parameter {name!r} says 'same as {p.same_as}', "
                                    f"which is not a parameter of this notebook")
            out[name] = out[p.same_as]
    return out


def notebook_parameters(namespace, notebook):
    """Check a notebook's parameters where it runs; return them validated and resolved.

    The one call of a notebook's validation cell (``params = econ.notebook_parameters(
    globals(), "token_pricing.ipynb")``), so the same checks hold whether the notebook runs
    through ``make reports``, ``papermill`` by hand or Jupyter:

    * a name papermill injected that the parameters cell does not declare is an error, with
      the nearest declared name (papermill itself only warns);
    * every declared value is checked against the schema (type, range, table key);
    * a parameter declared ``None: same as <other>`` takes the other's value when left ``None``;
    * the setup the parameters describe must fit in memory (:func:`econ.setups.setup_problems`).

    Parameters
    ----------
    namespace : mapping
        The notebook's ``globals()``.
    notebook : str or Path
        The notebook file (its parameters cell is the schema); looked up in the working folder,
        then in the shipped notebooks folder.

    Returns
    -------
    dict
        Every declared parameter's value, ``same as`` defaults resolved.

    Raises
    ------
    ScenarioError
        An unknown name, a bad value, or a setup that does not fit, naming the parameter.
    """
    path = _notebook_path(notebook)
    schema = Schema.from_notebook(path)
    where = path.name
    unknown = [n for n in injected_parameter_names(namespace) if n not in schema]
    if unknown:
        hints = []
        for n in unknown:
            near = difflib.get_close_matches(n, list(schema), n=1)
            hints.append(f"{n!r}" + (f" (did you mean {near[0]!r}?)" if near else ""))
        raise ScenarioError(f"{where}: unknown parameter(s) {', '.join(hints)}; this notebook's "
                            f"parameters: {sorted(schema)} (`papermill --help-notebook` lists "
                            f"them)")
    missing = [n for n in schema if n not in namespace]
    if missing:
        raise ScenarioError(f"{where}: parameters {missing} are not defined; run the parameters "
                            f"cell first")
    params = resolve_same_as(validate_params({n: namespace[n] for n in schema}, schema,
                                             where=where), schema, where=where)
    problems = _setups.setup_problems(path.stem, params)
    if problems:
        raise ScenarioError(f"{where}: " + "; ".join(problems))
    return params
