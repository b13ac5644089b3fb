"""nbval, comparing what a reader reads: numbers to a tolerance, charts by what they draw.

nbval executes every notebook cell and, by default, compares the new outputs with the stored
ones byte for byte. Byte comparison fails on another CPU: numpy and OpenBLAS choose their
instructions (AVX-512, AVX2, SSE) at run time, the last bits of floating-point results differ,
and an Altair chart's embedded data set is named after a hash of its values (``data-<hash>``).
This plugin replaces nbval's output comparison (``IPyNbCell.compare_outputs``) with one that

* compares text (stdout, ``text/plain``, HTML tables) token by token: words, punctuation and
  layout (up to runs of whitespace) exactly, numbers to a relative tolerance. A printed number
  stands for any value that rounds to it: two printed numbers agree when the values they can
  stand for are within the tolerance of each other (``0.12`` and ``0.13`` can both come from
  0.125; ``0.12`` and ``0.14`` cannot);
* compares Altair charts (``text/html`` holding a Vega-Lite spec) by their spec, parsed: data
  set names and ``altair-viz-<uuid>`` ids normalised, every data value to the tolerance, every
  other field exactly (titles and captions as text, above);
* checks every chart any cell draws, compared or not (``NBVAL_IGNORE_OUTPUT`` cells too): its
  data sets are not empty, and no field a mark encodes is null or NaN.

Tolerances are stated per notebook and per cell in ``tests/notebook_tolerances.toml``; a cell's
metadata ``{"tolerance": {"rel": ..., "abs": ...}}`` takes precedence over the table.

The repository's ``conftest.py`` registers this plugin for every pytest run (``make test`` and
``pytest --nbval notebooks/x.ipynb`` alike).
"""
from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

TOLERANCE_FILE = Path(__file__).resolve().parent / "notebook_tolerances.toml"

# A number as written in text: not glued to a preceding word character or dot (so `H800`, `v3`
# and hex ids stay words); optional sign, thousands separators, decimals, exponent.
_NUMBER = re.compile(
    r"(?<![\w.])(?P<num>[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?"
    r"|[-+]?\.\d+(?:[eE][-+]?\d+)?)")
_WS = re.compile(r"\s+")
_ALTAIR_ID = re.compile(r"altair-viz-[0-9a-f]{32}")
# Altair's HTML renderer: `(function(spec, embedOpt){ ... })({...spec...}, {"mode": "vega-lite"});`
_SPEC_CALL = re.compile(r"\}\)\((?=\{)")


@dataclass(frozen=True)
class Tolerance:
    rel: float
    abs: float = 0.0


#: What the comparisons of this run saw (printed in the terminal summary): outputs compared,
#: outputs not byte-identical to the stored ones, numbers that differed and passed, printed
#: numbers among them that rounded the other way, the largest relative difference of a number
#: carried at full precision and where.
STATS = {"outputs": 0, "not_identical": 0, "differed": 0, "rounded": 0, "worst_rel": 0.0,
         "worst_at": ""}
_WHERE = [""]


# --------------------------------------------------------------------------------------------
# Tolerances
# --------------------------------------------------------------------------------------------

def load_tolerances(path=TOLERANCE_FILE):
    table = tomllib.loads(Path(path).read_text())
    default = table.get("default", {})
    if "rel" not in default:
        raise ValueError(f"{path}: [default] needs rel (relative tolerance), got {default}")
    return table


def tolerance_for(notebook_stem, cell, table):
    """Tolerance for one cell: its metadata, else the table's cell row, notebook, default."""
    t = dict(table["default"])
    nb = table.get("notebooks", {}).get(notebook_stem, {})
    t.update({k: v for k, v in nb.items() if k in ("rel", "abs")})
    t.update(nb.get("cells", {}).get(cell.get("id", ""), {}))
    t.update(cell.get("metadata", {}).get("tolerance", {}))
    for k in ("rel", "abs"):
        v = t.get(k, 0.0)
        if not (isinstance(v, (int, float)) and 0 <= v < 1):
            raise ValueError(f"tolerance {k} for {notebook_stem} cell {cell.get('id')!r} must be "
                             f"a number in [0, 1), got {v!r}")
    return Tolerance(float(t["rel"]), float(t.get("abs", 0.0)))


# --------------------------------------------------------------------------------------------
# Numbers in text
# --------------------------------------------------------------------------------------------

def _parse_number(s):
    """(value, unit of the last written digit) of a number token."""
    mant, _, exp = s.replace(",", "").lower().partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    unit = 10.0 ** ((int(exp) if exp else 0) - decimals)
    return float(s.replace(",", "")), unit


def numbers_agree(a, b, tol, unit_a=0.0, unit_b=0.0):
    """Whether two numbers agree to ``tol``; ``unit_*``: value of one unit in the last printed
    digit (0 for a number carried at full precision)."""
    if a == b or (math.isnan(a) and math.isnan(b)):
        return True
    if math.isinf(a) or math.isinf(b) or math.isnan(a) or math.isnan(b):
        return False
    slack = tol.rel * max(abs(a), abs(b)) + tol.abs + (unit_a + unit_b) / 2
    ok = abs(a - b) <= slack * (1 + 1e-12)
    if ok:
        STATS["differed"] += 1
        if unit_a or unit_b:
            STATS["rounded"] += 1
        elif _rel(a, b) > STATS["worst_rel"]:
            STATS["worst_rel"], STATS["worst_at"] = _rel(a, b), _WHERE[0]
    return ok


def _tokens(text):
    """Alternating [text, number, text, number, ..., text]."""
    out, pos = [], 0
    for m in _NUMBER.finditer(text):
        out += [text[pos:m.start()], m.group("num")]
        pos = m.end()
    out.append(text[pos:])
    return out


def _words(s):
    return _WS.sub(" ", s).strip()


def compare_text(ref, test, tol):
    """None when ``test`` reads as ``ref`` to ``tol``, else a message on the first difference."""
    if ref == test:
        return None
    rt, tt = _tokens(ref), _tokens(test)
    if len(rt) != len(tt):
        return (f"a different count of numbers ({len(rt) // 2} stored, {len(tt) // 2} now); "
                f"first difference near: {_first_diff(ref, test)}")
    for i, (r, t) in enumerate(zip(rt, tt)):
        if i % 2 == 0:
            if _words(r) != _words(t):
                return f"text differs: stored {r.strip()[:80]!r}, now {t.strip()[:80]!r}"
        else:
            (a, ua), (b, ub) = _parse_number(r), _parse_number(t)
            if not numbers_agree(a, b, tol, ua, ub):
                ctx = _words(rt[i - 1])[-40:]
                return (f"number after {ctx!r}: stored {r}, now {t} "
                        f"(relative difference {_rel(a, b):.3g}; tolerance rel={tol.rel:g}, "
                        f"abs={tol.abs:g}, plus the rounding of the printed digits)")
    return None


def _rel(a, b):
    return abs(a - b) / max(abs(a), abs(b)) if max(abs(a), abs(b)) else 0.0


def _first_diff(a, b):
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"stored {a[max(0, i - 30):i + 40]!r}, now {b[max(0, i - 30):i + 40]!r}"


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------

def split_altair_html(html):
    """(page template with the spec cut out and ids normalised, spec dict) or None."""
    m = _SPEC_CALL.search(html)
    if m is None or "vega-lite" not in html:
        return None
    try:
        spec, end = json.JSONDecoder().raw_decode(html, m.end())
    except json.JSONDecodeError:
        return None
    template = _ALTAIR_ID.sub("altair-viz-ID", html[:m.end()] + "<SPEC>" + html[end:])
    return template, spec


def _dataset_names(spec):
    """Data set names in order of first appearance (``datasets`` keys and ``data.name``)."""
    names = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "datasets" and isinstance(v, dict):
                    names.extend(n for n in v if n not in names)
                elif k == "data" and isinstance(v, dict) and isinstance(v.get("name"), str):
                    if v["name"] not in names:
                        names.append(v["name"])
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(spec)
    return names


def normalise_spec(spec):
    """The spec with data set names replaced by ``data-0``, ``data-1``, ... (order of use)."""
    rename = {n: f"data-{i}" for i, n in enumerate(_dataset_names(spec))}

    def walk(node, key=None):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if key == "datasets":
                    k = rename.get(k, k)
                out[k] = walk(v, k)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        if key == "name" and isinstance(node, str):
            return rename.get(node, node)
        return node
    return walk(spec)


def compare_json(ref, test, tol, path="spec"):
    """None when two parsed JSON values agree (numbers to ``tol``), else a message."""
    if isinstance(ref, bool) or isinstance(test, bool) or ref is None or test is None:
        return (
            None
            if ref == test and type(ref) is type(test)
            else f"{path}: stored {ref!r}, now {test!r}"
        )
    if isinstance(ref, (int, float)) and isinstance(test, (int, float)):
        if numbers_agree(float(ref), float(test), tol):
            return None
        return (f"{path}: stored {ref!r}, now {test!r} (relative difference "
                f"{_rel(float(ref), float(test)):.3g} > rel={tol.rel:g})")
    if isinstance(ref, str) and isinstance(test, str):
        msg = compare_text(ref, test, tol)
        return None if msg is None else f"{path}: {msg}"
    if isinstance(ref, dict) and isinstance(test, dict):
        if ref.keys() != test.keys():
            return (f"{path}: keys differ: only stored {sorted(ref.keys() - test.keys())}, "
                    f"only now {sorted(test.keys() - ref.keys())}")
        for k in ref:
            msg = compare_json(ref[k], test[k], tol, f"{path}.{k}")
            if msg:
                return msg
        return None
    if isinstance(ref, list) and isinstance(test, list):
        if len(ref) != len(test):
            return f"{path}: {len(ref)} items stored, {len(test)} now"
        for i, (r, t) in enumerate(zip(ref, test)):
            msg = compare_json(r, t, tol, f"{path}[{i}]")
            if msg:
                return msg
        return None
    return (f"{path}: stored {type(ref).__name__} {str(ref)[:60]!r}, "
            f"now {type(test).__name__} {str(test)[:60]!r}")


def _encoded_fields(spec):
    """Fields the marks encode, and fields made by transforms (not in the data)."""
    encoded, made = set(), set()

    def walk(node):
        if isinstance(node, dict):
            enc = node.get("encoding")
            if isinstance(enc, dict):
                for channel in enc.values():
                    for ch in channel if isinstance(channel, list) else [channel]:
                        if isinstance(ch, dict) and isinstance(ch.get("field"), str):
                            encoded.add(ch["field"])
            transforms = node.get("transform")
            for t in transforms if isinstance(transforms, list) else []:
                if not isinstance(t, dict):
                    continue
                as_ = t.get("as")
                made.update([as_] if isinstance(as_, str) else
                            [a for a in as_ if isinstance(a, str)] if isinstance(as_, list) else [])
                for op in ("aggregate", "window", "joinaggregate"):
                    for agg in t.get(op) or []:
                        if isinstance(agg, dict) and isinstance(agg.get("as"), str):
                            made.add(agg["as"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(spec)
    return encoded, made


def chart_problems(spec):
    """What is wrong with the data a chart draws (empty list when it draws real data)."""
    datasets = dict(spec.get("datasets") or {})
    inline = []

    def walk(node):
        if isinstance(node, dict):
            d = node.get("data")
            if isinstance(d, dict) and isinstance(d.get("values"), list):
                inline.append(d["values"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(spec)
    tables = list(datasets.items()) + [(f"inline-{i}", v) for i, v in enumerate(inline)]
    if not tables:
        return ["the chart carries no data"]
    encoded, made = _encoded_fields(spec)
    problems, checked = [], 0
    for name, rows in tables:
        if not rows:
            problems.append(f"data set {name} is empty")
            continue
        columns = set().union(*(r.keys() for r in rows if isinstance(r, dict)))
        for field in sorted((encoded - made) & columns):
            checked += 1
            bad = [i for i, r in enumerate(rows) if r.get(field) is None or (
                isinstance(r.get(field), float) and math.isnan(r[field]))]
            if bad:
                problems.append(f"data set {name}: field {field!r} is null/NaN in {len(bad)} of "
                                f"{len(rows)} rows (first: row {bad[0]})")
    if not checked and not problems:
        problems.append(f"no encoded field {sorted(encoded - made)} is a column of the chart's "
                        f"data: nothing drawn from data")
    return problems


def compare_html(ref, test, tol):
    r, t = split_altair_html(ref), split_altair_html(test)
    if (r is None) != (t is None):
        return "one output is a chart and the other is not"
    if r is None:
        return compare_text(_ALTAIR_ID.sub("altair-viz-ID", ref),
                            _ALTAIR_ID.sub("altair-viz-ID", test), tol)
    if r[0] != t[0]:
        return f"chart page differs outside the spec: {_first_diff(r[0], t[0])}"
    return compare_json(normalise_spec(r[1]), normalise_spec(t[1]), tol)


def compare_value(mime, ref, test, tol):
    """None when one output field reads the same to ``tol``, else a message."""
    if isinstance(ref, str) and isinstance(test, str):
        return compare_html(ref, test, tol) if mime == "text/html" else compare_text(ref, test, tol)
    return compare_json(ref, test, tol, mime)


def charts_in(outputs):
    """Vega-Lite specs drawn by a list of outputs (Altair HTML or a Vega-Lite MIME bundle)."""
    specs = []
    for out in outputs:
        data = out.get("data", {}) if hasattr(out, "get") else {}
        for mime, value in data.items():
            if mime == "text/html" and isinstance(value, str):
                got = split_altair_html(value)
                if got:
                    specs.append(got[1])
            elif mime.startswith("application/vnd.vegalite") and isinstance(value, dict):
                specs.append(value)
    return specs


# --------------------------------------------------------------------------------------------
# The nbval hooks
# --------------------------------------------------------------------------------------------

def _flatten(cell, outputs, skip):
    from nbval.plugin import transform_streams_for_comparison

    flat = {}
    for out in transform_streams_for_comparison(outputs):
        for key, value in out.items():
            if key in skip:
                continue
            if key == "data":
                for mime, v in value.items():
                    if mime not in skip:
                        flat.setdefault(mime, []).append(cell.sanitize(v))
            else:
                flat.setdefault(key, []).append(cell.sanitize(value))
    return flat


def compare_outputs(self, test, ref, skip_compare=None):
    """Replacement for ``nbval.plugin.IPyNbCell.compare_outputs``."""
    skip = skip_compare or self.parent.skip_compare
    tol = tolerance_for(Path(str(self.fspath)).stem, self.cell, _table(self.config))
    self.comparison_traceback = []
    _WHERE[0] = f"{Path(str(self.fspath)).name}::Cell {self.cell_num}"
    ref_flat, test_flat = _flatten(self, ref, skip), _flatten(self, test, skip)
    if ref_flat.keys() != test_flat.keys():
        self.comparison_traceback.append(
            f"output fields differ: stored {sorted(ref_flat)}, now {sorted(test_flat)}")
        return False
    for key, ref_values in ref_flat.items():
        test_values = test_flat[key]
        if len(ref_values) != len(test_values):
            self.comparison_traceback.append(
                f"{len(ref_values)} {key!r} outputs stored, {len(test_values)} now")
            return False
        for r, t in zip(ref_values, test_values):
            STATS["outputs"] += 1
            STATS["not_identical"] += r != t
            msg = compare_value(key, r, t, tol)
            if msg:
                self.comparison_traceback.append(f"{key}: {msg}")
                return False
    return True


def _table(config):
    if not hasattr(config, "_econ_tolerances"):
        config._econ_tolerances = load_tolerances()
    return config._econ_tolerances


def _runtest(original):
    def runtest(self):
        original(self)
        problems = [p for spec in charts_in(self.test_outputs or []) for p in chart_problems(spec)]
        if problems:
            self.raise_cell_error("Chart draws no real data", "\n".join(problems))
    runtest.__wrapped__ = original
    return runtest


def pytest_terminal_summary(terminalreporter):
    if not STATS["outputs"]:
        return
    tr = terminalreporter
    tr.section("notebook outputs")
    tr.write_line(
        f"{STATS['outputs']} outputs compared with the stored ones, {STATS['not_identical']} not "
        f"byte-identical; {STATS['differed']} numbers differed within tolerance "
        f"({STATS['rounded']} printed ones rounded the other way); largest relative difference "
        f"at full precision {STATS['worst_rel']:.2g}"
        + (f" ({STATS['worst_at']})" if STATS["worst_at"] else ""))
    try:
        import numpy as np
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
        from threadpoolctl import threadpool_info
        simd = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)] or ["baseline only"]
        blas = ", ".join(f"{i.get('internal_api')} {i.get('architecture')}"
                         for i in threadpool_info() if i.get("user_api") == "blas")
        tr.write_line(
            f"numpy {np.__version__} SIMD dispatch: {' '.join(simd)}; BLAS kernel: {blas}"
        )
    except ImportError:
        pass


def pytest_configure(config):
    from nbval.plugin import IPyNbCell

    if getattr(IPyNbCell, "_econ_tolerant", False):
        return
    IPyNbCell.compare_outputs = compare_outputs
    IPyNbCell.runtest = _runtest(IPyNbCell.runtest)
    IPyNbCell._econ_tolerant = True
