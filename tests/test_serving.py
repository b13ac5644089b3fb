"""econ.serving: closed forms, the phase roofline of an expert-parallel unit, input checks.

Tests check mechanisms (communication = bytes / rate, overlap = max vs sum, balls-in-bins,
the batch rule, memory, consistency with econ.inference's byte and FLOP counts) and one
published figure the model reaches with sourced inputs: the V2 report's 5.76x. The Day-6
per-node rates are predicted and reported (serving_result_rows), not pinned here.
"""
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import econ
from econ import data as D
from econ import serving as S
from econ.results import results_frame

DEC = S.DAY6_DECODE
PRE = S.DAY6_PREFILL
PEAK = dict(matmul_efficiency_frac=1.0, attention_efficiency_frac=1.0,
            bandwidth_efficiency_frac=1.0)
V3 = D.row("models", "deepseek-v3")
H800 = D.row("hardware", "h800-sxm")


def dep(name, **changes):
    """A deployment row as a dict with some columns changed (what-if units)."""
    d = dict(D.row("deployments", name).items(), name=name + "-variant")
    d.update(changes)
    return d


# --- closed forms ------------------------------------------------------------------------------

def test_link_time_is_bytes_over_rate():
    assert S.link_time_s(1e9, 50e9) == pytest.approx(0.02)
    assert S.link_time_s(0.0, 50e9) == 0.0
    # ISCA'25 §2.3.2: (1 B + 2 B) x 32 tokens x 9 experts x 7K / 50 GB/s = 120.96 us
    assert S.link_time_s(3 * 32 * 9 * 7000, 50e9) == pytest.approx(120.96e-6)
    # and x 2 microbatches x 61 layers = 14.76 ms TPOT, the published decode floor
    floor = D.load("published").loc["deepseek-v3-decode-tpot-floor-s", "value"]
    assert 2 * 61 * S.link_time_s(3 * 32 * 9 * 7000, 50e9) == pytest.approx(floor, rel=1e-3)


def test_overlap_is_max_and_no_overlap_is_sum():
    assert S.overlap_time_s(3.0, 2.0) == 3.0
    assert S.overlap_time_s(3.0, 5.0) == 5.0
    assert S.overlap_time_s(3.0, 2.0, overlap=False) == 5.0
    assert S.overlap_time_s(3.0, 0.0, overlap=False) == S.overlap_time_s(3.0, 0.0) == 3.0


@given(st.floats(0, 1e3), st.floats(0, 1e3))
def test_overlap_never_slower_and_at_most_halves(c, m):
    hidden, added = S.overlap_time_s(c, m), S.overlap_time_s(c, m, overlap=False)
    assert hidden <= added + 1e-12
    assert added <= 2 * hidden + 1e-9


def test_dispatch_combine_bytes():
    # 8 copies of a 7168-wide FP8 state out, BF16 back
    assert S.dispatch_combine_bytes_per_tok(7168, 8) == 8 * 7168 * 3
    assert S.dispatch_combine_bytes_per_tok(7168, 8, 2, 2) == 8 * 7168 * 4
    assert S.dispatch_combine_bytes_per_tok(7168, 0) == 0.0


def _nodes_by_enumeration(k, n):
    # exact expectation of distinct values among k uniform draws from n, by inclusion
    return sum(1 - ((n - 1) / n) ** k for _ in range(n))


@pytest.mark.parametrize("k, n", [(1, 4), (8, 4), (8, 18), (3, 2), (8, 1)])
def test_expected_nodes_touched(k, n):
    assert S.expected_nodes_touched(k, n) == pytest.approx(_nodes_by_enumeration(k, n))
    assert S.expected_nodes_touched(k, n) <= min(k, n) + 1e-12


def test_expected_nodes_touched_limits_and_cap():
    assert S.expected_nodes_touched(1, 18) == pytest.approx(1.0)
    assert S.expected_nodes_touched(1000, 18) == pytest.approx(18.0)
    assert S.expected_nodes_touched(8, 18, max_nodes=4) == 4.0  # node-limited routing
    # the same occupancy formula as econ.expected_experts_touched with one pick per token
    assert S.expected_nodes_touched(8, 4) == pytest.approx(econ.expected_experts_touched(4, 1, 8))


def test_max_load_ratio_closed_form_and_limits():
    assert S.expected_max_load_ratio(100.0, 1) == 1.0
    assert S.expected_max_load_ratio(1000.0, 144) == pytest.approx(1 + math.sqrt(2 * math.log(144)
                                                                                / 1000))
    r = S.expected_max_load_ratio(np.array([10.0, 100.0, 1e4, 1e8]), 144)
    assert np.all(np.diff(r) < 0) and r[-1] == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("n_bins, mean", [(144, 1000), (32, 10_000)])
def test_max_load_ratio_against_simulated_balls_in_bins(n_bins, mean):
    rng = np.random.default_rng(8)
    balls = n_bins * mean
    sims = [np.bincount(rng.integers(0, n_bins, balls), minlength=n_bins).max() / mean
            for _ in range(100)]
    # the leading-order formula sits slightly above the simulated expectation
    assert np.mean(sims) <= S.expected_max_load_ratio(mean, n_bins) <= np.mean(sims) * 1.03


def test_prompt_from_kv_length_round_trip():
    r, kv = 608 / 168, 4989.0
    p = S.prompt_tok_from_kv_length(kv, r)
    g = p / r
    assert p + g / 2 == pytest.approx(kv)
    assert p == pytest.approx(4383.4, abs=0.1)


def test_prefill_context_by_enumeration():
    p, h = 1000, 0.3
    hit = int(p * h)
    positions = np.arange(hit + 1, p + 1)  # computed token i attends to i tokens (itself too)
    assert S.prefill_context_tok(p, h) == pytest.approx(positions.mean())
    assert S.prefill_context_tok(p, 0.0) == pytest.approx((p + 1) / 2)


# --- sourced inputs ----------------------------------------------------------------------------

def test_kernel_efficiencies_are_published_rates_over_peaks():
    e = S.kernel_efficiencies()
    assert e["matmul_efficiency_frac"] == pytest.approx(1.35e15 / H800["peak_fp8_flop_per_s"])
    assert e["attention_efficiency_frac"] == pytest.approx(5.8e14 / H800["peak_bf16_flop_per_s"])
    assert e["bandwidth_efficiency_frac"] == pytest.approx(3e12 / H800["memory_bytes_per_s"])
    assert all(0 < v <= 1 for v in e.values())


def test_day6_inputs_come_from_the_published_table():
    x = S.day6_inputs()
    assert x["cache_hit_frac"] == 0.563 and x["kv_length_tok"] == 4989
    assert x["input_per_output_ratio"] == pytest.approx(608 / 168)
    assert x["min_tok_per_s_per_user"] == 20 and x["acceptance_frac"] == pytest.approx(0.875)
    assert x["usd_per_gpu_hour"] == 2


def test_deployment_rows_agree_with_the_day6_text():
    pre, dec = D.row("deployments", PRE), D.row("deployments", DEC)
    e = V3["n_routed_experts"]
    for row, nodes, slots in ((pre, 4, 9), (dec, 18, 2)):
        assert row["n_nodes"] == nodes
        assert row["n_ep_devices"] == nodes * row["n_devices_per_node"]
        # 256 experts + 32 redundant copies = slots x devices
        assert e + row["n_redundant_experts"] == slots * row["n_ep_devices"]
        assert row["n_routed_experts_per_device"] == slots
        assert row["ib_bytes_per_s"] == 400e9 / 8  # one 400 Gb/s NIC per GPU


# --- the decode unit ---------------------------------------------------------------------------

def step(n=64, ctx=4989.0, **kw):
    return S.deployment_decode_step(DEC, n, ctx, **kw)


def test_decode_phases_are_rooflines_by_hand():
    s = step(64, 4989.0, overlap=False, acceptance_frac=0.875, **PEAK)
    t = 64.0 * 2  # tokens per device: V3's MTP verifies two per sequence
    kv = 64 * 4989 * 61 * 576 * 2
    attn_flop = t * 61 * 128 * 2 * (2 * 512 + 64) * 4989
    assert s["kv_read_bytes"] == pytest.approx(kv)
    assert s["attention_flop"] == pytest.approx(attn_flop)
    cal = econ.calibration()
    occupancy = 64 / (64 + cal.attention_half_occupancy_count)  # 64 sequences, one latent
    assert s["attention_s"] == pytest.approx(kv / (3.35e12 * occupancy) + attn_flop / 9.894e14)
    per_expert = 3 * 7168 * 2048
    shared = 37e9 - 58 * 8 * per_expert
    read = shared - 129280 * 7168   # the embedding's rows are looked up, not streamed
    head = 129280 * 7168            # the LM head runs on every token
    assert s["dense_s"] == pytest.approx(
        read / 3.35e12
        + t * 2 * (shared - 129280 * 7168) / 1.9789e15
        + econ.model_spec("deepseek-v3").kernels_per_step * cal.kernel_fixed_s
    )
    assert head > 0
    assert s["matmul_flop"] == pytest.approx(t * 2 * (37e9 - 129280 * 7168))
    assert s["compute_s"] == pytest.approx(s["attention_s"] + s["dense_s"] + s["experts_s"])


def test_decode_communication_is_bytes_over_rate():
    s = step(64, 4989.0, overlap=False, link_rates="nominal", acceptance_frac=0.875)
    t = 64 * 2  # MTP verifies two tokens per sequence
    dispatch = 58 * t * 8 * 7168 * 1  # low-latency kernels: one RDMA send per routed copy
    combine = 58 * t * 8 * 7168 * 2
    assert s["dispatch_bytes"] == pytest.approx(dispatch)
    assert s["combine_bytes"] == pytest.approx(combine)
    assert s["comm_s"] == pytest.approx((dispatch + combine) / 50e9)
    measured = step(64, 4989.0, overlap=False, acceptance_frac=0.875)
    assert measured["comm_s"] == pytest.approx((dispatch + combine) / 39e9)


def test_overlap_max_versus_sum_in_the_unit():
    one_batch = dep(DEC, n_microbatches=1)
    hid = S.deployment_decode_step(one_batch, 64, 4989.0, overlap=True)
    add = S.deployment_decode_step(one_batch, 64, 4989.0, overlap=False)
    assert hid["compute_s"] == pytest.approx(add["compute_s"])  # low-latency: no SMs taken
    assert hid["step_s"] - hid["draft_s"] == pytest.approx(max(hid["compute_s"], hid["comm_s"]))
    assert add["step_s"] - add["draft_s"] == pytest.approx(add["compute_s"] + add["comm_s"])
    # two microbatches read the replicated weights twice
    two = step(64, 4989.0, overlap=True)
    assert two["weight_read_bytes"] == pytest.approx(2 * hid["weight_read_bytes"])


def test_mtp_tokens_and_draft_cost():
    sure = step(32, acceptance_frac=1.0)
    never = step(32, acceptance_frac=0.0, draft_depth=1)
    plain = step(32, draft_depth=0)
    assert sure["tok_per_step"] == 2.0 and never["tok_per_step"] == 1.0
    assert plain["draft_s"] == 0.0 and never["draft_s"] > 0
    # by default the MTP module drafts only where drafts are accepted (it used to draft one
    # token and accept none)
    default = step(32)
    assert default["draft_s"] == 0.0 and default["step_s"] == pytest.approx(plain["step_s"])
    assert never["decode_tok_per_s_per_user"] < plain["decode_tok_per_s_per_user"]
    assert sure["decode_tok_per_s_per_user"] > plain["decode_tok_per_s_per_user"]
    s = step(32, acceptance_frac=0.875)
    assert s["tok_per_step"] == pytest.approx(1.875)
    assert s["decode_tok_per_s_per_user"] == pytest.approx(1.875 / s["step_s"])
    assert s["decode_tok_per_s_per_node"] == pytest.approx(8 * 32 * s["decode_tok_per_s_per_user"])


def test_per_user_speed_falls_and_device_throughput_rises_with_batch():
    b = np.array([1.0, 8, 32, 64, 128])
    s = step(b, acceptance_frac=0.875)
    assert np.all(np.diff(s["decode_tok_per_s_per_user"]) < 0)
    assert np.all(np.diff(s["decode_tok_per_s_per_device"]) > 0)


def test_memory_limit_by_hand():
    s = step(1)
    per_expert = 3 * 7168 * 2048
    held = (37e9 - 58 * 8 * per_expert + 2 * 58 * per_expert) * 1 * (1 + 1 / 61)
    assert s["held_bytes_per_device"] == pytest.approx(held)
    assert s["max_sequences_per_device"] == math.floor((80e9 - held) / (4989 * 70272))


@pytest.mark.parametrize("overlap", [True, False])
def test_batch_is_the_largest_meeting_speed_and_memory(overlap):
    kw = dict(acceptance_frac=0.875, overlap=overlap)
    for slo in (20.0, 40.0, 80.0):
        b = S.deployment_decode_batch(DEC, 4989.0, slo, **kw)
        cap = step(1, **kw)["max_sequences_per_device"]
        assert 0 <= b <= cap and b == int(b)
        if b > 0:
            assert step(b, **kw)["decode_tok_per_s_per_user"] >= slo
        if b < cap:
            assert step(b + 1, **kw)["decode_tok_per_s_per_user"] < slo
    assert S.deployment_decode_batch(DEC, 4989.0, **kw) == step(1)["max_sequences_per_device"]
    assert S.deployment_decode_batch(DEC, 4989.0, 1e6, **kw) == 0.0


def test_load_imbalance_grows_with_the_ep_group():
    small = S.deployment_decode_step(dep(DEC, n_ep_devices=16, n_nodes=2), 64, 4989.0)
    big = step(64)
    assert 1.0 < small["load_imbalance_ratio"] < big["load_imbalance_ratio"]


def test_even_split_node_has_no_communication_and_runs_the_one_engine():
    b_total, ctx = 512.0, 2048.0
    ours = S.deployment_decode_step("deepseek-v2-h800-node", b_total / 8, ctx, **PEAK)
    assert ours["comm_s"] == 0.0
    alt = S.deployment_decode_step("deepseek-v2-h800-node", b_total / 8, ctx, overlap=False,
                                   **PEAK)
    assert alt["step_s"] == pytest.approx(ours["step_s"])
    ref = econ.decode_step("deepseek-v2", "h800-sxm", "fp8", b_total, ctx, n_devices=8,
                           kv_bytes_per_elem=0.75)
    # the node runs MLA attention data parallel, the kernel level splits the cache by layers:
    # either way each device reads an eighth of it
    assert 8 * ours["kv_read_bytes"] == pytest.approx(ref["kv_read_bytes"])
    # the same FLOPs in all: the layout moves work, it does not create it
    assert 8 * ours["matmul_flop"] == pytest.approx(ref["flop"] - 8 * ours["attention_flop"],
                                                    rel=1e-9)
    # and the engine's own forward step gives the unit's compute time
    spec = econ.model_spec("deepseek-v2")
    cal = econ.calibration(gemm_flop_frac=1.0, attention_flop_frac=1.0,
                           gemm_bandwidth_frac=1.0, attention_bandwidth_frac=1.0)
    f = econ.forward_step(spec, bw=3.35e12, peak_mm=1.9789e15, peak_attn=9.894e14,
                          weight_bytes_per_param=1.0, kv_bytes_per_elem=0.75,
                          n_sequences=b_total / 8, context_tok=ctx, tp=8, dp_attention=True,
                          cal=cal)
    assert ours["compute_s"] == pytest.approx(f["step_s"], rel=1e-9)


# --- prefill -----------------------------------------------------------------------------------

def pre(**kw):
    return S.deployment_prefill(PRE, 4383.4, 0.563, **kw)


def test_prefill_counts_cache_hits_as_served_not_computed():
    p = pre()
    assert p["prefill_tok_per_s_per_node"] * (1 - 0.563) == pytest.approx(
        p["computed_tok_per_s_per_node"])
    assert p["computed_tok_per_s_per_node"] == pytest.approx(8 * p["computed_tok_per_s_per_device"])
    assert p["context_tok"] == pytest.approx(S.prefill_context_tok(4383.4, 0.563))


def test_prefill_normal_kernels_send_once_per_node():
    n = 4096
    p = pre(overlap=False, link_rates="nominal")
    nodes = S.expected_nodes_touched(8, 4, 4)
    assert p["dispatch_bytes"] == pytest.approx(58 * n * nodes * 7168 * 1)
    assert p["combine_bytes"] == pytest.approx(58 * n * nodes * 7168 * 2)
    ib = (p["dispatch_bytes"] + p["combine_bytes"]) / 50e9
    nvl = 58 * n * 8 * (1 - 1 / 8) * 7168 * 3 / 160e9
    assert p["comm_s"] == pytest.approx(max(ib, nvl))


def test_prefill_overlap_takes_sms_from_compute():
    one_batch = dep(PRE, n_microbatches=1)
    hid = S.deployment_prefill(one_batch, 4383.4, 0.563, overlap=True)
    add = S.deployment_prefill(one_batch, 4383.4, 0.563, overlap=False)
    assert hid["compute_s"] * (1 - 20 / 132) == pytest.approx(add["compute_s"])
    assert hid["pass_s"] - hid["mtp_s"] == pytest.approx(max(hid["compute_s"], hid["comm_s"]))
    assert add["pass_s"] - add["mtp_s"] == pytest.approx(add["compute_s"] + add["comm_s"])


def test_prefill_attention_uses_the_prefill_mla_cost():
    p = pre(**PEAK)
    per_ctx = econ.attention_flop_per_ctx_tok("mla", 61, 128, qk_nope_head_dim=128,
                                              qk_rope_head_dim=64, v_head_dim=128,
                                              phase="prefill")
    assert p["attention_flop"] == pytest.approx(4096 * per_ctx * p["context_tok"])


def test_prefill_hardly_depends_on_the_pass_size():
    r = S.deployment_prefill(PRE, 4383.4, 0.563,
                             tok_per_device_per_pass=np.array([2048.0, 4096, 16384]))
    rate = r["prefill_tok_per_s_per_node"]
    # the weights and the per-kernel cost are paid once per pass: a larger pass shares them
    assert np.all(np.diff(rate) > 0) and rate[-1] / rate[0] < 1.3


# --- V2 vs 67B on one node ---------------------------------------------------------------------

def test_v2_vs_67b_ratio_within_30pct_across_the_assumed_kv_lengths():
    # the V2 report's 5.76x from its own stated serving inputs (FP8 weights, ~6-bit KV) and
    # the 67B as released (BF16); the unpublished KV length swept over its assumption range
    a = D.load("assumptions").loc["deepseek_67b_service_kv_length_tok"]
    published = D.load("published").loc["deepseek-v2-max-generation-throughput-ratio", "value"]
    for kv in (a["low"], a["value"], a["high"]):
        ratio = S.max_generation_throughput_ratio("deepseek-v2-h800-node",
                                                  "deepseek-67b-h800-node", kv)
        assert abs(ratio / published - 1) <= 0.30, (kv, ratio)


def test_max_generation_uses_the_memory_limit():
    s = S.deployment_decode("deepseek-67b-h800-node", 2048.0)
    kv = 95 * 2 * 8 * 128 * 2
    assert s["n_sequences_per_device"] == math.floor((80e9 - 67e9 * 2 / 8) / (2048 * kv))
    assert S.max_generation_throughput("deepseek-67b-h800-node", 2048.0) == pytest.approx(
        s["decode_tok_per_s_per_node"])


# --- Day-6 prediction, rows, breakdown ---------------------------------------------------------

def test_day6_cost_follows_from_the_rates():
    p = S.day6_prediction()
    assert p["input_cost_usd_per_mtok"] == pytest.approx(
        econ.cost_usd_per_mtok(16.0, p["prefill_tok_per_s_per_node"]))
    assert p["output_cost_usd_per_mtok"] == pytest.approx(
        econ.cost_usd_per_mtok(16.0, p["decode_tok_per_s_per_node"]))


def test_result_rows_validate_and_carry_the_issue_names():
    rows = S.serving_result_rows()
    frame = results_frame("architecture-efficiency", rows)
    keys = set(zip(frame["metric"], frame["subject"]))
    for need in [("prefill_tok_per_s_per_node_predicted", "deepseek-v3:h800-day6"),
                 ("decode_tok_per_s_per_node_predicted", "deepseek-v3:h800-day6"),
                 ("max_generation_throughput_ratio_predicted", "deepseek-v2-vs-deepseek-67b"),
                 ("predicted_input_cost_usd_per_mtok", "deepseek-v3:h800-day6"),
                 ("predicted_output_cost_usd_per_mtok", "deepseek-v3:h800-day6")]:
        assert need in keys
    units = dict(zip(frame["metric"], frame["unit"]))
    assert units["decode_tok_per_s_per_node_predicted"] == "tokens/s"
    assert units["max_generation_throughput_ratio_predicted"] == "ratio"
    assert units["predicted_output_cost_usd_per_mtok"] == "USD/Mtok"
    assert np.isfinite(frame["value"]).all() and (frame["value"] > 0).all()
    pub = frame.set_index(["metric", "subject"])["published_value"]
    assert pub["decode_tok_per_s_per_node_predicted", "deepseek-v3:h800-day6"] == 14800
    assert pub["prefill_tok_per_s_per_node_predicted", "deepseek-v3:h800-day6"] == 73700


def test_result_rows_take_scenario_inputs():
    key = ["metric", "subject"]
    base = results_frame("x", S.serving_result_rows()).set_index(key)["value"]
    peak = results_frame("x", S.serving_result_rows(link_rates="nominal", **PEAK)
                         ).set_index(key)["value"]
    # datasheet rates and nominal links can only raise the predicted per-node rates
    for metric in ("prefill_tok_per_s_per_node_predicted", "decode_tok_per_s_per_node_predicted"):
        for subject in (S.DAY6_SUBJECT, S.DAY6_SUBJECT + ":no-overlap"):
            assert peak[metric, subject] >= base[metric, subject] * (1 - 1e-9)
    long_ = results_frame("x", S.serving_result_rows(v2_kv_length_tok=4096.0)
                          ).set_index(key)["value"]
    assert long_["max_generation_throughput_ratio_predicted", "deepseek-v2-vs-deepseek-67b"] == \
        pytest.approx(S.max_generation_throughput_ratio("deepseek-v2-h800-node",
                                                        "deepseek-67b-h800-node", 4096.0))


def test_breakdown_shares_sum_to_one_and_match_the_step():
    x = S.day6_inputs()
    frame = S.decode_time_breakdown(DEC, 88, x["kv_length_tok"],
                                    acceptance_frac=x["acceptance_frac"])
    assert set(frame["case"]) == {"overlapped", "not overlapped"}
    for case, ov in (("overlapped", True), ("not overlapped", False)):
        part = frame[frame["case"] == case]
        assert part["share_frac"].sum() == pytest.approx(1.0)
        s = step(88, x["kv_length_tok"], acceptance_frac=x["acceptance_frac"], overlap=ov)
        assert part["time_s"].sum() == pytest.approx(s["step_s"])
        assert set(part["bound"]) <= {"compute", "memory", "network"}
    day6 = S.day6_decode_breakdown()
    assert list(day6.columns) == list(frame.columns)
    assert day6.groupby("case")["share_frac"].sum().to_numpy() == pytest.approx([1.0, 1.0])


# --- vectorized kinds --------------------------------------------------------------------------

KINDS = [
    (lambda x: S.link_time_s(x, 50e9), 1e9),
    (lambda x: S.overlap_time_s(x, 0.5), 0.7),
    (lambda x: S.overlap_time_s(0.5, x, overlap=False), 0.7),
    (lambda x: S.dispatch_combine_bytes_per_tok(x, 8), 7168.0),
    (lambda x: S.expected_nodes_touched(x, 18, 4), 8.0),
    (lambda x: S.expected_max_load_ratio(x, 144), 1000.0),
    (lambda x: S.prompt_tok_from_kv_length(x, 3.6), 4989.0),
    (lambda x: S.prefill_context_tok(4383.0, x), 0.563),
    (lambda x: step(x, acceptance_frac=0.875)["step_s"], 64.0),
    (lambda x: step(64, x)["decode_tok_per_s_per_node"], 4989.0),
    (lambda x: step(64, acceptance_frac=x)["decode_tok_per_s_per_user"], 0.85),
    (lambda x: step(64, attention_efficiency_frac=x)["step_s"], 0.6),
    (lambda x: S.deployment_decode_batch(DEC, x, 20.0, acceptance_frac=0.875), 4989.0),
    (lambda x: S.deployment_decode_batch(DEC, 4989.0, x, acceptance_frac=0.875), 20.0),
    (lambda x: S.deployment_prefill(PRE, x, 0.563)["prefill_tok_per_s_per_node"], 4383.0),
    (lambda x: S.deployment_prefill(PRE, 4383.0, x)["pass_s"], 0.563),
    (lambda x: S.max_generation_throughput("deepseek-v2-h800-node", x), 2048.0),
]


@pytest.mark.parametrize("f, x", KINDS)
def test_float_array_series(f, x):
    out = f(x)
    assert isinstance(out, float) and np.isfinite(out)
    arr = f(np.array([x, x]))
    assert isinstance(arr, np.ndarray) and arr.shape == (2,)
    np.testing.assert_allclose(arr, out)
    s = f(pd.Series([x, x], index=["a", "b"]))
    assert isinstance(s, pd.Series) and list(s.index) == ["a", "b"]
    np.testing.assert_allclose(s.to_numpy(), out)


@given(st.floats(1, 256), st.floats(100, 32_000))
def test_longer_context_never_speeds_decoding(b, ctx):
    short = step(b, ctx, acceptance_frac=0.875)["step_s"]
    long_ = step(b, ctx * 1.5, acceptance_frac=0.875)["step_s"]
    assert long_ >= short


@given(st.floats(0, 512), st.floats(100, 32_000), st.booleans())
def test_faster_links_never_slow_a_step(b, ctx, overlap):
    slow = S.deployment_decode_step(DEC, b, ctx, overlap=overlap)["step_s"]
    fast = S.deployment_decode_step(dep(DEC, dispatch_achieved_bytes_per_s=390e9,
                                        combine_achieved_bytes_per_s=390e9),
                                    b, ctx, overlap=overlap)["step_s"]
    assert fast <= slow * (1 + 1e-12)


# --- input errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: S.link_time_s(-1.0, 50e9), "n_bytes"),
    (lambda: S.link_time_s(1.0, 0.0), "link_bytes_per_s"),
    (lambda: S.overlap_time_s(1.0, 1.0, overlap="yes"), "overlap"),
    (lambda: S.overlap_time_s(-1.0, 1.0), "compute_s"),
    (lambda: S.dispatch_combine_bytes_per_tok(0, 8), "hidden_dim"),
    (lambda: S.expected_nodes_touched(8, 0.5), "n_nodes"),
    (lambda: S.expected_max_load_ratio(0.0, 144), "mean_load"),
    (lambda: S.prompt_tok_from_kv_length(4989, 0), "input_per_output_ratio"),
    (lambda: S.prefill_context_tok(4000, 1.0), "cache_hit_frac"),
    (lambda: step(-1), "n_sequences_per_device"),
    (lambda: step(64, 0.0), "context_tok"),
    (lambda: step(64, acceptance_frac=1.2), "acceptance_frac"),
    (lambda: step(64, draft_depth=0.5), "draft_depth"),
    (lambda: step(64, matmul_efficiency_frac=0.0), "matmul_efficiency_frac"),
    (lambda: step(64, attention_efficiency_frac=1.5), "attention_efficiency_frac"),
    (lambda: step(64, link_rates="fast"), "link_rates"),
    (lambda: step(64, reserve_frac=1.0), "reserve_frac"),
    (lambda: S.deployment_decode_step(PRE, 64, 4989.0), "prefill"),
    (lambda: S.deployment_prefill(DEC, 4000, 0.5), "decode"),
    (lambda: S.deployment_prefill(PRE, 4000, 0.5, overlap=1), "overlap"),
    (lambda: S.deployment_prefill(PRE, 4000, 0.5, tok_per_device_per_pass=0), "tok_per_device"),
    (lambda: S.deployment_decode_batch(DEC, 4989.0, 0.0), "min_tok_per_s_per_user"),
    (lambda: S.deployment_decode_step(dep(DEC, comm_kernel="magic"), 1, 1.0), "comm_kernel"),
    (lambda: S.deployment_decode_step(dep(DEC, n_microbatches=float("nan")), 1, 1.0),
     "n_microbatches"),
    (lambda: S.deployment_decode_step(dep(DEC, dispatch_achieved_bytes_per_s=None), 1, 1.0),
     "dispatch_achieved_bytes_per_s"),
    (lambda: S.deployment_decode_step(dep(DEC, model="llama-3.1-70b"), 1, 1.0), "MoE"),
    (lambda: S.deployment_decode_step(42, 1, 1.0), "deployment"),
    (lambda: S.decode_time_breakdown(DEC, np.array([1.0, 2.0]), 4989.0), "scalar"),
    (lambda: S.decode_time_breakdown(DEC, 1.0, 4989.0, overlap=True), "overlap"),
])
def test_bad_inputs_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_unknown_deployment_lists_the_valid_ones():
    with pytest.raises(KeyError, match=DEC):
        S.deployment_decode_step("no-such-unit", 1, 1.0)


def test_docstring_examples():
    import doctest
    result = doctest.testmod(S)
    assert result.attempted >= 5 and result.failed == 0
