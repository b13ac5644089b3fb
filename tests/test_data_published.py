"""data/published and data/api_prices: the rows agree with the arithmetic their sources state.

Each check is a closed form written in (or implied line by line by) the source itself, so a typo
in a row, or a figure copied from the wrong table, fails here: DeepSeek-V3's Table 1 (stages sum,
GPU-hours x $2), the Day-6 cost and cost-profit arithmetic, the Llama 3.1 model card's GPU-hour
sum, KV-cache bytes per token from the published model configs, and so on.
"""
import math

import pytest

from econ import data as D


@pytest.fixture(scope="module")
def pub():
    return D.load("published")


@pytest.fixture(scope="module")
def prices():
    return D.load("api_prices")


def v(pub, name):
    """The published value of row ``name``."""
    return float(pub.loc[name, "value"])


def close(a, b, rel):
    return math.isclose(a, b, rel_tol=rel)


# --- table shape -----------------------------------------------------------------------------

REQUIRED_PUBLISHED = [
    "deepseek-v3-pretraining-gpu-hours", "deepseek-v3-context-extension-gpu-hours",
    "deepseek-v3-post-training-gpu-hours", "deepseek-v3-training-gpu-hours",
    "deepseek-v3-rental-usd-per-hour", "deepseek-v3-pretraining-cost-usd",
    "deepseek-v3-context-extension-cost-usd", "deepseek-v3-post-training-cost-usd",
    "deepseek-v3-training-cost-usd", "deepseek-v3-training-tok", "deepseek-v3-cluster-devices",
    "deepseek-v3-per-trillion-tok-gpu-hours", "deepseek-v3-total-params",
    "deepseek-v3-active-params", "deepseek-v3-mtp-acceptance", "deepseek-v3-mtp-speedup",
    "deepseek-day6-average-nodes", "deepseek-day6-peak-nodes", "deepseek-day6-gpus-per-node",
    "deepseek-day6-rental-usd-per-hour", "deepseek-day6-serving-cost-usd-per-day",
    "deepseek-day6-input-tok-per-day", "deepseek-day6-cache-hit-input-tok-per-day",
    "deepseek-day6-output-tok-per-day", "deepseek-day6-theoretical-revenue-usd-per-day",
    "deepseek-day6-cost-profit-margin", "deepseek-day6-prefill-tok-per-s-per-node",
    "deepseek-day6-decode-tok-per-s-per-node", "deepseek-day6-per-user-output-tok-per-s",
    "deepseek-day6-average-kv-length-tok", "deepseek-r1-price-cache-hit-input",
    "deepseek-r1-price-cache-miss-input", "deepseek-r1-price-output",
    "deepseek-v2-kv-cache-reduction", "deepseek-v2-max-generation-throughput-ratio",
    "deepseek-v2-training-cost-saving", "deepseek-v2-per-trillion-tok-gpu-hours",
    "deepseek-67b-per-trillion-tok-gpu-hours", "deepseek-v2-generation-tok-per-s-per-node",
    "llama-3.1-405b-training-flop", "llama-3.1-405b-training-tok", "llama-3.1-405b-mfu",
    "llama-3.1-405b-cluster-devices", "llama-3.1-405b-training-gpu-hours",
    "nvidia-fy2025-revenue-usd", "nvidia-fy2025-gross-margin",
    "nvidia-fy2025-data-center-revenue-usd", "nvidia-market-cap-loss-2025-01-27",
    "flashmla-decode-memory-bound-bytes-per-s", "deepgemm-fp8-flop-per-s", "tinyzero-cost-usd",
    "deepseek-r1-distillation-samples", "deepseek-v3-decode-tpot-floor-s",
]

REQUIRED_PRICES = ["openai-o1", "openai-gpt-4o", "anthropic-claude-3.5-sonnet", "deepseek-v3",
                   "deepseek-r1", "groq-llama-3.3-70b", "cerebras-llama-3.1-70b"]


def test_published_has_the_required_rows(pub):
    missing = sorted(set(REQUIRED_PUBLISHED) - set(pub.index))
    assert not missing, f"published.csv lacks {missing}"


def test_api_prices_has_the_required_rows(prices):
    missing = sorted(set(REQUIRED_PRICES) - set(prices.index))
    assert not missing, f"api_prices.csv lacks {missing}"


def test_keys_are_kebab_case(pub, prices):
    for key in list(pub.index) + list(prices.index):
        assert key == key.lower() and " " not in key and "_" not in key, key


def test_unit_matches_metric_suffix(pub):
    for name, row in pub.iterrows():
        assert D.unit_of(row["metric"]) == row["unit"], name


def test_every_row_quotes_its_source(pub):
    assert pub["quote"].map(lambda q: isinstance(q, str) and len(q) > 10).all()
    assert set(pub["source_kind"]) <= {"primary", "secondary", "derived"}
    # a derived figure shows its arithmetic on the quoted ones
    derived = pub[pub["source_kind"] == "derived"]
    assert derived["notes"].str.startswith("Derived: ").all(), list(derived.index)


def test_ranges_bracket_the_value(pub):
    for name, row in pub.iterrows():
        if not math.isnan(row["low"]):
            assert row["low"] <= row["value"], name
        if not math.isnan(row["high"]):
            assert row["value"] <= row["high"], name


def test_fractions_are_fractions(pub):
    fr = pub[pub["unit"] == "fraction"]
    assert ((fr["value"] >= 0) & (fr["value"] <= 1)).all(), fr.index[(fr["value"] > 1)].tolist()


def test_percentages_above_100_are_ratios(pub):
    # 545% cannot be a fraction (capped at 1): it is stored as the ratio 5.45.
    assert pub.loc["deepseek-day6-cost-profit-margin", "metric"].endswith("_ratio")
    assert v(pub, "deepseek-day6-cost-profit-margin") == pytest.approx(5.45)


# --- DeepSeek-V3 training (V3 technical report, Table 1 and Section 1) --------------------

def test_v3_stage_gpu_hours_sum_to_total(pub):
    stages = sum(v(pub, f"deepseek-v3-{s}-gpu-hours")
                 for s in ("pretraining", "context-extension", "post-training"))
    assert close(stages, v(pub, "deepseek-v3-training-gpu-hours"), 1e-9)


@pytest.mark.parametrize("stage", ["pretraining", "context-extension", "post-training", "training"])
def test_v3_cost_is_gpu_hours_times_rental(pub, stage):
    cost = v(pub, f"deepseek-v3-{stage}-gpu-hours") * v(pub, "deepseek-v3-rental-usd-per-hour")
    assert close(cost, v(pub, f"deepseek-v3-{stage}-cost-usd"), 0.005)


def test_v3_stage_costs_sum_to_total(pub):
    stages = sum(v(pub, f"deepseek-v3-{s}-cost-usd")
                 for s in ("pretraining", "context-extension", "post-training"))
    assert close(stages, v(pub, "deepseek-v3-training-cost-usd"), 1e-9)


def test_v3_gpu_hours_per_trillion_tokens(pub):
    per_ttok = v(pub, "deepseek-v3-pretraining-gpu-hours") / (
        v(pub, "deepseek-v3-training-tok") / 1e12
    )
    assert close(per_ttok, v(pub, "deepseek-v3-per-trillion-tok-gpu-hours"), 0.005)


def test_v3_days_per_trillion_tokens_on_the_cluster(pub):
    days = (v(pub, "deepseek-v3-per-trillion-tok-gpu-hours")
            / v(pub, "deepseek-v3-cluster-devices") / 24.0)
    assert close(days, v(pub, "deepseek-v3-per-trillion-tok-days"), 0.02)  # 3.66 vs "3.7"


def test_v3_pretraining_took_under_two_months(pub):
    days = (
        v(pub, "deepseek-v3-pretraining-gpu-hours") / v(pub, "deepseek-v3-cluster-devices") / 24.0
    )
    assert 45 < days < 61  # "completed in less than two months": 54.2 days


def test_v3_is_sparse(pub):
    assert v(pub, "deepseek-v3-active-params") < v(pub, "deepseek-v3-total-params") / 10


def test_same_rental_price_for_training_and_serving(pub):
    assert (
        v(pub, "deepseek-v3-rental-usd-per-hour")
        == v(pub, "deepseek-day6-rental-usd-per-hour")
        == 2.0
    )


# --- DeepSeek Day-6 inference system (2025-03-01) ----------------------------------------

def test_day6_daily_cost(pub):
    cost = (v(pub, "deepseek-day6-average-nodes") * v(pub, "deepseek-day6-gpus-per-node") * 24.0
            * v(pub, "deepseek-day6-rental-usd-per-hour"))
    assert cost == pytest.approx(87_072.0)
    assert close(cost, v(pub, "deepseek-day6-serving-cost-usd-per-day"), 1e-9)


def test_day6_cost_profit_margin(pub):
    rev = v(pub, "deepseek-day6-theoretical-revenue-usd-per-day")
    cost = v(pub, "deepseek-day6-serving-cost-usd-per-day")
    assert close((rev - cost) / cost, v(pub, "deepseek-day6-cost-profit-margin"), 0.005)


def test_day6_revenue_from_tokens_at_r1_prices(pub):
    hit = v(pub, "deepseek-day6-cache-hit-input-tok-per-day")
    miss = v(pub, "deepseek-day6-input-tok-per-day") - hit
    out = v(pub, "deepseek-day6-output-tok-per-day")
    rev = (hit * v(pub, "deepseek-r1-price-cache-hit-input")
           + miss * v(pub, "deepseek-r1-price-cache-miss-input")
           + out * v(pub, "deepseek-r1-price-output")) / 1e6
    # token counts are rounded to 1B in the source: $562,100 vs the stated $562,027
    assert close(rev, v(pub, "deepseek-day6-theoretical-revenue-usd-per-day"), 0.002)


def test_day6_cache_hit_share(pub):
    share = v(pub, "deepseek-day6-cache-hit-input-tok-per-day") / v(
        pub, "deepseek-day6-input-tok-per-day"
    )
    assert abs(share - v(pub, "deepseek-day6-cache-hit-share")) < 0.001


def test_day6_per_node_throughputs_fill_the_average_fleet(pub):
    # node-seconds in prefill + node-seconds in decode = average nodes x one day (to ~0.1%):
    # the per-node figures are the day's tokens over the node-time each phase used.
    prefill_node_s = v(pub, "deepseek-day6-input-tok-per-day") / v(
        pub, "deepseek-day6-prefill-tok-per-s-per-node"
    )
    decode_node_s = v(pub, "deepseek-day6-output-tok-per-day") / v(
        pub, "deepseek-day6-decode-tok-per-s-per-node"
    )
    fleet_node_s = v(pub, "deepseek-day6-average-nodes") * 86_400.0
    assert close(prefill_node_s + decode_node_s, fleet_node_s, 0.02)


def test_day6_average_below_peak(pub):
    assert v(pub, "deepseek-day6-average-nodes") < v(pub, "deepseek-day6-peak-nodes")


def test_r1_prices_agree_across_tables(pub, prices):
    r1 = prices.loc["deepseek-r1"]
    assert r1["input_usd_per_mtok"] == v(pub, "deepseek-r1-price-cache-miss-input")
    assert r1["cached_input_usd_per_mtok"] == v(pub, "deepseek-r1-price-cache-hit-input")
    assert r1["output_usd_per_mtok"] == v(pub, "deepseek-r1-price-output")


# --- DeepSeek-V2 and MTP ---------------------------------------------------------------------

def test_v2_training_cost_saving(pub):
    saving = 1 - v(pub, "deepseek-v2-per-trillion-tok-gpu-hours") / v(
        pub, "deepseek-67b-per-trillion-tok-gpu-hours"
    )
    assert abs(saving - v(pub, "deepseek-v2-training-cost-saving")) < 0.001


def test_mtp_acceptance_range(pub):
    row = pub.loc["deepseek-v3-mtp-acceptance"]
    assert (row["low"], row["high"]) == (0.85, 0.90)
    assert row["value"] == pytest.approx((row["low"] + row["high"]) / 2)
    # one extra drafted token accepted with probability p gives at most 1 + p tokens per step
    assert v(pub, "deepseek-v3-mtp-speedup") <= 1 + row["high"]


# --- Llama 3.1 -------------------------------------------------------------------------------

def test_llama_model_card_gpu_hours_sum(pub):
    parts = sum(v(pub, f"llama-3.1-{m}-training-gpu-hours") for m in ("8b", "70b", "405b"))
    assert close(parts, v(pub, "llama-3.1-family-training-gpu-hours"), 0.001)


def test_llama_405b_flops_are_6nd(pub):
    six_nd = 6 * v(pub, "llama-3.1-405b-total-params") * v(pub, "llama-3.1-405b-training-tok")
    assert close(six_nd, v(pub, "llama-3.1-405b-training-flop"), 0.02)


H100_DENSE_BF16_FLOP_PER_S = 989.4e12  # NVIDIA H100 SXM whitepaper, dense (no sparsity)


@pytest.mark.parametrize("tag", ["8k-gpus", "16k-gpus", "16k-gpus-131k-ctx"])
def test_llama_table4_mfu_is_throughput_over_peak(pub, tag):
    flop_s = v(pub, f"llama-3.1-405b-table4-{tag}-flop-per-s")
    mfu = v(pub, f"llama-3.1-405b-table4-{tag}-mfu")
    # both columns are rounded in the source (TFLOPs to 10, MFU to 1%)
    assert close(flop_s / mfu, H100_DENSE_BF16_FLOP_PER_S, 0.03)


def test_llama_mfu_range_spans_table4(pub):
    t4 = [
        v(pub, f"llama-3.1-405b-table4-{t}-mfu")
        for t in ("8k-gpus", "16k-gpus", "16k-gpus-131k-ctx")
    ]
    row = pub.loc["llama-3.1-405b-mfu"]
    assert (row["low"], row["high"]) == (min(t4), max(t4))


def test_llama_405b_card_hours_imply_plausible_mfu(pub):
    # Not stated by Meta: 3.8e25 FLOP over the card's 30.84M H100-hours is ~35% average MFU,
    # below the best Table 4 configuration (43%) as an all-in average (failures, restarts) must be.
    mfu = v(pub, "llama-3.1-405b-training-flop") / (
        v(pub, "llama-3.1-405b-training-gpu-hours") * 3600 * H100_DENSE_BF16_FLOP_PER_S)
    assert 0.25 < mfu < pub.loc["llama-3.1-405b-mfu", "high"]


def test_training_flop_per_token_is_about_6n(pub):
    # ISCA '25 Table 2 (seq 4096) adds attention on top of 6 x active parameters
    for model, n_active in (("deepseek-v3", v(pub, "deepseek-v3-active-params")),
                            ("llama-3.1-405b", v(pub, "llama-3.1-405b-total-params"))):
        flop = v(pub, f"{model}-training-flop-per-tok")
        assert 6 * n_active <= flop <= 1.2 * 6 * n_active, model


# --- KV cache bytes per token from the published configs --------------------------------------

def test_kv_bytes_per_token_from_configs(pub):
    # DeepSeek-V3 config_671B.json: 61 layers, kv_lora_rank 512 + qk_rope_head_dim 64, BF16
    assert v(pub, "deepseek-v3-kv-cache-bytes-per-tok") == 61 * (512 + 64) * 2
    # Llama 3.1 405B: 126 layers, 8 KV heads, head dim 128; K and V; BF16
    assert v(pub, "llama-3.1-405b-kv-cache-bytes-per-tok") == 2 * 126 * 8 * 128 * 2
    # Qwen2.5-72B: 80 layers, 8 KV heads, head dim 128
    assert v(pub, "qwen2.5-72b-kv-cache-bytes-per-tok") == 2 * 80 * 8 * 128 * 2


def test_tpot_floor_and_tokens_per_second(pub):
    assert int(1 / v(pub, "deepseek-v3-decode-tpot-floor-s")) == v(
        pub, "deepseek-v3-decode-ceiling-tok-per-s"
    )


# --- NVIDIA and kernels -----------------------------------------------------------------------

def test_nvidia_segments_within_totals(pub):
    assert v(pub, "nvidia-q4fy2025-data-center-revenue-usd") < v(
        pub, "nvidia-fy2025-data-center-revenue-usd"
    )
    assert v(pub, "nvidia-fy2025-data-center-revenue-usd") < v(pub, "nvidia-fy2025-revenue-usd")


def test_market_cap_loss_range(pub):
    row = pub.loc["nvidia-market-cap-loss-2025-01-27"]
    assert 5.8e11 < row["low"] <= row["value"] <= row["high"] < 6.0e11


def test_flashmla_got_faster(pub):
    assert (v(pub, "flashmla-decode-compute-bound-flop-per-s-2025-04")
            > v(pub, "flashmla-decode-compute-bound-flop-per-s"))


# --- API prices -------------------------------------------------------------------------------

def test_price_ordering(prices):
    for name, row in prices.iterrows():
        assert row["input_usd_per_mtok"] <= row["output_usd_per_mtok"], name
        if not math.isnan(row["cached_input_usd_per_mtok"]):
            assert row["cached_input_usd_per_mtok"] < row["input_usd_per_mtok"], name


def test_off_peak_is_cheaper(prices):
    for model in ("deepseek-v3", "deepseek-r1"):
        std, off = prices.loc[model], prices.loc[f"{model}-off-peak"]
        for col in ("input_usd_per_mtok", "cached_input_usd_per_mtok", "output_usd_per_mtok"):
            assert off[col] < std[col], (model, col)
    assert prices.loc["deepseek-v3-off-peak", "input_usd_per_mtok"] == pytest.approx(
        prices.loc["deepseek-v3", "input_usd_per_mtok"] / 2)


def test_r1_vs_o1_output_price_gap_is_about_27x(prices):
    ratio = (
        prices.loc["openai-o1", "output_usd_per_mtok"]
        / prices.loc["deepseek-r1", "output_usd_per_mtok"]
    )
    assert 26 < ratio < 28


def test_price_model_keys_match_models_table_where_known(prices):
    models = set(D.keys("models")) if "models" in D.tables() else set()
    if not models:
        pytest.skip("data/models.csv not present")
    for name in ("deepseek-r1", "deepseek-v3", "cerebras-llama-3.1-70b", "cerebras-llama-3.1-8b"):
        assert prices.loc[name, "model"] in models, name
