"""The serving-engine defaults (data/engine_defaults.csv) load and agree with the ledger.

Each row holds the scheduler defaults of one engine over a version range and a device class;
the ledger (data/serving_benchmarks.csv) names the engine and version of every measured point,
so every engine of the ledger must have rows here and every released version of it that the
ledger names must fall in a row's range.
"""
import numpy as np
import pandas as pd
import pytest
from packaging.version import InvalidVersion, Version

from econ import data as D

ENGINES = {"vllm", "sglang", "tensorrt-llm", "tgi"}
NUMBERS = ["prefill_chunk_tok", "max_running_requests_count"]


@pytest.fixture(scope="module")
def defaults():
    return D.load("engine_defaults")


@pytest.fixture(scope="module")
def ledger():
    return D.load("serving_benchmarks")


def _version(text):
    try:
        return Version(text)
    except (InvalidVersion, TypeError):
        return None


def test_frameworks_are_the_ledger_spellings_of_the_engines(defaults, ledger):
    assert set(defaults["framework"]) == ENGINES
    # the same spellings as the ledger's framework column, so rows can be joined on it
    assert ENGINES <= set(ledger["framework"])


def test_every_engine_of_the_ledger_has_a_number(defaults, ledger):
    for framework in ENGINES & set(ledger["framework"]):
        rows = defaults[defaults["framework"] == framework]
        assert len(rows), framework
        assert rows[NUMBERS].notna().any(axis=None), f"{framework}: no default recorded"


def test_numbers_are_positive_integers(defaults):
    values = pd.Series(defaults[NUMBERS].to_numpy().ravel()).dropna()
    assert len(values) > 0
    assert (values >= 1).all(), values[values < 1]
    assert np.allclose(values, np.round(values)), values
    bounds = defaults[["min_device_memory_bytes", "max_device_memory_bytes"]].dropna()
    assert (bounds["min_device_memory_bytes"] < bounds["max_device_memory_bytes"]).all()


def test_an_empty_number_says_why(defaults):
    empty = defaults[defaults[NUMBERS].isna().any(axis=1)]
    assert len(empty), "the table records derived defaults as empty cells"
    for name, notes in empty["notes"].items():
        assert "left empty" in notes.lower() or "derived" in notes.lower(), name


def test_version_ranges_are_ordered_and_vllm_rows_name_the_engine(defaults):
    for name, row in defaults.iterrows():
        lo, hi = _version(row["version_from"]), _version(row["version_to"])
        if lo is not None and hi is not None:
            assert lo <= hi, name
        if row["framework"] == "vllm":
            assert row["engine"] in ("v0", "v1"), name
        else:
            assert pd.isna(row["engine"]), name


def test_released_ledger_versions_fall_in_a_row(defaults, ledger):
    """A released version of the ledger (no dev build, no local tag) is covered by a range."""
    checked = 0
    for framework, text in ledger[["framework", "framework_version"]].drop_duplicates().values:
        v = _version(text)
        if framework not in ENGINES or v is None or v.is_devrelease or v.is_prerelease or v.local:
            continue
        rows = defaults[defaults["framework"] == framework]
        lo = rows["version_from"].map(_version)
        hi = rows["version_to"].map(_version)
        # "1.0" and "1.0.0" are the same release
        covered = [a is not None and b is not None and a <= v <= b for a, b in zip(lo, hi)]
        assert any(covered), f"{framework} {text}: no row covers it"
        checked += 1
    assert checked >= 5


def test_memory_classes_partition_the_gpus(defaults):
    """Within one version range, each GPU of data/hardware.csv falls in exactly one class."""
    hw = D.load("hardware")
    gpus = hw.loc[(hw["device_kind"] == "gpu") & (hw["memory_kind"] != "sram"), "memory_bytes"]
    classed = defaults[defaults[["min_device_memory_bytes", "max_device_memory_bytes"]]
                       .notna().any(axis=1)]
    classed = classed[~classed["condition"].str.contains("dp-attention")]
    groups = classed[classed["framework"] == "sglang"].groupby(["version_from", "version_to"])
    assert len(groups) >= 3
    for key, rows in groups:
        lo = rows["min_device_memory_bytes"].fillna(0.0).to_numpy()
        hi = rows["max_device_memory_bytes"].fillna(np.inf).to_numpy()
        for gpu, mem in gpus.items():
            hits = int(((lo <= mem) & (mem < hi)).sum())
            assert hits == 1, f"sglang {key}: {gpu} ({mem:.3g} bytes) is in {hits} classes"


def test_each_engine_states_whether_decodes_wait(defaults):
    for framework in ENGINES:
        rows = defaults[defaults["framework"] == framework]
        assert rows["decode_priority"].notna().any(), framework
    # a row that fills the step with prompt chunks needs a chunk size or a reason it has none
    chunked = defaults[defaults["decode_priority"] == "decode_first"]
    assert pd.notna(chunked["prefill_chunk_tok"]).any()
