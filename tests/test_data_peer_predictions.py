"""data/peer_predictions.csv: a peer's predictions of ledger rows, consistent with the ledger."""
import importlib.util

import numpy as np
import pytest

import econ


@pytest.fixture(scope="module")
def peers():
    return econ.data.load("peer_predictions")


def test_every_peer_row_predicts_a_ledger_row_at_its_concurrency(peers):
    ledger = econ.data.load("serving_benchmarks")
    assert set(peers.index) <= set(ledger.index)
    conc = ledger.loc[peers.index, "concurrency_count"]
    fixed = conc.notna()
    np.testing.assert_array_equal(peers.loc[fixed, "batch_size_count"], conc[fixed])
    assert (peers["tpot_s"] > 0).all() and (peers["output_per_device_tok_per_s"] > 0).all()


def test_the_peer_never_saw_the_measurements(peers):
    """The script that writes the table reads the ledger's setup, never its measured columns."""
    src = (econ.data.DATA_DIR.parent / "tests" / "benchmarks" / "peer_aiconfigurator.py")
    if not src.exists():
        pytest.skip("installed package without the tests folder")
    text = src.read_text()
    for measured in ("tpot_s\"]", "ttft_s\"]", "output_per_device_tok_per_s\"]",
                     "per_user_tok_per_s"):
        assert f'row["{measured}' not in text


@pytest.mark.skipif(importlib.util.find_spec("aiconfigurator") is None,
                    reason="aiconfigurator (an optional peer, not a dependency) is not installed")
def test_peer_script_runs_where_aiconfigurator_is_installed():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "tests/benchmarks/peer_aiconfigurator.py", "--help"],
                       capture_output=True, text=True, cwd=econ.data.DATA_DIR.parent)
    assert r.returncode in (0, 2)
