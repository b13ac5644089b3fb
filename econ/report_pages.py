"""The pages of a report: what a reader sees of a run (:mod:`econ.report_run` runs the notebooks).

* :func:`export_html`: one executed notebook as an offline page (nbconvert, template
  ``templates/econ_offline``). The answer (the cells tagged ``answer``) and the verdict table
  come first, under the title; a table of contents of the section headings; code folded away,
  one click to open; tables with units in their headers, thousands separators and three
  significant figures; source URLs as links. Vega is inlined once per page: nothing from the
  network. The HTML pieces of a page (a chart, source links, the contents, a table cell, the
  marks of a failed run: :func:`failure_marks`) are Jinja macros in
  ``templates/pages/parts.html.j2``.
* :func:`index_html`: a scenario's index: each notebook's conclusion in a sentence or two
  (Jinja template ``templates/pages/index.html.j2``).
* :func:`compare_html`: several scenarios of one run side by side: every number of every
  answer (``templates/pages/compare.html.j2``).
* :func:`chart_specs` and :func:`static_images`: the Vega-Lite specs the notebooks hold, and
  their SVG/PNG images (vl-convert).
"""
from __future__ import annotations

import contextlib
import copy
import functools
import html
import json
import os
import re
import tempfile
import uuid
from pathlib import Path

from . import data as _data
from . import results as _results
from .answers import lead_sentences

__all__ = ["TEMPLATES_DIR", "chart_specs", "export_html", "static_images", "notebook_title",
           "format_tables", "failure_marks", "index_html", "compare_html", "vl_version"]

#: nbconvert template ``econ_offline`` and the Jinja templates of the index and comparison.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_VEGALITE_MIME = re.compile(r"^application/vnd\.vegalite\.v\d+\+json$")
_URL = re.compile(r"https?://[^\s,;\"'<>|]+")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------

def chart_specs(nb):
    """Vega-Lite specs of the chart outputs of a notebook, in order: a Vega-Lite output, or
    the spec in the ``text/html`` of Altair's default renderer (``...})({spec}, {embed});``).

    Returns
    -------
    list of (cell_index, output_index, spec, embed_options)
    """
    found, dec = [], json.JSONDecoder()
    for ci, cell in enumerate(nb.cells):
        for oi, out in enumerate(cell.get("outputs", [])):
            data = out.get("data") or {}
            mime = next((m for m in data if _VEGALITE_MIME.match(m)), None)
            text = "".join(data.get("text/html", ""))
            if mime:  # nbformat reads a JSON output as a dict
                found.append((ci, oi, data[mime], {"mode": "vega-lite"}))
            elif "vegaEmbed" in text and "})(" in text:
                spec, end = dec.raw_decode(text, text.rindex("})(") + 3)
                found.append((ci, oi, spec, dec.raw_decode(text, text.index("{", end))[0]))
    return found


def vl_version(spec):
    """The Vega-Lite version of a spec (its ``$schema``) as vl-convert names it (``'6.4'``),
    or None (vl-convert's default) when it has no such version."""
    import vl_convert

    m = re.search(r"/v(\d+\.\d+)", str(spec.get("$schema", "")))
    return m[1] if m and m[1] in vl_convert.get_vegalite_versions() else None


def static_images(nb, stem, formats):
    """Each chart of a notebook as SVG and PNG (rasterized from the SVG), in files named
    ``<stem>.chart-<k>.<format>``: ({file name: bytes}, a warning per chart that failed)."""
    import vl_convert

    files, warnings = {}, []
    for k, (_, _, spec, _) in enumerate(chart_specs(nb), start=1):
        try:
            svg = vl_convert.vegalite_to_svg(spec, vl_version=vl_version(spec))
            for fmt in formats:
                files[f"{stem}.chart-{k}.{fmt}"] = svg.encode() if fmt == "svg" else \
                    vl_convert.svg_to_png(svg, scale=2)
        except Exception as exc:  # one bad chart must not lose the report
            warnings.append(f"chart {k}: no static image ({type(exc).__name__}: {exc})")
    return files, warnings


def _vega_bundle(version):
    """vl-convert's Vega-Embed bundle, cached on disk (it takes ~3 s to build)."""
    import vl_convert

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "econ"
    path = cache / f"vega-bundle-vlc{vl_convert.__version__}-vl{version}.js"
    if not path.exists():
        with contextlib.suppress(OSError):  # a read-only home: built again next time
            cache.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=cache, delete=False) as fh:
                fh.write(vl_convert.javascript_bundle(vl_version=version))
            os.replace(fh.name, path)
    return path.read_text(encoding="utf-8") if path.exists() else \
        vl_convert.javascript_bundle(vl_version=version)


# --------------------------------------------------------------------------------------------
# Numbers and tables
# --------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _known_urls():
    """Every source URL in ``data/`` (to mend URLs that pandas cut with '...')."""
    return frozenset(u.rstrip(".") for p in sorted(Path(_data.DATA_DIR).glob("*.*"))
                     if p.suffix in (".csv", ".yaml")
                     for u in _URL.findall(p.read_text(encoding="utf-8", errors="replace")))


def _links(text, urls):
    """HTML for a cell holding URLs (``a ; b``), or None when it holds none."""
    parts = [p.strip() for p in re.split(r"\s+;\s+|\s*\n\s*", text.strip()) if p.strip()]
    if parts and all(re.match(r"https?://\S+$", p) for p in parts):  # a URL cut short ('...'):
        return _parts().links([(p, [u for u in urls if u.startswith(p[:-3])]  # the known one
                                 if p.endswith("...") else [p]) for p in parts])


def _format_cell(match, urls):
    raw = html.unescape(match[1]).strip()
    shown, linked = _results.format_number(raw) if _NUMBER.match(raw) else raw, _links(raw, urls)
    return str(_parts().cell(raw, shown, linked)) if linked or shown != raw else match[0]


def format_tables(text, urls=()):
    """Rewrite the pandas tables (``table.dataframe``) of an HTML output for readers.

    Column names with a unit suffix become ``Words [unit]`` (:func:`econ.charts.axis_title`);
    numbers get thousands separators and three significant figures
    (:func:`econ.results.format_number`);
    URLs become links, and a URL that pandas cut short is mended when ``urls`` (or ``data/``)
    holds one it starts with.
    """
    if "dataframe" not in text or "<table" not in text:
        return text
    from .charts import axis_title

    text = re.sub(r"<thead>.*?</thead>", lambda head: re.sub(
        r"<th>([a-z][a-z0-9_]*)</th>",
        lambda th: f"<th>{html.escape(axis_title(th[1], quantitative=False))}</th>", head[0]),
        text, flags=re.S)
    urls = frozenset(urls) | _known_urls()
    return re.sub(r"<td>([^<]*)</td>", lambda td: _format_cell(td, urls), text)


# --------------------------------------------------------------------------------------------
# Answers and the reader's layout
# --------------------------------------------------------------------------------------------

def _heading(cell):
    """(level, text) of a Markdown cell that opens with a heading, else (9, "")."""
    m = re.match(r"\s*(#{1,6})\s+(.+)", cell.source) if cell.cell_type == "markdown" else None
    return (len(m[1]), m[2].strip()) if m else (9, "")


def notebook_title(nb, default=""):
    """The text of the notebook's first level-1 heading (Markdown marks removed)."""
    return next((re.sub(r"[*_`]|\\(?=\$)", "", h[1]) for h in map(_heading, nb.cells)
                 if h[0] == 1), default)


def _reader_layout(nb):
    """Reorder the cells for a reader: title, answer, verdict, the introduction, the rest.

    The answer is the level-2 section holding the cells tagged ``answer`` (a tagged cell in
    no level-2 section: itself); the verdict the level-2 section headed "Verdict". Their first
    and last cells carry ``econ_open`` / ``econ_close`` for the template. A notebook with
    neither keeps its order.
    """
    import nbformat

    cells, level = nb.cells, [_heading(c)[0] for c in nb.cells]
    starts = [i for i, lv in enumerate(level) if lv <= 2] + [len(cells)]
    sections = [range(a, b) for a, b in zip(starts, starts[1:]) if level[a] == 2]
    answer = sorted({j for i, c in enumerate(cells) if "answer" in c.metadata.get("tags", [])
                     for j in next((s for s in sections if i in s), [i])})
    verdict = next(([i for i in s if i not in answer] for s in sections
                    if re.match(r"verdict\b", _heading(cells[s[0]])[1], re.I)), [])
    groups = [g for g in (("answer", answer), ("verdict", verdict)) if g[1]]
    if not groups:
        return
    title = level.index(1) if 1 in level else -1
    order = [i for i in range(title + 1) if cells[i].cell_type == "markdown"
             and i not in answer + verdict] + answer + verdict
    for role, idx in groups:
        cells[idx[0]].metadata["econ_open"] = role
        cells[idx[-1]].metadata["econ_close"] = True
    first, _, intro = cells[title].source.strip().partition("\n") if title >= 0 else ("", "", "")
    if intro.strip():
        cells[title].source = first
        cells.append(nbformat.v4.new_markdown_cell(intro.strip()))
        order.append(len(cells) - 1)
    nb.cells = [cells[i] for i in order] + [c for i, c in enumerate(cells) if i not in order]


def _toc(page):
    """The page's table of contents: a link to every level-2 and -3 heading."""
    return _parts().toc([(level, html.unescape(hid), text) for level, hid, inner in re.findall(
        r'<h([23])[^>]*\sid="([^"]+)"[^>]*>(.*?)</h\1>', page, re.S)
        if (text := html.unescape(re.sub(r"<[^>]+>", "", inner)).replace("¶", "").strip())])


# --------------------------------------------------------------------------------------------
# Offline HTML of one notebook
# --------------------------------------------------------------------------------------------

def export_html(nb, *, title=None, images=(), scenario=None):
    """Offline HTML of an executed notebook, laid out for a reader (see the module help).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (not modified).
    title : str, optional
        Page title (default: the notebook's name in its metadata).
    images : iterable of str, optional
        File names of the charts' static images (:func:`static_images`), linked under each.
    scenario : str, optional
        The scenario of a report page: a navigation bar at the top names it and links back to
        the report's index.

    Returns
    -------
    (str, int)
        The page and the number of charts on it.
    """
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    specs = chart_specs(nb)
    token = uuid.uuid4().hex[:8]
    for k, (ci, oi, spec, opts) in enumerate(specs, start=1):
        nb.cells[ci].outputs[oi]["data"] = {"text/html": str(_parts().chart(
            f"econ-chart-{token}-{k}", spec, {a: b for a, b in opts.items() if a != "actions"},
            [(f.rsplit(".", 1)[1].upper(), f) for f in images if f".chart-{k}." in f]))}
    for out in (o for cell in nb.cells for o in cell.get("outputs", [])):
        if (out.get("data") or {}).get("text/html"):
            out["data"]["text/html"] = format_tables("".join(out["data"]["text/html"]))
    _reader_layout(nb)
    if title:
        nb.metadata["title"] = title
    # the Vega bundle only on a page with a chart (the template makes it safe in <script>)
    version = vl_version(specs[0][2]) if specs else None
    resources = {"econ_scenario": scenario, "econ_vl_version": version,
                 "econ_vega_bundle": _vega_bundle(version) if specs else ""}
    body, _ = HTMLExporter(template_name="econ_offline", exclude_input_prompt=True,
                           exclude_output_prompt=True, extra_template_basedirs=[
                               str(TEMPLATES_DIR)]).from_notebook_node(nb, resources=resources)
    return body.replace("<!--econ-toc-->", _toc(body), 1), len(specs)


def failure_marks(message):
    """Markdown for a notebook where the report run stopped and papermill marked nothing (a
    dead kernel, a cell timeout): (at the cell that was running, at the top)."""
    return str(_parts().stopped_here(message)), str(_parts().run_failed(message))


# --------------------------------------------------------------------------------------------
# Index and comparison pages (Jinja templates in templates/pages/)
# --------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _jinja():
    import jinja2
    import markupsafe
    import mistune

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR / "pages")),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.policies["json.dumps_kwargs"] = {"separators": (",", ":"), "allow_nan": False}
    markdown = mistune.create_markdown(escape=True)
    env.filters.update(markdown=lambda t: markupsafe.Markup(markdown(t)),
                       lead=lead_sentences, quantity=_results.format_quantity, repr=repr,
                       host=lambda u: re.sub(r"^https?://(www\.)?", "", u).split("/")[0],
                       sources=lambda t: _links(" ; ".join(_URL.findall(t or "")), ()) or t or "")
    return env


def _parts():
    """The macros of ``templates/pages/parts.html.j2`` (a chart, source links, contents, a
    table cell)."""
    return _jinja().get_template("parts.html.j2").module


def index_html(scenario, outcomes, collected, *, complete, schema, reserved=(),
               good_report=False, run_seconds=0.0, compare_href=None, stamp=""):
    """The index page of one scenario's report: each notebook's conclusion, then the details.

    ``scenario`` is an :class:`econ.params.Scenario`; ``outcomes`` are
    :class:`econ.report_run.NotebookOutcome` (``title`` and ``answers`` filled from the
    executed notebook); ``collected`` the run's results table; ``schema`` the parameters a
    scenario may set (``reserved`` ones left out); ``good_report``: whether a complete report
    of the scenario stands beside this one.
    """
    return _jinja().get_template("index.html.j2").render(
        sc=scenario, notebooks=outcomes, collected=collected, complete=complete,
        tally={r.notebook: r for r in _results.verdict_summary(collected).itertuples()},
        schema=schema, reserved=reserved, good_report=good_report, run_seconds=run_seconds,
        compare_href=compare_href, stamp=stamp)


def _number_cell(plain, start, end):
    """A number of an answer as shown, with its ``$`` and unit mark (``$2.19/Mtok``, ``54%``),
    and a few words around it to name its row: ``chip takes … LPUs``."""
    mark = re.match(r"(%|x(?![A-Za-z])|/[A-Za-z]+)?", plain[end:])[0]
    clause = max([plain.rfind(c, 0, start) for c in ("\n", ". ", "; ", ": ", "(")] + [-1])
    before = re.sub(r"[*_`]", "", plain[clause + 1:start]).strip(" $(:.")
    after = re.split(r"[.,;:()]", re.sub(r"[*_`]", "", plain[end + len(mark):end + 60]),
                     maxsplit=1)[0].split()
    if len(before.split()) < 2:  # the number opens its clause: take the sentence before it
        sentence = max(plain.rfind("\n", 0, start), plain.rfind(". ", 0, start))
        before = re.sub(r"[*_`]", "", plain[sentence + 1:start]).strip(" $(:.")
    label = (" ".join(before.split()[-5:]) + " … " + " ".join(after[:3])).strip(" …")
    return label or "(value)", (
        "$" if plain[start - 1:start] == "$" else "") + plain[start:end] + mark


def compare_html(scenarios, *, stamp=""):
    """A page with several scenarios side by side: each notebook's conclusion, and a table of
    every number its answer shows, a column per scenario (cells that differ from the first
    scenario are marked).

    ``scenarios``: :class:`econ.report_run.ScenarioOutcome` s (name, description, ok,
    report_dir, notebooks), each with the same notebooks in the same order.
    """
    notebooks = []
    for per in zip(*(s.notebooks for s in scenarios)):  # one notebook under each scenario
        rows = {}
        for col, o in enumerate(per):
            for a in o.answers:
                plain = a["markdown"].replace("\\$", "$")
                for e in (e for e in a["record"] if e.get("kind") == "number"):
                    start = e.get("start", 0)
                    label, shown = _number_cell(plain, start, start + len(e["text"]))
                    row = rows.setdefault(e["field"], dict(label=label, field=e["field"],
                                                           cells=[""] * len(per)))
                    row["cells"][col] = row["cells"][col] or shown
        notebooks.append(dict(name=per[0].name, rows=rows.values(), outcomes=per,
                              title=next((o.title for o in per if o.title), per[0].name)))
    return _jinja().get_template("compare.html.j2").render(scenarios=scenarios,
                                                           notebooks=notebooks, stamp=stamp)
