"""econ.report_pages without a kernel: offline HTML of charts (the Vega bundle inlined once, no
CDN), table formatting, the answer-first layout with folded code.
"""
from __future__ import annotations

import re

import nbformat
import pandas as pd

from econ import report_pages


def _chart_notebook(n_charts=2):
    import altair as alt

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [3, 1, 2]})
    for i in range(n_charts):
        chart = alt.Chart(frame).mark_line().encode(x="x", y="y").properties(title=f"c{i}")
        cell = nbformat.v4.new_code_cell("chart")
        cell.outputs = [nbformat.v4.new_output("display_data", data=chart._repr_mimebundle_())]
        nb.cells.append(cell)
    return nb


def test_export_html_inlines_the_bundle_once_and_no_cdn():
    nb = _chart_notebook(3)
    assert [s[2]["title"] for s in report_pages.chart_specs(nb)] == ["c0", "c1", "c2"]
    page, n = report_pages.export_html(nb, title="t")
    assert n == 3
    assert page.count("window.vegaEmbed=") == 1
    assert page.count('class="econ-chart"') == 3
    assert "cdn.jsdelivr" not in page and "require.min.js" not in page
    assert "mathjax" not in page.lower().replace("mathjax_url", "")
    # the notebook itself is left as it was (Lab keeps its own renderer)
    assert "cdn.jsdelivr" in nb.cells[0].outputs[0]["data"]["text/html"]


def test_export_html_without_charts_has_no_bundle():
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# hello"))
    page, n = report_pages.export_html(nb)
    assert n == 0 and "vegaEmbed" not in page and "hello" in page


def test_format_tables_units_digits_and_links():
    cut = "https://example.org/a/very/long/path/that/pandas/cut/short/at/fifty/chars"
    frame = pd.DataFrame({"capex_usd": [7e10, 0.682197], "gpus_count": [5.0, 8.0],
                          "source_url": [cut, "https://example.org/b ; https://example.com/c"]})
    with pd.option_context("display.max_colwidth", 50):
        raw = frame._repr_html_()
    assert "7.000000e+10" in raw and cut not in raw  # what pandas prints
    page = report_pages.format_tables(raw, urls=[cut])
    assert "Capex [USD]" in page and "Gpus [count]" in page
    assert ">70,000,000,000<" in page and ">0.682<" in page and ">5<" in page
    assert "e+10<" not in page
    assert f'href="{cut}"' in page, "a URL pandas cut short is mended from the known URLs"
    assert 'href="https://example.com/c"' in page
    assert report_pages.format_tables("<p>no table</p>") == "<p>no table</p>"


def _reader_notebook():
    nb = nbformat.v4.new_notebook()
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    answer = code("econ.answer(...)")
    answer.metadata["tags"] = ["answer"]
    answer.outputs = [nbformat.v4.new_output("execute_result", data={
        "text/markdown": "It costs **\\$2.00**. More.", "text/plain": "x"},
        metadata={"text/markdown": {"econ_answer": [dict(field="c", kind="number", spec=".2f",
                                                          start=10, text="2.00", value=2.0)]}})]
    nb.cells = [md("# Title\n\nThe question, at length."), code("import econ"),
                md("## 1. Method"), code("x = 1"), md("## Verdict"), code("table"),
                md("## Answer"), answer, md("**Caveats.** Some.")]
    return nb


def test_export_html_puts_the_answer_first_and_folds_code():
    nb = _reader_notebook()
    page, _ = report_pages.export_html(nb)
    at = {k: page.index(k) for k in ('id="econ-answer"', 'id="econ-verdict"',
                                      "The question, at length", 'id="1.-Method"')}
    assert list(at) == sorted(at, key=at.get), at
    assert page.index(">Title<") < at['id="econ-answer"']
    assert page.count('<details class="econ-code">') == 4
    pres = [m.start() for m in re.finditer("<pre", page)]
    assert len(pres) == 4 and all(page.rfind("<details", 0, i) > page.rfind("</details>", 0, i)
                                  for i in pres), "every code block is inside a <details>"
    toc = page[page.index('<nav class="econ-toc"'):]
    toc = toc[:toc.index("</nav>")]
    assert [t for t in ("Answer", "Verdict", "1. Method") if t in toc] == ["Answer", "Verdict",
                                                                            "1. Method"]
    assert nb.cells[0].source.startswith("# Title\n"), "the notebook itself is not changed"
    assert report_pages.notebook_title(nb) == "Title"
