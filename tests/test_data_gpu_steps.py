"""The recorded whole-step GPU timings (data/gpu_steps.csv) load, resolve and make sense."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import yaml
from _scripts import load_script, quick_table

import econ.data as D


@pytest.fixture(scope="module")
def steps():
    return D.load("gpu_steps")


def test_times_are_positive_and_ordered(steps):
    assert len(steps) > 100
    assert (steps["median_s"] > 0).all()
    assert (steps["p10_s"] <= steps["median_s"]).all()
    assert (steps["median_s"] <= steps["p90_s"]).all()
    assert (steps["n_replays"] >= 5).all()


def test_keys_resolve(steps):
    machines = D.load("gpu_machines")
    models = D.load("models")
    assert set(steps["machine"]) <= set(machines.index)
    assert set(steps["arch"]) <= set(models.index)
    for m in set(steps["machine"]):
        assert "H200" in machines.loc[m, "gpu_name"] or "H100" in machines.loc[m, "gpu_name"]
        run = D.DATA_DIR / "gpu_runs" / m
        assert (run / "log.txt").exists() and (run / "machine.json").exists(), m


def test_layer_and_token_counts_are_consistent(steps):
    s = steps
    whole = s[s["phase"] != "decode_attention"]
    assert (
        whole["n_layers_timed"] == whole["n_dense_layers_timed"] + whole["n_moe_layers_timed"]
    ).all()
    assert (s["n_dense_layers_timed"] + s["n_moe_layers_timed"] <= s["n_layers_timed"]).all()
    pre = s["phase"] == "prefill"
    assert (
        s.loc[pre, "tokens_per_step"] == s.loc[pre, "n_sequences"] * s.loc[pre, "context_tok"]
    ).all()
    assert (s.loc[~pre, "tokens_per_step"] == s.loc[~pre, "n_sequences"]).all()
    moe = s["n_moe_layers_timed"] > 0
    routed = s.loc[moe, "arch"].map(D.load("models")["n_routed_experts"])
    assert (s.loc[moe, "local_experts"] * s.loc[moe, "ep"] == routed).all()
    assert (s.loc[moe, "experts_touched_local"] <= s.loc[moe, "local_experts"]).all()
    assert (s.loc[moe, "experts_touched_local"] <= s.loc[moe, "routed_tok_local"]).all()
    # uniform top-8 routing: on average tokens x ep x 8 / ep = 8 x tokens land on each GPU
    ratio = s.loc[moe, "routed_tok_local"] / (8 * s.loc[moe, "tokens_per_step"])
    assert ratio.between(0.3, 3.0).all()
    assert s.loc[~moe, "local_experts"].isna().all()


def test_every_architecture_phase_and_precision_was_recorded(steps):
    have = set(zip(steps["arch"], steps["phase"], steps["weight_precision"]))
    for arch in ("llama-3.1-8b", "llama-3.1-70b", "deepseek-v3"):
        for phase in ("decode", "prefill"):
            for prec in ("bf16", "fp8"):
                assert (arch, phase, prec) in have, (arch, phase, prec)
    assert set(steps.loc[steps["arch"] == "llama-3.1-70b", "tp"]) == {1, 2, 4, 8}
    assert {1, 8} <= set(steps.loc[steps["arch"] == "deepseek-v3", "ep"])
    # the Qwen3-MoE run: the 30B whole on one GPU, the 235B slice with tensor-parallel
    # experts (tp=8) and with expert parallelism (ep=8), BF16
    for arch in ("qwen3-30b-a3b", "qwen3-235b-a22b-2507"):
        for phase in ("decode", "prefill"):
            assert (arch, phase, "bf16") in have, (arch, phase)
    q = steps[steps["arch"] == "qwen3-235b-a22b-2507"]
    assert set(zip(q["tp"], q["ep"])) == {(8, 1), (1, 8)}


def test_checked_rows_were_close_to_float32(steps):
    steps_ = steps[steps["phase"].isin(["decode", "prefill"])]
    checked = steps_.groupby(["arch", "phase", "weight_precision"])["check_rel_error_ratio"].count()
    assert (checked > 0).all(), checked[checked == 0]
    bf = steps["weight_precision"] == "bf16"
    assert (steps.loc[bf, "check_rel_error_ratio"].dropna() < 0.02).all()
    assert (steps["check_rel_error_ratio"].dropna() < 0.1).all()


def test_whole_8b_decode_is_not_faster_than_reading_its_weights(steps):
    """A step that beats the datasheet bandwidth on its weights alone was not measured right."""
    m = D.row("models", "llama-3.1-8b")
    hbm_bytes_per_s = 4.8e12  # H200 datasheet, an upper bound on any achieved rate
    s = steps[(steps["arch"] == "llama-3.1-8b") & (steps["phase"] == "decode")]
    assert len(s)
    for _, r in s.iterrows():
        byte_w = 2.0 if r["weight_precision"] == "bf16" else 1.0
        # all but the embedding table (read one row per token) is read every step
        weight_bytes = (m["total_params"] - m["n_vocab"] * m["hidden_dim"]) * byte_w
        kv_bytes = (
            r["n_sequences"]
            * r["context_tok"]
            * 2
            * m["n_layers"]
            * m["n_kv_heads"]
            * m["head_dim"]
            * 2
        )
        assert r["median_s"] > (weight_bytes + kv_bytes) / hbm_bytes_per_s, r.name


def test_decode_time_grows_with_context_and_batch(steps):
    s = steps[(steps["arch"] == "llama-3.1-8b") & (steps["phase"] == "decode")
              & (steps["weight_precision"] == "bf16")]
    for b, g in s.groupby("n_sequences"):
        t = g.sort_values("context_tok")["median_s"].to_numpy()
        assert np.all(np.diff(t) > 0), b
    for ctx, g in s.groupby("context_tok"):
        t = g.sort_values("n_sequences")["median_s"].to_numpy()
        assert np.all(np.diff(t) > 0), ctx


def test_columns_match_the_script():
    meta = yaml.safe_load((D.DATA_DIR / "gpu_steps.yaml").read_text())
    assert list(meta["columns"]) == load_script("gpu_steps").COLUMNS
    header = (D.DATA_DIR / "gpu_steps.csv").read_text().splitlines()[0].split(",")
    assert header == load_script("gpu_steps").COLUMNS


def test_a_name_without_unit_needs_a_reason(tmp_path):
    for n in D.tables():
        shutil.copy(D.DATA_DIR / f"{n}.csv", tmp_path / f"{n}.csv")
        shutil.copy(D.DATA_DIR / f"{n}.yaml", tmp_path / f"{n}.yaml")
    side = tmp_path / "gpu_steps.yaml"
    meta = yaml.safe_load(side.read_text())
    meta["columns"]["tp"]["unit_not_in_name"] = " "
    side.write_text(yaml.safe_dump(meta, sort_keys=False))
    with pytest.raises(D.DataError, match=r"column 'tp': 'unit_not_in_name' must say why"):
        D.load("gpu_steps", tmp_path)
    del meta["columns"]["tp"]["unit_not_in_name"]
    side.write_text(yaml.safe_dump(meta, sort_keys=False))
    with pytest.raises(D.DataError, match=r"column 'tp' .*no unit suffix"):
        D.load("gpu_steps", tmp_path)


def test_quick_run_writes_a_loadable_table(tmp_path):
    """The script's --quick mode on the CPU writes the same layout (needs torch; skipped
    without)."""
    pytest.importorskip("torch")
    df = quick_table("gpu_steps", "gpu_steps", tmp_path, "--budget-s", "60")
    assert len(df) > 20 and (df["median_s"] > 0).all()
