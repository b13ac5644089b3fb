"""`make lab` starts JupyterLab on the notebooks, on loopback, behind the token it prints."""
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


@pytest.mark.slow
def test_make_lab_serves_the_notebooks_behind_its_token():
    port = _free_port()
    proc = subprocess.Popen(["make", "-s", "lab", f"PORT={port}"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        first = proc.stdout.readline()
        m = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=([0-9a-f]{{32}})", first)
        assert m, f"no URL with a token on the first line: {first!r}"
        token = m.group(1)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"{base}/api/kernelspecs?token={token}")
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.5)
        assert status == 200, "JupyterLab did not answer within 60 s"
        assert "python3" in json.loads(body)["kernelspecs"]
        status, _ = _get(f"{base}/api/contents/token_pricing.ipynb?token={token}&content=0")
        assert status == 200, "the notebooks folder is served"
        assert _get(f"{base}/api/kernelspecs")[0] == 403, "no token, no access"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
