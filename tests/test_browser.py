"""Open every HTML page of a report in headless Chromium and check that it works offline.

For each page (index and notebooks) the test fails if

* a chart did not draw: an ``econ-chart`` / ``vega-embed`` element without an ``svg`` or
  ``canvas`` inside (or showing the runner's "failed to render" message);
* the page logged an error (console error, uncaught exception, browser log error);
* anything was requested from the network, or a ``<script src="http...">`` is on the page.

Chromium is driven by Playwright for Python, launching an installed Chromium (Playwright's own
browser download is not used): ``$ECON_CHROMIUM`` when set, else Debian's ``/usr/bin/chromium``
(``make test`` installs it with apt-get when missing and run as root), else one on ``PATH``. The
test itself installs nothing.

Reports checked: one built here from ``tests/fixtures/notebooks`` (always), the suite's own
notebooks under ``base`` when ``notebooks/`` has any (also marked ``slow``), and any report
folder named in ``ECON_REPORT_DIR`` (e.g. ``ECON_REPORT_DIR=reports/base``).

Run by hand on an existing report: ``python tests/test_browser.py reports/base``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--mute-audio", "--window-size=1280,1600"]
RENDER_TIMEOUT_S = 30.0

pytestmark = pytest.mark.browser

# JavaScript run in the page: the state of every chart, and scripts loaded from the network.
_PROBE = r"""
(() => {
  const charts = Array.from(document.querySelectorAll("div.econ-chart, .vega-embed"));
  const uniq = Array.from(new Set(charts));
  const state = uniq.map(el => ({
    id: el.id || "",
    cls: el.className && el.className.baseVal !== undefined ? el.className.baseVal
                                                            : String(el.className),
    drawn: !!el.querySelector("svg.marks, canvas.marks, svg, canvas"),
    failed: !!el.querySelector(".econ-chart-error, .error"),
    text: (el.innerText || "").slice(0, 200),
  }));
  const remote = Array.from(
      document.querySelectorAll("script[src], link[href], img[src], iframe[src]"))
     .map(e => e.getAttribute("src") || e.getAttribute("href"))
     .filter(u => /^(https?:)?\/\//i.test(u));
  return JSON.stringify({ready: document.readyState,
                         specs: document.querySelectorAll("div.econ-chart").length,
                         charts: state, remote: remote});
})()
"""


# --------------------------------------------------------------------------------------------
# Chromium, driven by Playwright
# --------------------------------------------------------------------------------------------

NO_CHROMIUM = (
    "No Chromium for the browser test. `make test` installs Debian's chromium with apt-get when "
    "run as root; otherwise install it (Debian/Ubuntu: sudo apt-get install chromium; macOS: "
    "Google Chrome, or `brew install --cask chromium`) and point the test at it, e.g. "
    "ECON_CHROMIUM=\"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome\".")


def find_chromium():
    """Path of the Chromium to drive: ``$ECON_CHROMIUM``, Debian's, or one on ``PATH``."""
    named = os.environ.get("ECON_CHROMIUM")
    if named:
        if not (Path(named).is_file() and os.access(named, os.X_OK)):
            raise FileNotFoundError(f"ECON_CHROMIUM={named!r} is not an executable file")
        return named
    for candidate in (CHROMIUM, shutil.which("chromium"), shutil.which("chromium-browser"),
                      shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    raise FileNotFoundError(NO_CHROMIUM)


class Browser:
    """Headless Chromium through Playwright, every request off the machine refused."""

    def __init__(self, chromium):
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=chromium, headless=True, args=FLAGS,
                ignore_default_args=["--enable-automation"])
        except Exception:
            self._pw.stop()
            raise

    def close(self):
        try:
            self._browser.close()
        finally:
            self._pw.stop()

    def check_page(self, path):
        """Load one file and return a list of problems (empty when the page is fine)."""
        name = Path(path).name
        out = []
        context = self._browser.new_context(viewport={"width": 1280, "height": 1600})
        page = context.new_page()

        def request(route):
            url = route.request.url
            if url.startswith(("file:", "data:", "blob:", "about:")):
                route.continue_()
            else:  # nothing may leave the machine: record it and refuse it
                out.append(f"{name}: requested {url} ({route.request.resource_type}) "
                           f"from the network")
                route.abort()

        context.route("**/*", request)
        page.on("console", lambda m: out.append(f"{name}: console error: {m.text[:300]}")
                if m.type in ("error", "assert") else None)
        page.on("pageerror", lambda e: out.append(f"{name}: uncaught exception: {str(e)[:300]}"))
        try:
            try:
                page.goto(Path(path).resolve().as_uri(), wait_until="load",
                          timeout=RENDER_TIMEOUT_S * 1000)
            except Exception as exc:  # a page that does not load is a problem
                return out + [f"{name}: page did not finish loading in "
                              f"{RENDER_TIMEOUT_S:.0f} s: {str(exc)[:200]}"]
            deadline = time.monotonic() + RENDER_TIMEOUT_S
            state = json.loads(page.evaluate(_PROBE))
            while not all(c["drawn"] or c["failed"] for c in state["charts"]):
                if time.monotonic() > deadline:
                    break
                page.wait_for_timeout(200)
                state = json.loads(page.evaluate(_PROBE))
            page.wait_for_timeout(300)  # late console messages
            return out + _problems(name, state)
        finally:
            context.close()


def _problems(name, state):
    out = []
    for c in state["charts"]:
        if c["failed"]:
            out.append(f"{name}: chart {c['id'] or c['cls']} failed to render: {c['text']!r}")
        elif not c["drawn"]:
            out.append(f"{name}: chart {c['id'] or c['cls']} drew no svg/canvas")
    if state["specs"] and not any("vega-embed" in c["cls"] for c in state["charts"]):
        out.append(f"{name}: {state['specs']} chart placeholder(s) but Vega-Embed never ran")
    for u in state["remote"]:
        out.append(f"{name}: loads {u} from the network")
    return out


def check_report(folder, browser):
    """Problems of every ``*.html`` page of a report folder (and the pages it holds)."""
    pages = sorted(Path(folder).glob("*.html"))
    assert pages, f"no HTML pages in {folder}"
    problems = []
    for page in pages:
        problems += browser.check_page(page)
    return pages, problems


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    try:
        chromium = find_chromium()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    b = Browser(chromium)
    yield b
    b.close()


def _run_report(args, cwd=ROOT):
    r = subprocess.run([sys.executable, "-m", "econ.reports", *args], cwd=cwd,
                       capture_output=True, text=True, timeout=900)
    return r


@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory):
    """Two scenarios of the fixture notebooks in one run: two reports and a comparison page."""
    out = tmp_path_factory.mktemp("browser-reports")
    r = _run_report(["double", "base", "--notebooks-dir", str(FIXTURES), "--out", str(out),
                     "--notebooks", "chart", "summary"])
    assert r.returncode == 0, r.stdout + r.stderr
    return out / "double"


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------

def test_fixture_report_pages_render_offline(browser, fixture_report):
    pages, problems = check_report(fixture_report, browser)
    assert {p.name for p in pages} >= {"index.html", "chart.html", "summary.html"}
    assert not problems, "\n".join(problems)


# What a reader sees first, at desktop width (1280x800), before scrolling.
_FOLD = r"""
(() => {
  // checkVisibility: false inside a closed <details> (its content is not rendered)
  const vis = el => el.checkVisibility({visibilityProperty: true, opacityProperty: true}) &&
                    el.getBoundingClientRect().height > 0;
  const top = el => el ? el.getBoundingClientRect().top + window.scrollY : null;
  const answer = document.querySelector("section.econ-answer");
  const code = Array.from(document.querySelectorAll(".jp-InputArea-editor, .jp-InputArea pre"));
  return JSON.stringify({
    answer: top(answer), answer_text: answer ? answer.innerText : "",
    verdict: top(document.querySelector("section.econ-verdict")),
    first_chart: top(document.querySelector("div.econ-chart")),
    code_cells: code.length, visible_code: code.filter(vis).map(top),
    toc: Array.from(document.querySelectorAll("nav.econ-toc a")).map(a => a.textContent),
    toc_visible: !!document.querySelector("nav.econ-toc")
        && vis(document.querySelector("nav.econ-toc")),
    conclusions: Array.from(document.querySelectorAll(".conclusion")).map(
        el => ({top: top(el), text: el.innerText})),
    headers: Array.from(document.querySelectorAll("table.compare th")).map(th => th.textContent),
  });
})()
"""


def _fold(browser, path, screenshot=None, click=None):
    context = browser._browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        page.wait_for_timeout(300)
        if screenshot:
            page.screenshot(path=str(screenshot))
        before = json.loads(page.evaluate(_FOLD))
        after = None
        if click:
            page.click(click)
            after = json.loads(page.evaluate(_FOLD))
        return before, after
    finally:
        context.close()


def test_notebook_page_shows_the_answer_first_and_code_folded(browser, fixture_report, tmp_path):
    shot = tmp_path / "chart.png"
    got, opened = _fold(browser, fixture_report / "chart.html", shot, click="#econ-code-toggle")
    assert shot.stat().st_size > 10_000
    # the conclusion is above the fold, with no code above it (the notebook's own order puts
    # six code cells and a long introduction before it)
    assert got["answer"] is not None and got["answer"] < 800, got
    assert "The line costs $20.00" in got["answer_text"]
    assert got["answer"] < got["verdict"] < got["first_chart"], got
    assert got["visible_code"] == [], "code is hidden by default"
    assert got["code_cells"] >= 6
    # one click shows it all
    assert len(opened["visible_code"]) == opened["code_cells"]
    assert got["toc_visible"] and got["toc"][:2] == ["Answer", "Verdict"]
    assert {"The data", "Charts"} <= set(got["toc"])


def test_index_states_each_conclusion_above_the_fold(browser, fixture_report, tmp_path):
    got, _ = _fold(browser, fixture_report / "index.html", tmp_path / "index.png")
    first = got["conclusions"][0]
    assert first["top"] < 800 and "The line costs $20.00 in all" in first["text"], got
    assert got["visible_code"] == []


def test_comparison_page_lists_both_scenarios(browser, fixture_report, tmp_path):
    compare = fixture_report.parent / "compare.html"
    assert not browser.check_page(compare)
    got, _ = _fold(browser, compare, tmp_path / "compare.png")
    assert got["headers"][1:3] == ["double", "base"], got["headers"]
    text = compare.read_text(encoding="utf-8")
    assert "$20.00" in text and "$10.00" in text  # the answer's number under each scenario
    assert 'href="double/index.html"' in text and 'href="base/index.html"' in text


def test_each_page_includes_the_vega_bundle_once(fixture_report):
    page = (fixture_report / "chart.html").read_text(encoding="utf-8")
    assert page.count("window.vegaEmbed=") == 1
    assert page.count('class="econ-chart"') == 2
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", page)
    # pages without a chart carry no bundle at all
    assert "window.vegaEmbed=" not in (fixture_report / "summary.html").read_text(encoding="utf-8")


def test_a_broken_chart_is_caught(browser, fixture_report, tmp_path):
    """The check itself works: a page whose chart cannot draw, and one loading a CDN script,
    are reported."""
    page = (fixture_report / "chart.html").read_text(encoding="utf-8")
    bad_spec = re.sub(r'("mark":\{"type":)"line"', r'\1"no-such-mark"', page, count=1)
    assert bad_spec != page
    (tmp_path / "bad.html").write_text(bad_spec, encoding="utf-8")
    cdn = page.replace("</head>", '<script src="https://cdn.jsdelivr.net/npm/vega@6"></script>'
                                  "</head>", 1)
    (tmp_path / "cdn.html").write_text(cdn, encoding="utf-8")
    bad = browser.check_page(tmp_path / "bad.html")
    assert any("failed to render" in p or "console error" in p for p in bad), bad
    cdnp = browser.check_page(tmp_path / "cdn.html")
    assert any("cdn.jsdelivr.net" in p for p in cdnp), cdnp


@pytest.mark.slow
def test_suite_base_report_renders_offline(browser, tmp_path_factory):
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        pytest.skip("no notebooks in notebooks/ yet")
    out = tmp_path_factory.mktemp("suite-report")
    r = _run_report(["base", "--out", str(out)])
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    pages, problems = check_report(out / "base", browser)
    assert len(pages) == len(notebooks) + 1
    assert not problems, "\n".join(problems)


def test_report_named_in_environment(browser):
    folder = os.environ.get("ECON_REPORT_DIR")
    if not folder:
        pytest.skip("set ECON_REPORT_DIR=reports/<scenario> to check an existing report")
    _, problems = check_report(folder, browser)
    assert not problems, "\n".join(problems)


if __name__ == "__main__":
    b = Browser(find_chromium())
    try:
        bad = []
        for folder in sys.argv[1:] or ["reports/base"]:
            pages, problems = check_report(folder, b)
            print(f"{folder}: {len(pages)} page(s), {len(problems)} problem(s)")
            bad += problems
        print("\n".join(bad))
    finally:
        b.close()
    sys.exit(1 if bad else 0)
