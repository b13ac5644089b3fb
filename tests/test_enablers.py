"""The architecture notebook's analyses (econ.enablers): published figures, hand-worked closed
forms and the relations the waterfall must keep. The Day-6 tables are tested with their module
(test_deployments.py)."""
import math

import numpy as np
import pandas as pd
import pytest

import econ

MODELS = econ.data.load("models")
PUB = econ.data.load("published")
H800 = econ.data.row("hardware", "h800-sxm")
EFF = dict(flop_efficiency_frac=0.68, bandwidth_efficiency_frac=0.9)


def test_moe_comparison_against_the_published_split_and_flop_tables():
    t = econ.moe_sparsity_table(["deepseek-v3", "llama-3.1-405b"], H800, 4989.0, 4096.0)
    assert t.loc["deepseek-v3", "active_param_frac"] == pytest.approx(37 / 671, rel=0.01)
    assert t.loc["llama-3.1-405b", "active_param_frac"] == 1.0
    for name in t.index:  # ISCA'25 Table 2, 4,096-token sequences
        assert t.loc[name, "training_flop_per_tok"] == pytest.approx(
            PUB.loc[f"{name}-training-flop-per-tok", "value"], rel=0.02)
    # a decoded token costs at least 2 FLOPs per active parameter, attention on top
    assert (t["decode_flop_per_tok"] > 2.0 * t["active_params"]).all()
    assert t.loc["deepseek-v3", "bf16_weight_bytes"] == pytest.approx(2.0 * 671e9)
    same = econ.moe_sparsity_table(MODELS.loc[["deepseek-v3"]], "h800-sxm", 4989.0, 4096.0)
    assert same.loc["deepseek-v3", "decode_flop_per_tok"] == t.loc["deepseek-v3",
                                                                   "decode_flop_per_tok"]
    with pytest.raises(KeyError, match="unknown model"):
        econ.moe_sparsity_table(["gpt-9"], H800, 4989.0, 4096.0)
    with pytest.raises(ValueError, match="context_tok"):
        econ.moe_sparsity_table(["deepseek-v3"], H800, -1.0, 4096.0)


def test_kv_cache_table_reproduces_the_published_bytes_per_token():
    t = econ.kv_cache_table(MODELS)
    have = t["published_bytes_per_tok"].notna()
    assert have.sum() >= 3
    np.testing.assert_allclose(t.loc[have, "kv_cache_bytes_per_tok"],
                               t.loc[have, "published_bytes_per_tok"], rtol=1e-3)
    # by hand from the configs: MLA (512 + 64) x 61 layers x 2 bytes; GQA 2 x 8 x 128 x 126 x 2
    assert t.loc["deepseek-v3", "kv_cache_bytes_per_tok"] == (512 + 64) * 61 * 2
    assert t.loc["llama-3.1-405b", "kv_cache_bytes_per_tok"] == 2 * 8 * 128 * 126 * 2
    assert t.loc["deepseek-v3", "source_url"].startswith("http")
    assert t.loc["deepseek-67b", "source_url"] == ""


def test_kv_cache_reduction_by_hand_and_v2s_93_percent():
    v2, b67 = (512 + 64) * 60, 2 * 8 * 128 * 95  # cached elements per token
    assert econ.kv_cache_reduction_frac("deepseek-v2", "deepseek-67b") == pytest.approx(
        1 - v2 / b67)
    got = econ.kv_cache_reduction_frac("deepseek-v2", "deepseek-67b", np.array([2.0, 0.75]))
    assert got.shape == (2,) and got[1] == pytest.approx(1 - 0.75 * v2 / (2 * b67))
    red = econ.deployed_kv_cache_reduction("deepseek-v2", "deepseek-67b", 0.75)
    assert list(red.index) == ["deepseek-v2:bf16", "deepseek-v2:deployed"]
    assert red["deepseek-v2:deployed"] == pytest.approx(
        PUB.loc["deepseek-v2-kv-cache-reduction", "value"], rel=0.01)
    with pytest.raises(ValueError, match="deployed_bytes_per_elem"):
        econ.deployed_kv_cache_reduction("deepseek-v2", "deepseek-67b", 0.0)


def test_node_concurrency_by_hand():
    t = econ.node_concurrency(MODELS.loc[["llama-3.1-405b", "deepseek-v3"]], H800, "fp8",
                              [32768.0, 131072.0], reserve_frac=0.1)
    node = 8 * 80e9
    row = t[(t["model"] == "llama-3.1-405b") & (t["context_tok"] == 32768.0)].iloc[0]
    nodes = math.ceil(405e9 / (node * 0.9))
    assert row["nodes_count"] == nodes and row["context"] == "32k"
    kv = 2 * 8 * 128 * 126 * 2
    assert row["sequences_per_node_count"] == pytest.approx(
        math.floor((nodes * node * 0.9 - 405e9) / (kv * 32768.0)) / nodes)
    # fewer fit at a longer context; MLA keeps more in flight than the GQA 405B
    v3 = t[t["model"] == "deepseek-v3"].set_index("context_tok")["sequences_per_node_count"]
    ll = t[t["model"] == "llama-3.1-405b"].set_index("context_tok")["sequences_per_node_count"]
    assert v3[131072.0] < v3[32768.0] and (v3 > ll).all()
    short = econ.node_concurrency(["deepseek-67b"], H800, "fp8", [131072.0])
    assert short.empty  # its 4,096-token window does not reach 128k


def test_precision_table_halves_bytes_and_doubles_the_peak():
    t = econ.precision_table("deepseek-v3", H800, ["bf16", "fp8", "fp8"])
    assert list(t.index) == ["bf16", "fp8"]
    assert t.loc["fp8", "weight_bytes"] == pytest.approx(t.loc["bf16", "weight_bytes"] / 2)
    assert t.loc["fp8", "peak_flop_per_s"] == pytest.approx(2 * t.loc["bf16", "peak_flop_per_s"],
                                                            rel=1e-3)  # dense datasheet figures
    assert t.loc["fp8", "nodes_to_hold_count"] <= t.loc["bf16", "nodes_to_hold_count"]


@pytest.mark.parametrize("a", [0.875, np.array([0.85, 0.9]),
                               pd.Series([0.85, 0.9], index=["low", "high"])])
def test_mtp_speedup_is_one_plus_acceptance_net_of_one_layer_in_61(a):
    got = econ.model_mtp_speedup("deepseek-v3", a)
    want = (1 + np.asarray(a, float)) / (1 + 1 / 61)
    np.testing.assert_allclose(np.asarray(got, float), want, rtol=1e-12)
    assert type(got) is type(a) or (np.ndim(a) == 0 and np.ndim(got) == 0)
    assert np.all(np.abs(np.asarray(got) / PUB.loc["deepseek-v3-mtp-speedup", "value"] - 1) < 0.05)


def _waterfall(price=2.0, ctx=4989.0):
    return econ.enabler_waterfall("llama-3.1-405b", "deepseek-v3", H800, "fp8", ctx, price, 0.875,
                                  reserve_frac=0.1, **EFF)


def test_waterfall_steps_keep_their_relations():
    w = _waterfall()
    assert list(w["subject"]) == ["llama-3.1-405b:baseline", "deepseek-v3:+moe",
                                  "deepseek-v3:+mla", "deepseek-v3:+fp8", "deepseek-v3:+mtp"]
    # the baseline is what decode_cost_usd_per_mtok says for the dense model on its nodes
    dense = econ.decode_cost_usd_per_mtok("llama-3.1-405b", H800, "bf16", None, 4989.0, 2.0,
                                          n_devices=int(w["n_devices"].iloc[0]),
                                          reserve_frac=0.1, **EFF)
    assert w["cost_usd_per_mtok"].iloc[0] == pytest.approx(dense)
    assert (np.diff(w["cost_usd_per_mtok"]) < 0).all()  # every enabler saves here
    np.testing.assert_allclose(w["step_ratio"].iloc[1:],
                               w["cost_usd_per_mtok"].to_numpy()[:-1]
                               / w["cost_usd_per_mtok"].to_numpy()[1:])
    assert math.isnan(w["step_ratio"].iloc[0])
    assert w["n_devices"].tolist() == (w["nodes_count"] * 8).astype(int).tolist()
    # cost is linear in the GPU-hour price; throughput does not depend on it
    w4 = _waterfall(price=4.0)
    np.testing.assert_allclose(w4["cost_usd_per_mtok"], 2 * w["cost_usd_per_mtok"])
    np.testing.assert_allclose(w4["decode_tok_per_s"], w["decode_tok_per_s"])


def test_cost_by_context_agrees_with_the_waterfall_and_rises_with_context():
    ctx = np.array([1024.0, 4989.0, 32768.0])
    c = econ.enabler_cost_by_context("llama-3.1-405b", "deepseek-v3", H800, "fp8", ctx, 2.0,
                                     0.875, reserve_frac=0.1, **EFF)
    w = _waterfall().set_index("step")
    at = c[c["context_tok"] == 4989.0].set_index("step")["cost_usd_per_mtok"]
    np.testing.assert_allclose(at.loc[w.index], w["cost_usd_per_mtok"], rtol=1e-9)
    mla = c[c["step"] == "2 + MLA"]["cost_usd_per_mtok"].to_numpy()
    assert (np.diff(mla) > 0).all()


def test_mtp_speedup_by_batch_stays_below_one_plus_acceptance():
    t = econ.mtp_speedup_by_batch("deepseek-v3", H800, "fp8", 16, [1024.0, 4989.0], 0.875,
                                  reserve_frac=0.1, **EFF)
    model = t[t["context"] != "published"]
    assert set(model["context"]) == {"1,024-token context", "4,989-token context"}
    assert (model["speedup_ratio"] <= 1.875 + 1e-9).all() and (model["speedup_ratio"] > 0).all()
    pub = t[t["context"] == "published"]
    assert len(pub) == 2 and (pub["speedup_ratio"] == PUB.loc["deepseek-v3-mtp-speedup",
                                                              "value"]).all()
    none = econ.mtp_speedup_by_batch("deepseek-v3", H800, "fp8", 16, [4989.0], 0.875,
                                     published_speedup=None, **EFF)
    assert "published" not in set(none["context"])


def test_result_rows_keep_the_notebooks_metric_names_and_validate():
    moe = econ.moe_sparsity_table(["deepseek-v3", "llama-3.1-405b"], H800, 4989.0, 4096.0)
    kv = econ.kv_cache_table(MODELS)
    rows = econ.enabler_result_rows(
        moe, kv, econ.deployed_kv_cache_reduction("deepseek-v2", "deepseek-67b", 0.75),
        econ.node_concurrency(MODELS, H800, "fp8", [32768.0], 0.1),
        econ.precision_table("deepseek-v3", H800, ["bf16", "fp8"], 0.1),
        float(econ.model_mtp_speedup("deepseek-v3", 0.875)), _waterfall(),
        moe_model="deepseek-v3", serving_gpu="h800-sxm")
    res = econ.results_frame("architecture_efficiency", rows)
    assert set(res["metric"]) == {
        "active_param_frac", "decode_flop_per_tok", "training_flop_per_tok",
        "kv_cache_bytes_per_token", "kv_cache_reduction_frac",
        "concurrent_sequences_per_node_count", "weight_bytes", "peak_flop_per_s", "mtp_speedup",
        "cost_usd_per_mtok", "prefill_cost_usd_per_mtok", "cost_reduction_ratio"}
    keyed = res.set_index(["metric", "subject"])
    assert keyed.loc[("active_param_frac", "deepseek-v3"), "verdict"].startswith("reproduced")
    assert ("prefill_cost_usd_per_mtok", "deepseek-v3:+mtp") not in keyed.index
    w = _waterfall()
    assert keyed.loc[("cost_reduction_ratio", "llama-3.1-405b-bf16-to-deepseek-v3-style"),
                     "value"] == pytest.approx(w["cost_usd_per_mtok"].iloc[0]
                                               / w["cost_usd_per_mtok"].iloc[-1])
    table = econ.verdict_table(res, claims=econ.enabler_claims("deepseek-v3", "llama-3.1-405b",
                                                               "fp8"))
    assert len(table) >= len(econ.enabler_claims("deepseek-v3", "llama-3.1-405b", "fp8"))


def test_prediction_table_says_which_predictions_land():
    res = econ.results_frame("nb", [
        dict(metric="decode_tok_per_s_per_node_predicted", subject="a", value=12000.0,
             published_value=14800.0),
        dict(metric="decode_tok_per_s_per_node_predicted", subject="b", value=29000.0,
             published_value=14800.0)])
    t = econ.prediction_table(res, {("decode_tok_per_s_per_node_predicted", "a"): "added",
                                    ("decode_tok_per_s_per_node_predicted", "b"): "overlapped"},
                              0.3)
    assert list(t["error"]) == ["-19%", "+96%"] and list(t["within 30%"]) == ["yes", "no"]
    with pytest.raises(KeyError, match="no result row"):
        econ.prediction_table(res, {("decode_tok_per_s_per_node_predicted", "c"): "?"}, 0.3)
    # Day-6: five figures in two cases; the V2 ratio; the measured units of layout_checks
    assert len(econ.serving_prediction_claims()) == 11 + len(econ.deployments.LAYOUT_CHECKS)


def test_mtp_acceptance_is_the_models_own_none_without_mtp_and_v3s_otherwise():
    pub = econ.data.load("published")
    v3 = econ.mtp_acceptance("deepseek-v3", pub)
    assert v3["value"] == pytest.approx(pub.loc["deepseek-v3-mtp-acceptance", "value"])
    assert v3["source"] == "deepseek-v3-mtp-acceptance"
    none = econ.mtp_acceptance("llama-3.1-70b", pub)  # no MTP modules: drafts nothing
    assert none["value"] == 0.0 and econ.model_mtp_speedup("llama-3.1-70b", none["value"]) == 1.0
    r1 = econ.mtp_acceptance("deepseek-r1", pub)      # MTP modules, no acceptance of its own
    assert r1["source"] == "deepseek-v3-mtp-acceptance"
