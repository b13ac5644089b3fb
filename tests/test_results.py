"""The kernel-timings result rows, claims and side-by-side table (econ.results)."""
import numpy as np
import pytest

import econ

PARAMS = dict(gpu_hardware="h100-sxm", timing_machine="h100-2026-11-22", model="deepseek-v3",
              precision="fp8", context_tok=4989.0, flop_efficiency_frac=0.68,
              bandwidth_efficiency_frac=0.9, fit_time_column="min_s", weight_dim=64)
#: Metric names other notebooks, the summary and the alternative-parameter test read.
KNOWN = {"gemm_flop_efficiency_frac", "memory_bandwidth_efficiency_frac",
         "fp8_to_bf16_gemm_rate_ratio", "roofline_median_abs_error_frac", "ridge_batch_count",
         "mla_vs_mha_decode_speedup_ratio", "moe_grouped_vs_naive_speedup_ratio",
         "moe_grouped_to_dense_time_ratio", "decode_cost_usd_per_mtok",
         "prefill_cost_usd_per_mtok", "measured_to_datasheet_cost_ratio",
         "portable_stack_to_cublas_ratio", "peak_flop_per_s", "memory_bandwidth_bytes_per_s",
         "fp32_to_fp64_gemm_rate_ratio"}


@pytest.fixture(scope="module")
def run():
    live = econ.live_kernel_timings([16, 32], [1, 2, 64], 64, [16], [1], 2**20,
                                    time_budget_s=0.05, blas_threads=1)
    gpu = econ.recorded_gpu_timings(PARAMS["timing_machine"], PARAMS["gpu_hardware"])
    hw = econ.data.load("hardware")
    ceilings = econ.ceiling_efficiency(gpu, hw.loc["h100-sxm"], econ.data.load("published"),
                                       hw.loc["h800-sxm"])
    cases = econ.efficiency_cost_cases("deepseek-v3", "h100-sxm", "fp8", 4989.0, 512, 2.0, 0.6,
                                       assumed=(0.68, 0.9),
                                       measured=tuple(ceilings.loc[["fp8", "bandwidth"],
                                                                   "measured_frac"]))
    stacks = econ.portable_stack_comparison(gpu)
    info = dict(n_blas_threads=1, cpu_load_1min=0.5)
    cpu_fit = econ.fit_roofline(live, time_column="min_s")
    results = econ.kernel_timings_results(PARAMS, live, cpu_fit, gpu, econ.fit_roofline(gpu),
                                          ceilings, cases, stacks, info)
    return dict(results=results, ceilings=ceilings, cases=cases, stacks=stacks, live=live)


def _value(results, metric, subject, column="value"):
    return float(econ.result(results, metric, subject, column))


def test_rows_keep_their_metric_names_and_values(run):
    r, e, c = run["results"], run["ceilings"], run["cases"]
    assert KNOWN <= set(r["metric"])
    assert r.duplicated(["metric", "subject"]).sum() == 0
    # DeepGEMM's 1,350 of the H800's 1,979 FP8 TFLOPS is the published share
    assert _value(r, "gemm_flop_efficiency_frac", "h100-sxm:fp8", "published_value") \
        == pytest.approx(1350 / 1979, rel=1e-3)
    assert _value(r, "fp8_to_bf16_gemm_rate_ratio", "h100-sxm") == pytest.approx(
        e.loc["fp8", "measured"] / e.loc["bf16", "measured"])
    assert _value(r, "measured_to_datasheet_cost_ratio", "deepseek-v3:h100-sxm:decode") \
        == pytest.approx(c.loc["measured", "decode_cost_usd_per_mtok"]
                         / c.loc["datasheet", "decode_cost_usd_per_mtok"])
    assert _value(r, "portable_stack_to_cublas_ratio", "h100-sxm:triton") == pytest.approx(
        run["stacks"].query("backend == 'triton'")["share_of_cublas_ratio"].mean())
    best = run["live"].query("kernel == 'gemm'").groupby("dtype")["fit_flop_per_s"].max()
    assert _value(r, "fp32_to_fp64_gemm_rate_ratio", "cpu") == pytest.approx(
        best["float32"] / best["float64"])
    assert np.isfinite(r["value"]).all()


def test_claims_name_rows_that_exist(run):
    r = run["results"]
    claims = econ.kernel_timings_claims(PARAMS, live=True)
    assert len(econ.verdict_table(r, claims=claims)) == len(claims)
    gpu_claims = {k: v for k, v in econ.kernel_timings_claims(PARAMS).items()
                  if not k[1].startswith(("engine:", "predict_serving:"))}
    assert len(econ.verdict_table(r, claims=gpu_claims)) == len(gpu_claims)


def test_side_by_side_formats_the_result_rows(run):
    r = run["results"]
    table = econ.kernel_timings_side_by_side(r, PARAMS)
    row = table[table["question"].str.startswith("Higher over lower")].iloc[0]
    assert row["recorded GPU"] == econ.format_quantity(
        _value(r, "fp8_to_bf16_gemm_rate_ratio", "h100-sxm"), "ratio")
    assert row["live CPU (this machine, now)"] == econ.format_quantity(
        _value(r, "fp32_to_fp64_gemm_rate_ratio", "cpu"), "ratio")
    with pytest.raises(KeyError, match="no single row"):
        econ.kernel_timings_side_by_side(r, dict(PARAMS, gpu_hardware="h200-sxm"))
