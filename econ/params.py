"""Parameters and scenarios: the typed parameters of each notebook, and scenario files checked
against them.

A *scenario* is a small YAML file of parameter values (``notebooks/scenarios/<name>.yaml``),
checked against a :class:`Schema` of :class:`Param` s before any notebook runs. A schema is
built from a notebook's typed, commented parameters cell (:meth:`Schema.from_notebook`, through
``papermill.inspect_notebook``) or written by hand; the reports run validates scenario files
against the union of every notebook's schema (:meth:`Schema.union`). Inside a notebook,
:func:`notebook_parameters` checks the values papermill injected, on every path that runs it.
The analysis over parameters (grids, Monte Carlo, tornado) is :mod:`econ.sensitivity`.

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
import math
import re
import sys
from collections.abc import Iterable, Mapping
from importlib import resources
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
    "injected_parameter_names", "resolve_same_as", "suite_schema", "load_scenarios",
    "scenario_setup_problems", "notebook_tools",
]

_CHECKOUT_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _scenario_dir():
    """``econ/_scenarios`` in an installed wheel, else the checkout's ``notebooks/scenarios``."""
    shipped = resources.files(__package__) / "_scenarios"
    if shipped.is_dir() and (shipped / "base.yaml").is_file():
        return Path(str(shipped))
    return _CHECKOUT_NOTEBOOKS / "scenarios"


#: Folder of the shipped scenario files: inside the installed package (``econ/_scenarios``, which
#: a wheel carries, found with :mod:`importlib.resources`), or the checkout's
#: ``notebooks/scenarios``.
SCENARIO_DIR = _scenario_dir()
#: A scenario name: lower-case letters, digits, ``_`` and ``-``; nothing that can name a path.
SCENARIO_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"

_TYPES = {"float": float, "int": int, "str": str, "bool": bool, "list": list, "dict": dict}
_TYPE_NAMES = {v: k for k, v in _TYPES.items()}


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
    config_path : bool
        Whether a path to a Hugging Face ``config.json`` is allowed besides ``choices`` (a
        model parameter: ``key in data/models.csv``); it must be a file
        :func:`econ.model_from_hf_config` reads.
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
    config_path: bool = False

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
            if self.config_path:
                parts.append("or a path to a model's config.json")
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
            if self.config_path and value not in (self.choices or ()) \
                    and value.strip().lower().endswith(".json"):
                try:
                    _data.model_row(value)
                except (KeyError, ValueError, OSError) as exc:
                    raise ScenarioError(f"{prefix}key {self.name!r}{at}: {value!r} is not a "
                                        f"readable model config.json ({exc})") from None
                return value
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

    def describe(self, reserved=()):
        """One line per parameter, by name: ``name: allowed = default  # help``; the
        ``reserved`` ones (set by the report run, not by a scenario file) marked so. What
        ``python -m econ.reports --list`` prints."""
        return [f"{k}: {p.allowed()} = {p.default!r}  # {p.help}"
                + ("  (set by the report run)" if k in reserved else "")
                for k, p in sorted(self._params.items())]

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
        nbformat, papermill = notebook_tools()
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
        notebook_tools()
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


def notebook_tools():
    """``(nbformat, papermill)``, imported without jsonschema's optional IRI format checker.

    nbformat imports jsonschema, which imports ``rfc3987_syntax`` when it is installed (a
    JupyterLab dependency brings it); that module builds a parsing grammar at import, about
    1.3 s of every notebook kernel's start (:func:`notebook_parameters` runs in each). Nothing
    here checks IRI formats, so the import is skipped while jsonschema loads; the module stays
    importable afterwards.
    """
    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # `import` of it raises ImportError: skipped
        try:
            import jsonschema  # noqa: F401
        finally:
            del sys.modules["rfc3987_syntax"]
    import nbformat
    import papermill

    return nbformat, papermill


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
    table_m = _TABLE_KEY.search(help_) if textual else None
    p = Param(name=name, type=typ, default=default, min=lo, max=hi, min_inclusive=lo_inc,
              max_inclusive=hi_inc, choices=choices, help=help_, item_type=item_type,
              config_path=bool(table_m and table_m.group(1) == "models"),
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

    @property
    def description(self):
        """The first paragraph of comment lines at the top of the file ("" without one)."""
        text = self.path.read_text(encoding="utf-8") if self.path else ""
        m = re.match(r"\s*((?:#[^\n]*\S[^\n]*\n)+)", text + "\n")
        return " ".join(ln.lstrip("#").strip() for ln in m.group(1).splitlines()) if m else ""


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
    shipped = _CHECKOUT_NOTEBOOKS / path.name
    if shipped.exists():
        return shipped
    raise FileNotFoundError(f"notebook not found: {notebook} (looked in {Path.cwd()} and "
                            f"{_CHECKOUT_NOTEBOOKS})")


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


# --------------------------------------------------------------------------------------------
# A suite of notebooks: what a scenario file may set, checked before anything runs
# --------------------------------------------------------------------------------------------

def suite_schema(paths):
    """Each notebook's parameter schema and their union (the names a scenario file may set).

    Parameters
    ----------
    paths : iterable of str or Path
        The notebooks.

    Returns
    -------
    (dict of str -> Schema, Schema)
        Schemas by notebook name (file stem), and :meth:`Schema.union` of all of them.

    Raises
    ------
    ScenarioError
        Every parameters cell that cannot be read, in one message, or two notebooks that
        declare one parameter with different types or defaults.
    """
    per, problems = {}, []
    for p in paths:
        try:
            per[Path(p).stem] = Schema.from_notebook(p)
        except (ValueError, FileNotFoundError) as exc:
            problems.append(str(exc))
        except Exception as exc:  # a notebook that is not valid JSON, ...
            problems.append(f"{p}: cannot read its parameters ({type(exc).__name__}: {exc})")
    if problems:
        raise ScenarioError("cannot read the notebooks' parameters:\n  " + "\n  ".join(problems))
    try:
        return per, Schema.union(*per.values()) if per else Schema()
    except ValueError as exc:
        raise ScenarioError(f"notebooks disagree on a parameter: {exc}") from None


def load_scenarios(names, schema, folder=None, reserved=()):
    """Several scenario files checked against one schema; every problem of every file at once.

    Parameters
    ----------
    names : iterable of str
        Scenario names (:func:`load_scenario`); ``"all"`` is every file in ``folder``; none
        means ``["base"]``.
    schema : Schema
        What the files may set (the union of :func:`suite_schema`).
    folder : str or Path, optional
        Folder of ``<name>.yaml`` (default :data:`SCENARIO_DIR`).
    reserved : iterable of str
        Parameters the caller sets itself, which a file may not.

    Returns
    -------
    list of Scenario
    """
    names = list(names) or ["base"]
    if "all" in names:
        available = scenario_names(folder)
        if not available:
            raise ScenarioError(f"'all': no scenario files (*.yaml) in {folder or SCENARIO_DIR}")
        names = available + [n for n in names if n != "all"]
    out, problems = [], []
    for name in dict.fromkeys(names):
        try:
            out.append(load_scenario(name, schema, folder=folder))
        except (ScenarioError, TypeError, OSError) as exc:
            problems.append(str(exc) if isinstance(exc, ScenarioError) else f"scenario {name!r}: "
                            f"{exc}")
            continue
        problems += [f"{out[-1].path}: key {k!r}: set by the report run itself; remove it from "
                     f"the scenario file" for k in out[-1].values if k in reserved][:1]
    if problems:
        raise ScenarioError("invalid scenario:\n  " + "\n  ".join(problems))
    return out


def scenario_setup_problems(scenarios, schemas, names=None):
    """What cannot run: each scenario's setup for each notebook, checked against memory.

    A notebook's parameters are its defaults overridden by the scenario, ``same as`` defaults
    resolved, then :func:`econ.setups.setup_problems` (the check its validation cell makes).

    Parameters
    ----------
    scenarios : list of Scenario
    schemas : dict of str -> Schema
        Each notebook's schema (:func:`suite_schema`).
    names : iterable of str, optional
        Only these notebooks.

    Returns
    -------
    list of str
        One line per problem, naming the scenario and the notebook; empty when all fit.
    """
    return [f"scenario {sc.name!r}, {name}.ipynb: {msg}" for sc in scenarios
            for name in (names or schemas) for msg in _setups.setup_problems(
                name, resolve_same_as({**schemas[name].defaults(), **sc.for_schema(
                    schemas[name])}, schemas[name], where=f"{name}.ipynb"))]
