"""The counted launches of the step harness (data/gpu_kernel_counts.csv) load, match the
recorded steps' layouts and back what the calibration says of ``kernel_fixed_s``."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml
from _scripts import load_script, quick_table

import econ
import econ.data as D

LAYOUT = ["arch", "tp", "ep", "n_layers_timed", "n_dense_layers_timed", "n_moe_layers_timed",
          "lm_head_included"]


@pytest.fixture(scope="module")
def counts():
    return D.load("gpu_kernel_counts")


def test_columns_match_the_script():
    meta = yaml.safe_load((D.DATA_DIR / "gpu_kernel_counts.yaml").read_text())
    header = (D.DATA_DIR / "gpu_kernel_counts.csv").read_text().splitlines()[0].split(",")
    assert list(meta["columns"]) == list(load_script("gpu_kernel_count").COLUMNS) == header


def test_every_counted_layout_is_a_recorded_step_layout(counts):
    steps = D.load("gpu_steps")
    key = lambda df: set(map(tuple, df[LAYOUT].astype(str).to_numpy()))  # noqa: E731
    assert key(counts) <= key(steps)
    # every architecture of the BF16 steps, at the layouts the fit uses (70B at tp 1 and 8:
    # tp 2 and 4 are the same kernels at other widths)
    bf16 = steps[(steps["weight_precision"] == "bf16") & steps["phase"].isin(["decode",
                                                                               "prefill"])]
    assert set(bf16["arch"]) == set(counts["arch"])
    assert key(bf16[~bf16["tp"].isin([2.0, 4.0])]) == key(counts)


def test_the_harness_launches_more_kernels_than_the_structure_names(counts):
    out = econ.harness_launches_per_kernel(counts)
    assert len(out) == len(counts)
    assert (out["launched_count"] >= counts["kernels_count"]).all()
    # one named kernel is two to four PyTorch launches in the harness, for every layout
    assert out["launches_per_kernel_ratio"].between(2.0, 4.0).all()
    # a whole model launches more than a slice of it
    by_arch = out.groupby("arch")["named_count"].max()
    assert by_arch["llama-3.1-8b"] > by_arch["llama-3.1-70b"]


def test_the_calibration_note_states_the_counted_range():
    ratio = econ.harness_launches_per_kernel()["launches_per_kernel_ratio"]
    cal = pd.read_csv(D.DATA_DIR / "calibration.csv").set_index("name")
    note, k = cal.loc["kernel_fixed_s", "notes"], float(cal.loc["kernel_fixed_s", "value"])
    assert f"launches {ratio.min():.1f} to {ratio.max():.1f} times as many" in note
    assert f"{k / ratio.max() * 1e6:.1f} to {k / ratio.min() * 1e6:.1f} us per launch" in note


def test_quick_run_writes_a_loadable_table(tmp_path):
    """The script's --quick mode on the CPU writes the same layout (needs torch; skipped
    without)."""
    pytest.importorskip("torch")
    assert len(quick_table("gpu_kernel_count", "gpu_kernel_counts", tmp_path)) == 24
