"""The pages of a report: what a reader sees of a run (:mod:`econ.reports` runs the notebooks).

* :func:`export_html`: one executed notebook as an offline page. The answer (the cells tagged
  ``answer``) and the verdict table come first, under the title; a table of contents of the
  section headings; code folded away, one click to open; tables with units in their headers,
  thousands separators and three significant figures; source URLs as links; chart tooltips
  titled like their axes, with units. Vega is inlined once per page: nothing from the network.
* :func:`index_html`: a scenario's index: each notebook's conclusion in a sentence or two.
* :func:`compare_html`: several scenarios of one run side by side: every number of every answer.
* :func:`chart_specs` and :func:`static_images`: the Vega-Lite specs the notebooks hold, and
  their SVG/PNG images.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import html
import json
import math
import os
import re
import tempfile
import uuid
from pathlib import Path

from . import data as _data
from . import results as _results
from .answers import ANSWER_METADATA_KEY

__all__ = ["TEMPLATES_DIR", "chart_specs", "export_html", "static_images", "notebook_answers",
           "notebook_title", "lead_sentences", "format_number", "format_tables",
           "index_html", "compare_html", "vl_version"]

#: nbconvert template ``econ_offline`` and the Jinja templates of the index and comparison.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_VEGALITE_MIME = re.compile(r"^application/vnd\.vegalite\.v\d+\+json$")
_URL = re.compile(r"https?://[^\s,;\"'<>|]+")


# --------------------------------------------------------------------------------------------
# Chart specs
# --------------------------------------------------------------------------------------------

def chart_specs(nb):
    """Vega-Lite specs of the chart outputs of a notebook, in order: a Vega-Lite output, or
    the spec in the ``text/html`` of Altair's default renderer (``...})({spec}, {embed});``).

    Returns
    -------
    list of (cell_index, output_index, spec, embed_options)
    """
    found = []
    for ci, cell in enumerate(nb.cells):
        for oi, out in enumerate(cell.get("outputs", [])):
            data = out.get("data") or {}
            mime = next((m for m in data if _VEGALITE_MIME.match(m)), None)
            text = data.get("text/html", "")
            text = "".join(text) if isinstance(text, list) else text
            if mime:
                spec = data[mime]
                found.append((ci, oi, spec if isinstance(spec, dict) else json.loads(spec),
                              {"mode": "vega-lite"}))
            elif "vegaEmbed" in text and "})(" in text:
                dec = json.JSONDecoder()
                spec, end = dec.raw_decode(text, text.rindex("})(") + 3)
                found.append((ci, oi, spec, dec.raw_decode(text, text.index("{", end))[0]))
    return found


def _column_title(column):
    """``cost_usd_per_mtok`` -> ``"Cost [USD/Mtok]"``; a name without a unit: its words."""
    suffix = max((s for s in _data.UNIT_SUFFIXES if column.endswith(s) and column != s),
                 key=len, default=None)
    if suffix:
        words, unit = column[: -len(suffix)], _data.UNIT_SUFFIXES[suffix]
    elif column.startswith(_data.COUNT_PREFIX) and len(column) > len(_data.COUNT_PREFIX):
        words, unit = column[len(_data.COUNT_PREFIX):], "count"
    else:
        words, unit = column, None
    words = words.replace("_", " ").strip() or column
    words = words[0].upper() + words[1:]
    return f"{words} [{unit}]" if unit else words


# --------------------------------------------------------------------------------------------
# Numbers and tables
# --------------------------------------------------------------------------------------------

_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_EXP_QUANTITY = re.compile(r"^(-?\$?)(\d+(?:\.\d+)?[eE][-+]?\d+)(.*)$")
_COUNT_UNITS = {"count", "nodes", "devices"}


def format_number(value, count=False):
    """A number for a reader: thousands separators, three significant figures.

    Whole numbers below a million (and every count) are shown whole: ``2,784``; others to
    three significant figures: ``0.682``, ``9,140``, ``75,200,000``; beyond 1e15 or below
    1e-4, a power of ten: ``3.30×10²⁴``. NaN gives ``–``.
    """
    v = float(value)
    if math.isnan(v):
        return "–"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    a = abs(v)
    if (count and a < 1e15) or (v.is_integer() and a < 1e6):
        return f"{v:,.0f}"
    if a >= 1e15 or a < 1e-4:
        mant, exp = f"{v:.2e}".split("e")
        return f"{mant}×10{str(int(exp)).translate(_SUP)}"
    digits = 2 - math.floor(math.log10(a))
    r = round(v, digits)
    text = f"{r:,.{max(digits, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@functools.lru_cache(maxsize=1)
def _known_urls():
    """Every source URL in ``data/`` (to mend URLs that pandas cut with '...')."""
    urls = set()
    for p in sorted(Path(_data.DATA_DIR).glob("*.*")):
        if p.suffix in (".csv", ".yaml"):
            urls.update(_URL.findall(p.read_text(encoding="utf-8", errors="replace")))
    return frozenset(u.rstrip(".") for u in urls)


def _links(text, urls):
    """HTML for a cell holding URLs (``a ; b``), or None when it holds none."""
    parts = [p.strip() for p in re.split(r"\s+;\s+|\s*\n\s*", text.strip()) if p.strip()]
    if not parts or not all(re.match(r"https?://\S+$", p) for p in parts):
        return None
    out = []
    for p in parts:
        href = p
        if p.endswith("..."):  # cut by pandas' max_colwidth: the one known URL it starts with
            hits = [u for u in urls if u.startswith(p[:-3])]
            href = hits[0] if len(hits) == 1 else None
        host = re.sub(r"^https?://(www\.)?", "", href or p).split("/")[0]
        out.append(f'<a href="{html.escape(href, quote=True)}" title="{html.escape(href)}">'
                   f"{html.escape(host)}</a>" if href else
                   f'<span title="source cut short">{html.escape(p)}</span>')
    return "<br>".join(out)


def _format_cell(text, unit):
    t = text.strip()
    if _NUMBER.match(t):
        return format_number(float(t), count=unit in _COUNT_UNITS)
    m = _EXP_QUANTITY.match(t)  # a formatted quantity that fell back to an exponent
    if m:
        return m.group(1) + format_number(float(m.group(2))) + m.group(3)
    return None


def format_tables(text, urls=()):
    """Rewrite the pandas tables (``table.dataframe``) of an HTML output for readers.

    Column names with a unit suffix become ``Words [unit]``; numbers get thousands separators
    and three significant figures (:func:`format_number`); URLs become links, and a URL that
    pandas cut short is mended when ``urls`` (or ``data/``) holds one it starts with.
    """
    if "dataframe" not in text or "<table" not in text:
        return text
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    urls = frozenset(urls) | _known_urls()
    for table in soup.select("table.dataframe"):
        rows = table.thead.find_all("tr") if table.thead else []
        names = []
        if rows and not table.thead.find(attrs={"colspan": True}):
            head = max(rows, key=lambda r: sum(bool(c.get_text(strip=True))
                                               for c in r.find_all(["th", "td"])))
            names = [c.get_text(strip=True) for c in head.find_all(["th", "td"])]
            for c in head.find_all("th"):
                name = c.get_text(strip=True)
                if re.fullmatch(r"[a-z][a-z0-9_]*", name):
                    c.string = _column_title(name)
        for tr in (table.tbody.find_all("tr") if table.tbody else []):
            cells = tr.find_all(["th", "td"])
            shift = len(names) - len(cells)
            for i, cell in enumerate(cells):
                if cell.name != "td" or cell.find(True):
                    continue
                name = names[i + shift] if 0 <= i + shift < len(names) else ""
                suffix = max((s for s in _data.UNIT_SUFFIXES if name.endswith(s)), key=len,
                             default=None)
                unit = _data.UNIT_SUFFIXES[suffix] if suffix else (
                    "count" if name.startswith(_data.COUNT_PREFIX) else None)
                raw = cell.get_text()
                linked = _links(raw, urls)
                if linked is not None:
                    cell.clear()
                    cell.append(BeautifulSoup(linked, "html.parser"))
                    cell["class"] = cell.get("class", []) + ["econ-src"]
                    continue
                new = _format_cell(raw, unit)
                if new is not None and new != raw:
                    cell.string = new
                    cell["title"] = raw.strip()
    return str(soup)


# --------------------------------------------------------------------------------------------
# Answers and the reader's layout
# --------------------------------------------------------------------------------------------

def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def notebook_answers(nb):
    """The answers of an executed notebook: ``[{"markdown", "record"}]``, in order.

    An answer is a Markdown output of a code cell tagged ``answer``; ``record`` is what
    :func:`econ.answer` formatted (empty for Markdown made otherwise).
    """
    out = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code" or "answer" not in _tags(cell):
            continue
        for o in cell.get("outputs", []):
            md = (o.get("data") or {}).get("text/markdown")
            if md:
                md = "".join(md) if isinstance(md, list) else md
                rec = (o.get("metadata") or {}).get("text/markdown", {}).get(
                    ANSWER_METADATA_KEY, [])
                out.append({"markdown": md, "record": rec})
    return out


def _heading(cell):
    """(level, text) of a Markdown cell that opens with a heading, else None."""
    if cell.get("cell_type") != "markdown":
        return None
    m = re.match(r"\s*(#{1,6})\s+(.+)", cell.source)
    return (len(m.group(1)), m.group(2).strip()) if m else None


def notebook_title(nb, default=""):
    """The text of the notebook's first level-1 heading (Markdown marks removed)."""
    for cell in nb.cells:
        h = _heading(cell)
        if h and h[0] == 1:
            return re.sub(r"[*_`]|\\(?=\$)", "", h[1])
    return default


def lead_sentences(markdown, n=2, max_chars=400):
    """The first ``n`` sentences of a Markdown answer (a bold label like ``**Chips.**`` is
    not a sentence of its own), at most about ``max_chars`` characters."""
    lines = (re.sub(r"^\s*(?:[-+]|\*(?!\*)|\d+\.)\s+", "", ln) for ln in markdown.splitlines())
    text = re.sub(r"\s+", " ", " ".join(lines).strip())  # list items read as sentences
    parts = re.split(r"(?:(?<=[.!?])|(?<=[.!?]\*\*))\s+(?=(?:\*\*)?[A-Z\"'(\[\\$0-9])", text)
    out, count = [], 0
    for p in parts:
        out.append(p)
        label = len(re.sub(r"[*_]", "", p)) < 30 and p.startswith("**")
        if not label:
            count += 1
        if count >= n or len(" ".join(out)) >= max_chars:
            break
    lead = " ".join(out)
    # close a bold run opened in the kept text
    return lead + ("**" if lead.count("**") % 2 else "")


def _reader_layout(nb):
    """Reorder the cells for a reader: title, answer, verdict, the introduction, the rest.

    The answer is the level-2 section holding the cells tagged ``answer``; the verdict the
    level-2 section headed "Verdict". Their first and last cells carry ``econ_open`` /
    ``econ_close`` for the template. A notebook with neither keeps its order.
    """
    import nbformat

    cells = nb.cells
    starts = [i for i, c in enumerate(cells) if (_heading(c) or (9,))[0] <= 2]

    def section(i):
        s = max((j for j in starts if j <= i), default=None)
        if s is None or _heading(cells[s])[0] == 1:
            return [i]
        return list(range(s, min((j for j in starts if j > s), default=len(cells))))

    groups, taken = [], set()
    answer = [i for i, c in enumerate(cells) if "answer" in _tags(c)]
    verdict = [i for i in starts if re.match(r"verdict\b", _heading(cells[i])[1], re.I)]
    for role, idx in (("answer", sorted({j for i in answer for j in section(i)})),
                      ("verdict", section(verdict[0]) if verdict else [])):
        idx = [i for i in idx if i not in taken]
        if idx:
            taken.update(idx)
            groups.append((role, idx))
    if not groups:
        return nb
    title = next((i for i, c in enumerate(cells) if (_heading(c) or (0,))[0] == 1), None)
    head = [i for i in range(title + 1) if cells[i].cell_type == "markdown"
            and i not in taken] if title is not None else []
    order = [cells[i] for i in head]
    intro = None
    if title is not None and title in head:
        first, _, rest = cells[title].source.strip().partition("\n")
        if rest.strip():
            cells[title].source = first
            intro = nbformat.v4.new_markdown_cell(rest.strip())
    for role, idx in groups:
        cells[idx[0]].metadata["econ_open"] = role
        cells[idx[-1]].metadata["econ_close"] = True
        order += [cells[i] for i in idx]
    if intro is not None:
        order.append(intro)
    order += [c for i, c in enumerate(cells) if i not in taken and i not in head]
    nb.cells = order
    return nb


_TOC_HEADING = re.compile(r'<h([23])[^>]*\sid="([^"]+)"[^>]*>(.*?)</h\1>', re.S)


def _toc(page):
    """The page's table of contents: a link to every level-2 and -3 heading."""
    items = []
    for level, hid, inner in _TOC_HEADING.findall(page):
        text = html.unescape(re.sub(r"<[^>]+>", "", inner)).replace("¶", "").strip()
        if text:
            items.append(f'<li class="econ-toc-{level}"><a href="#{html.escape(hid, quote=True)}">'
                         f"{html.escape(text)}</a></li>")
    if not items:
        return ""
    return ('<nav class="econ-toc" aria-label="Contents"><b>Contents</b><ul>'
            + "".join(items) + "</ul></nav>")


# --------------------------------------------------------------------------------------------
# Offline HTML of one notebook
# --------------------------------------------------------------------------------------------

def _json_for_script(obj):
    """JSON safe inside <script type="application/json">."""
    return (json.dumps(obj, allow_nan=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def vl_version(spec=None):
    """The Vega-Lite version of a spec (its ``$schema``; default: Altair's), as vl-convert
    names it (``'6.4'``), or None (vl-convert's default) when it has no such version."""
    import vl_convert

    if spec is None:
        import altair

        spec = {"$schema": altair.SCHEMA_URL}
    m = re.search(r"/v(\d+\.\d+)", str(spec.get("$schema", "")))
    return m[1] if m and m[1] in vl_convert.get_vegalite_versions() else None


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


def export_html(nb, *, title=None, image_links=(), nav_html="", urls=()):
    """Offline HTML of an executed notebook, laid out for a reader (see the module help).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook (not modified).
    title : str, optional
        Page title (default: the notebook's name in its metadata).
    image_links : list of list of (label, href), optional
        Per chart, links to its static images, shown under it.
    nav_html : str
        Trusted HTML for a navigation bar at the top (links back to the index).
    urls : iterable of str
        Full source URLs (the run's result rows) to mend URLs pandas cut short.

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
        cid = f"econ-chart-{token}-{k}"
        links = " · ".join(f'<a href="{html.escape(h, quote=True)}">{html.escape(label)}</a>'
                           for label, h in (image_links[k - 1] if k <= len(image_links) else []))
        embed = html.escape(json.dumps({a: b for a, b in opts.items() if a != "actions"}))
        nb.cells[ci].outputs[oi]["data"] = {"text/html": (
            f'<div class="econ-chart" id="{cid}" data-spec="{cid}-spec" data-embed="{embed}">'
            f'</div><script type="application/json" id="{cid}-spec">{_json_for_script(spec)}'
            f'</script><div class="econ-chart-files">{links}</div>')}
    for out in (o for cell in nb.cells for o in cell.get("outputs", [])):
        if (out.get("data") or {}).get("text/html"):
            h = out["data"]["text/html"]
            out["data"]["text/html"] = format_tables("".join(h) if isinstance(h, list) else h,
                                                     urls)
    _reader_layout(nb)
    if title:
        nb.metadata["title"] = title
    resources = {"econ_chart_count": len(specs), "econ_nav_html": nav_html}
    if specs:
        import vl_convert

        version = vl_version(specs[0][2])
        resources.update(econ_vl_version=version, econ_vl_convert_version=vl_convert.__version__,
                         econ_vega_bundle=_vega_bundle(version).replace(
                             "</script", "<\\/script").replace("<!--", "<\\!--"))
    exporter = HTMLExporter(template_name="econ_offline", exclude_input_prompt=True,
                            exclude_output_prompt=True,
                            extra_template_basedirs=[str(TEMPLATES_DIR)])
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body.replace("<!--econ-toc-->", _toc(body), 1), len(specs)


def static_images(specs, stem, formats):
    """Each chart as SVG and PNG (rasterized from the SVG): ({file name: bytes}, links per
    chart, a warning per image that failed)."""
    import vl_convert

    files, links, warnings = {}, [], []
    for k, (_, _, spec, _) in enumerate(specs, start=1):
        links.append([])
        try:
            svg = vl_convert.vegalite_to_svg(spec, vl_version=vl_version(spec))
            for fmt in formats:
                files[f"{stem}.chart-{k}.{fmt}"] = svg.encode() if fmt == "svg" else \
                    vl_convert.svg_to_png(svg, scale=2)
                links[-1].append((fmt.upper(), f"{stem}.chart-{k}.{fmt}"))
        except Exception as exc:  # one bad chart must not lose the report
            warnings.append(f"chart {k}: no static image ({type(exc).__name__}: {exc})")
    return files, links, warnings


# --------------------------------------------------------------------------------------------
# Index and comparison pages (Jinja templates in templates/pages/)
# --------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _jinja():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR / "pages")),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True)


def _markdown(text):
    import markupsafe
    import mistune

    return markupsafe.Markup(mistune.create_markdown(escape=True)(text))


def _source_links(text):
    return _links(" ; ".join(_URL.findall(text or "")), ()) or html.escape(text or "")


def index_html(scenario, outcomes, collected, *, complete, params, schema, description,
               reserved=(), good_report=None, run_seconds=0.0, compare_href=None, stamp=""):
    """The index page of one scenario's report: each notebook's conclusion, then the details.

    ``outcomes`` are :class:`econ.reports.NotebookOutcome` (``title`` and ``answers`` filled
    from the executed notebook); ``collected`` the run's results table.
    """
    import markupsafe

    tally = {}
    if len(collected):
        for r in _results.verdict_summary(collected).itertuples(index=False):
            tally[r.notebook] = r
    notebooks = []
    for o in outcomes:
        lead = lead_sentences(o.answers[0]["markdown"]) if o.answers else ""
        t = tally.get(o.name)
        notebooks.append(dict(
            o=o, title=o.title or o.name, conclusion=_markdown(lead) if lead else "",
            images=[(f.rsplit(".", 2)[-2] + "." + f.rsplit(".", 1)[-1], f) for f in o.images],
            published=int(t.published_count) if t is not None else 0,
            reproduced=int(t.reproduced_count) if t is not None else 0))
    groups = []
    for nb_name, frame in (collected.groupby("notebook", sort=False) if len(collected) else ()):
        rows = []
        for r in frame.itertuples(index=False):
            has_pub = not (isinstance(r.published_value, float) and math.isnan(r.published_value))
            rows.append(dict(
                metric=r.metric, subject=r.subject, verdict=r.verdict,
                computed=_results.format_quantity(r.value, r.unit),
                published=_results.format_quantity(r.published_value, r.unit),
                cls=("ok" if r.verdict.startswith("reproduced") else "failed") if has_pub else "",
                source=markupsafe.Markup(_source_links(r.source_url))))
        groups.append((nb_name, rows))
    prows = [dict(name=k, value=repr(params[k] if k in params else schema[k].default),
                  set=k in params, help=schema[k].help)
             for k in sorted(schema) if k not in reserved]
    return _jinja().get_template("index.html.j2").render(
        scenario=scenario.name, description=description, complete=complete,
        notebooks=notebooks, failed=[o.name for o in outcomes if not o.ok],
        good_report=good_report, run_seconds=run_seconds, groups=groups,
        n_rows=len(collected), params=prows, compare_href=compare_href, stamp=stamp,
        has_summary=any(o.name == "summary" for o in outcomes))


def _number_label(plain, start, end):
    """A few words around a number in an answer, to name its row: ``chip takes … LPUs``."""
    clause = max([plain.rfind(c, 0, start) for c in ("\n", ". ", "; ", ": ", "(")] + [-1])
    before = re.sub(r"[*_`]", "", plain[clause + 1:start]).strip(" $(:.")
    after = re.sub(r"[*_`]", "", plain[end:end + 60])
    after = re.split(r"[.,;:()]", re.sub(r"^(%|x(?![A-Za-z])|/[A-Za-z]+)", "", after),
                     maxsplit=1)[0].split()
    if len(before.split()) < 2:  # the number opens its clause: take the sentence before it
        sentence = max(plain.rfind("\n", 0, start), plain.rfind(". ", 0, start))
        before = re.sub(r"[*_`]", "", plain[sentence + 1:start]).strip(" $(:.")
    words = before.split()[-5:]
    return (" ".join(words) + " … " + " ".join(after[:3])).strip(" …") or "(value)"


def _with_unit(plain, e):
    """A number of an answer as it reads there: with the ``$`` before it and a ``%``, ``x`` or
    ``/unit`` after it."""
    start, text = e.get("start", 0), e["text"]
    pre = "$" if start > 0 and plain[start - 1] == "$" else ""
    post = re.match(r"(%|x(?![A-Za-z])|/[A-Za-z]+)?", plain[start + len(text):]).group(0)
    return pre + text + post


def compare_html(scenarios, *, stamp=""):
    """A page with several scenarios side by side: each notebook's conclusion, and a table of
    every number its answer shows, a column per scenario (cells that differ from the first
    scenario are marked).

    ``scenarios``: list of (name, description, ok, href, outcomes).
    """
    order, titles = [], {}
    for _, _, _, _, outs in scenarios:
        for o in outs:
            if o.name not in titles:
                order.append(o.name)
            titles[o.name] = titles.get(o.name) or o.title or o.name
    notebooks = []
    for name in order:
        per = [{o.name: o for o in outs}.get(name) for *_, outs in scenarios]
        conclusions = [_markdown(lead_sentences(o.answers[0]["markdown"]))
                       if o is not None and o.answers else "–" for o in per]
        rows, index = [], {}
        for col, o in enumerate(per):
            for a in (o.answers if o is not None else []):
                plain = a["markdown"].replace("\\$", "$")
                for e in a["record"]:
                    if e.get("kind") != "number" or e["field"] in index:
                        if e.get("kind") == "number" and e["field"] in index:
                            row = rows[index[e["field"]]]
                            row["cells"][col] = row["cells"][col] or _with_unit(plain, e)
                        continue
                    start = e.get("start", 0)
                    index[e["field"]] = len(rows)
                    rows.append(dict(label=_number_label(plain, start, start + len(e["text"])),
                                     field=e["field"], cells=[""] * len(per)))
                    rows[-1]["cells"][col] = _with_unit(plain, e)
        for row in rows:
            row["differs"] = [bool(c) and c != row["cells"][0] for c in row["cells"]]
        notebooks.append(dict(name=name, title=titles[name], conclusions=conclusions,
                              rows=rows))
    cols = [dict(name=n, description=d, ok=ok, href=h) for n, d, ok, h, _ in scenarios]
    return _jinja().get_template("compare.html.j2").render(
        scenarios=cols, notebooks=notebooks, stamp=stamp)
