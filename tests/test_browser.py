"""Open every HTML page of a report in headless Chromium and check that it works offline.

For each page (index and notebooks) the test fails if

* a chart did not draw: an ``econ-chart`` / ``vega-embed`` element without an ``svg`` or
  ``canvas`` inside (or showing the runner's "failed to render" message);
* the page logged an error (console error, uncaught exception, browser log error);
* anything was requested from the network, or a ``<script src="http...">`` is on the page.

Chromium is driven through the DevTools protocol (``--remote-debugging-port`` and the
``websocket-client`` package). Debian's ``chromium`` is installed with apt when missing.

Reports checked: one built here from ``tests/fixtures/notebooks`` (always), the suite's own
notebooks under ``base`` when ``notebooks/`` has any (also marked ``slow``), and any report
folder named in ``ECON_REPORT_DIR`` (e.g. ``ECON_REPORT_DIR=reports/base``).

Run by hand on an existing report: ``python tests/test_browser.py reports/base``.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
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
    cls: el.className && el.className.baseVal !== undefined ? el.className.baseVal : String(el.className),
    drawn: !!el.querySelector("svg.marks, canvas.marks, svg, canvas"),
    failed: !!el.querySelector(".econ-chart-error, .error"),
    text: (el.innerText || "").slice(0, 200),
  }));
  const remote = Array.from(document.querySelectorAll("script[src], link[href], img[src], iframe[src]"))
     .map(e => e.getAttribute("src") || e.getAttribute("href"))
     .filter(u => /^(https?:)?\/\//i.test(u));
  return JSON.stringify({ready: document.readyState, specs: document.querySelectorAll("div.econ-chart").length,
                         charts: state, remote: remote});
})()
"""


# --------------------------------------------------------------------------------------------
# A small DevTools-protocol client
# --------------------------------------------------------------------------------------------

class Browser:
    """Headless Chromium driven over the DevTools protocol (flattened sessions)."""

    def __init__(self, chromium=CHROMIUM):
        import websocket

        self.profile = tempfile.mkdtemp(prefix="econ-chromium-")
        self.proc = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        url = None
        deadline = time.monotonic() + 60
        seen = []
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                url = m.group(1)
                break
        if url is None:
            self.close()
            raise RuntimeError("chromium did not start:\n" + "".join(seen[-20:]))
        # keep draining stderr so chromium never blocks on a full pipe
        import threading

        threading.Thread(target=self._drain, daemon=True).start()
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self._ids = itertools.count(1)
        self.events = []

    def _drain(self):
        for _ in iter(self.proc.stderr.readline, ""):
            pass

    def send(self, method, params=None, session=None, timeout=30.0):
        mid = next(self._ids)
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self._recv(deadline)
            if got is not None and got.get("id") == mid:
                if "error" in got:
                    raise RuntimeError(f"{method}: {got['error']}")
                return got.get("result", {})
        raise TimeoutError(f"no answer to {method} in {timeout} s")

    def _recv(self, deadline):
        import websocket

        self.ws.settimeout(max(0.05, min(1.0, deadline - time.monotonic())))
        try:
            msg = json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            return None
        if "method" in msg:
            self.events.append(msg)
        return msg

    def pump(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._recv(deadline)

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.profile, ignore_errors=True)

    def check_page(self, path):
        """Load one file and return a list of problems (empty when the page is fine)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        self.events = []
        try:
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.send(f"{domain}.enable", session=session)
            # Nothing may leave the machine: record every request, and refuse them anyway.
            self.send("Network.setBlockedURLs",
                      {"urls": ["http://*", "https://*", "ws://*", "wss://*"]}, session=session)
            self.send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=session)
            state = None
            deadline = time.monotonic() + RENDER_TIMEOUT_S
            loaded = False
            while time.monotonic() < deadline:
                self.pump(0.2)
                loaded = loaded or any(e.get("method") == "Page.loadEventFired" and
                                       e.get("sessionId") == session for e in self.events)
                if not loaded:
                    continue
                res = self.send("Runtime.evaluate", {"expression": _PROBE,
                                                     "returnByValue": True}, session=session)
                state = json.loads(res["result"]["value"])
                if all(c["drawn"] or c["failed"] for c in state["charts"]):
                    break
            self.pump(0.3)  # late console messages
            return _problems(path, state, loaded, [e for e in self.events
                                                   if e.get("sessionId") == session])
        finally:
            try:
                self.send("Target.closeTarget", {"targetId": target})
            except Exception:
                pass


def _problems(path, state, loaded, events):
    name = Path(path).name
    out = []
    if not loaded or state is None:
        return [f"{name}: page did not finish loading in {RENDER_TIMEOUT_S:.0f} s"]
    for c in state["charts"]:
        if c["failed"]:
            out.append(f"{name}: chart {c['id'] or c['cls']} failed to render: {c['text']!r}")
        elif not c["drawn"]:
            out.append(f"{name}: chart {c['id'] or c['cls']} drew no svg/canvas")
    if state["specs"] and not any("vega-embed" in c["cls"] for c in state["charts"]):
        out.append(f"{name}: {state['specs']} chart placeholder(s) but Vega-Embed never ran")
    for u in state["remote"]:
        out.append(f"{name}: loads {u} from the network")
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if not url.startswith(("file:", "data:", "blob:", "about:")):
                out.append(f"{name}: requested {url} ({p.get('type', '?')}) from the network")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            out.append(f"{name}: console error: {text[:300]}")
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = d.get("exception", {}).get("description") or d.get("text", "")
            out.append(f"{name}: uncaught exception: {text[:300]}")
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            out.append(f"{name}: browser error: {p['entry'].get('text', '')[:300]} "
                       f"{p['entry'].get('url', '')}")
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

def ensure_chromium():
    """Path to Debian's chromium; installs it with apt (as root) when missing."""
    if not Path(CHROMIUM).exists():
        apt = shutil.which("apt-get")
        if apt is None:
            pytest.fail(f"{CHROMIUM} is missing and there is no apt-get to install it")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        r = subprocess.run([apt, "install", "-y", "--no-install-recommends", "chromium"],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            subprocess.run([apt, "update"], capture_output=True, text=True, env=env)
            r = subprocess.run([apt, "install", "-y", "--no-install-recommends", "chromium"],
                               capture_output=True, text=True, env=env)
        if r.returncode != 0 or not Path(CHROMIUM).exists():
            pytest.fail(f"cannot install chromium with apt-get:\n{r.stdout[-2000:]}\n"
                        f"{r.stderr[-2000:]}")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser():
    b = Browser(ensure_chromium())
    yield b
    b.close()


def _run_report(args, cwd=ROOT):
    r = subprocess.run([sys.executable, "-m", "econ.reports", *args], cwd=cwd,
                       capture_output=True, text=True, timeout=900)
    return r


@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser-reports")
    r = _run_report(["double", "--notebooks-dir", str(FIXTURES), "--out", str(out)])
    assert r.returncode == 0, r.stdout + r.stderr
    return out / "double"


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------

def test_fixture_report_pages_render_offline(browser, fixture_report):
    pages, problems = check_report(fixture_report, browser)
    assert {p.name for p in pages} >= {"index.html", "chart.html", "summary.html"}
    assert not problems, "\n".join(problems)


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
    b = Browser(ensure_chromium())
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
