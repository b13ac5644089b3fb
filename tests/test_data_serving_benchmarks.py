"""The serving-benchmark ledger: enough independent points, a clean fit/validation split, keys
that resolve, and figures that agree with each other (catching transcription errors)."""
import re

import numpy as np
import pandas as pd
import pytest

from econ import data as D

#: Sources whose rows may be fitted to (issue 13): SemiAnalysis InferenceX and MLPerf Inference,
#: named exactly (a new MLPerf round is added here on purpose, not by a prefix).
FIT_SOURCES = {"inferencex", "mlperf-inference-v4.1", "mlperf-inference-v5.1"}
#: Devices the ledger names that data/hardware.csv does not have (none today).
KNOWN_MISSING_HARDWARE = set()
#: Models the ledger names that data/models.csv does not have.
KNOWN_MISSING_MODELS = set()  # llama-2-70b (MLPerf v4.1) is in data/models.csv since 2026-12-03
#: Rows whose printed peak output rate is below their mean output rate, each with the reason
#: (see the row's notes): the bench client counts streamed chunks, not tokens.
KNOWN_PEAK_BELOW_MEAN = {
    # 1000 gpt-oss requests of 4 tokens in 3 chunks each (Mean ITL / Mean TPOT = 1.50): the
    # counted chunks run at about 3/4 of the token rate the block's average is made of
    "gpustack-gptoss120b-a100-vllm-tp1-fp4-random-128-4",
}
#: Throughput columns: positive where present.
THROUGHPUT_COLUMNS = ["per_user_tok_per_s", "input_tok_per_s", "output_tok_per_s",
                      "peak_output_tok_per_s", "output_per_device_tok_per_s",
                      "total_per_device_tok_per_s"]


@pytest.fixture(scope="module")
def ledger():
    return D.load("serving_benchmarks")


def test_size_and_independent_sources(ledger):
    assert len(ledger) >= 40
    assert ledger["source"].nunique() >= 4
    assert (ledger["split"] == "validation").sum() >= 20


def test_only_inferencex_and_mlperf_rows_are_fit(ledger):
    fit = ledger[ledger["split"] == "fit"]
    assert len(fit) > 0
    bad = fit[~fit["source"].isin(FIT_SOURCES)]
    assert bad.empty, f"fit rows from other sources: {list(bad.index)}"
    # and every InferenceX/MLPerf row is marked fit, so the split follows the source alone
    from_fit_sources = ledger[ledger["source"].isin(FIT_SOURCES)]
    assert (from_fit_sources["split"] == "fit").all()


def test_the_fits_refuse_a_fit_row_from_another_source(ledger):
    """The fits select their rows themselves (econ.ledger_fit_rows), so a mislabelled row
    stops a refit instead of entering it."""
    import econ
    assert set(econ.FIT_SOURCES) == FIT_SOURCES
    assert len(econ.ledger_fit_rows(ledger)) == int((ledger["split"] == "fit").sum())
    bad = ledger.copy()
    name = bad.index[bad["split"] == "validation"][0]
    bad.loc[name, "split"] = "fit"
    pattern = f"{re.escape(name)}.*{re.escape(bad.loc[name, 'source'])}"
    for fit in (econ.ledger_fit_rows, econ.fit_fp4_matmul_frac, econ.fit_host_overheads):
        with pytest.raises(ValueError, match=pattern):
            fit(bad)


def test_hardware_and_model_keys_resolve(ledger):
    hardware = set(D.keys("hardware")) | KNOWN_MISSING_HARDWARE
    models = set(D.keys("models")) | KNOWN_MISSING_MODELS
    assert set(ledger["hardware"]) <= hardware, set(ledger["hardware"]) - hardware
    assert set(ledger["model"]) <= models, set(ledger["model"]) - models
    # a key listed as missing must really be missing, or the list hides a typo
    assert not KNOWN_MISSING_MODELS & set(D.keys("models"))
    assert not KNOWN_MISSING_HARDWARE & set(D.keys("hardware"))


def test_three_gpu_types_in_validation_rows(ledger):
    kinds = D.load("hardware")["device_kind"]
    val = ledger[ledger["split"] == "validation"]
    gpus = {h for h in val["hardware"] if kinds.get(h) == "gpu"}
    assert len(gpus) >= 3, gpus


def test_sram_machines_are_checked(ledger):
    assert {"groq-lpu", "cerebras-cs3"} <= set(ledger["hardware"])
    sram = ledger[ledger["hardware"].isin(["groq-lpu", "cerebras-cs3"])]
    assert sram["per_user_tok_per_s"].notna().all()


def test_dense_and_moe_models(ledger):
    experts = D.load("models")["n_routed_experts"]
    keys = set(ledger["model"]) & set(experts.index)
    assert any(experts[k] > 0 for k in keys) and any(experts[k] == 0 for k in keys)


def test_derived_columns_name_filled_columns(ledger):
    for name, cols in ledger["derived_columns"].dropna().items():
        for col in cols.split(";"):
            assert col in ledger.columns, f"{name}: derived column {col!r} is not a column"
            assert pd.notna(ledger.at[name, col]), f"{name}: derived column {col!r} is empty"
            assert "derived" in ledger.at[name, "notes"], (
                f"{name}: notes do not explain the derivation"
            )


def test_every_row_measures_something(ledger):
    measured = ["tpot_s", "ttft_s", *THROUGHPUT_COLUMNS]
    assert ledger[measured].notna().any(axis=1).all()


def test_throughputs_are_positive(ledger):
    for col in THROUGHPUT_COLUMNS:
        present = ledger[col].dropna()
        assert (present > 0).all(), f"{col} not positive: {list(present.index[present <= 0])}"


def test_peak_output_rate_is_read_where_printed(ledger):
    peak = ledger["peak_output_tok_per_s"].dropna()
    assert len(peak) >= 200
    assert set(ledger.loc[peak.index, "source"]) == {"gpustack-perf-lab", "sglang-cookbook"}
    # every filled cell is the figure its notes quote from the printed line
    for name, value in peak.items():
        quoted = re.findall(r"'Peak output token throughput \(tok/s\): ([0-9.]+)'",
                            ledger.at[name, "notes"])
        assert len(quoted) == 1, f"{name}: notes quote the peak line {len(quoted)} times"
        assert float(quoted[0]) == pytest.approx(value, rel=1e-9), (name, quoted[0], value)


def _peak_below_mean(ledger):
    both = ledger.dropna(subset=["peak_output_tok_per_s", "output_tok_per_s"])
    return set(both.index[both["peak_output_tok_per_s"] < both["output_tok_per_s"]])


def test_peak_output_rate_is_not_below_the_mean(ledger):
    # a run's busiest second cannot produce fewer tokens than its mean second; where the client's
    # chunk count falls short of the tokens, the row is listed with its reason
    assert _peak_below_mean(ledger) == KNOWN_PEAK_BELOW_MEAN


def test_a_peak_below_the_mean_is_caught(ledger):
    broken = ledger.copy()
    key = broken["peak_output_tok_per_s"].dropna().index[0]
    broken.loc[key, "peak_output_tok_per_s"] = 0.5 * broken.loc[key, "output_tok_per_s"]
    assert key in _peak_below_mean(broken) - KNOWN_PEAK_BELOW_MEAN


def _mismatch(ledger):
    """Rows whose figures disagree beyond what the measurement method allows.

    - 1/TPOT against tokens/s per user where both are given (within a factor 1.5: TTFT and
      averaging order separate them);
    - Little's law on closed-loop rows: concurrency * OSL / (TTFT + (OSL - 1) * TPOT) is the
      deployment's output rate, against output tokens/s per device times the devices (within 30 %:
      ISL/OSL are nominal and latencies are means);
    - output tokens/s of the deployment against per device times devices (within 1 %).
    """
    bad = []
    both = ledger.dropna(subset=["tpot_s", "per_user_tok_per_s"])
    r = 1.0 / both["tpot_s"] / both["per_user_tok_per_s"]
    bad += list(both.index[(r < 1 / 1.5) | (r > 1.5)])
    loop = ledger[ledger["scenario"] == "fixed_concurrency"].dropna(
        subset=[
            "concurrency_count",
            "osl_tok",
            "tpot_s",
            "ttft_s",
            "n_devices",
            "output_per_device_tok_per_s",
        ]
    )
    rate = (
        loop["concurrency_count"]
        * loop["osl_tok"]
        / (loop["ttft_s"] + (loop["osl_tok"] - 1) * loop["tpot_s"])
    )
    r = rate / (loop["output_per_device_tok_per_s"] * loop["n_devices"])
    bad += list(loop.index[(r < 0.7) | (r > 1.3)])
    tot = ledger.dropna(subset=["output_tok_per_s", "output_per_device_tok_per_s", "n_devices"])
    r = tot["output_per_device_tok_per_s"] * tot["n_devices"] / tot["output_tok_per_s"]
    bad += list(tot.index[np.abs(r - 1) > 0.01])
    return bad, len(both) + len(loop) + len(tot)


def test_latency_and_throughput_figures_agree(ledger):
    bad, checked = _mismatch(ledger)
    assert checked >= 20, f"only {checked} rows can be cross-checked"
    assert not bad, f"figures disagree (a transcription error?): {bad}"


@pytest.mark.parametrize("column, factor", [("tpot_s", 10.0), ("output_per_device_tok_per_s", 0.1),
                                            ("concurrency_count", 4.0)])
def test_a_mistyped_figure_is_caught(ledger, column, factor):
    loop = ledger[(ledger["scenario"] == "fixed_concurrency") & ledger[column].notna()]
    broken = ledger.copy()
    key = loop.index[0]
    broken.loc[key, column] = broken.loc[key, column] * factor
    bad, _ = _mismatch(broken)
    assert key in bad


def test_an_assumed_input_length_is_stated_not_published(ledger):
    """A row that assumes its input length publishes none, and its notes say so."""
    assumed = ledger[ledger["assumed_isl_tok"].notna()]
    assert len(assumed) > 0
    assert assumed["isl_tok"].isna().all(), "a published isl_tok and an assumed one"
    for name, notes in assumed["notes"].items():
        assert "assumption" in notes and "publishes no input lengths" in notes, name


def test_ml_energy_rows_hold_their_batch_at_max_num_seqs(ledger):
    """ML.ENERGY reports the steady state at its --max-num-seqs: the closed loop's concurrency
    is that cap, and the published mean batch it held is quoted in notes and not above it."""
    rows = ledger[ledger["source"] == "ml-energy-leaderboard"]
    assert len(rows) >= 100
    assert (rows["scenario"] == "fixed_concurrency").all()
    assert (rows["concurrency_count"] == rows["max_running_requests_count"]).all()
    for name, r in rows.iterrows():
        held = float(re.search(r"'avg_batch_size': ([0-9.]+)", r["notes"]).group(1))
        assert 0.85 * r["concurrency_count"] <= held <= r["concurrency_count"] + 1e-6, name


def test_ml_energy_latency_is_kept_only_where_the_steady_state_dominates(ledger):
    """ML.ENERGY's median inter-token latency spans the whole run: a row keeps it only where
    the run sent at least two requests per --max-num-seqs slot."""
    rows = ledger[ledger["source"] == "ml-energy-leaderboard"]
    n_req = rows["notes"].str.extract(r"counts (\d+) completed requests")[0].astype(float)
    assert n_req.notna().all()
    kept = rows["tpot_s"].notna()
    assert (n_req[kept] >= 2 * rows.loc[kept, "concurrency_count"]).all()
    assert (n_req[~kept] < 2 * rows.loc[~kept, "concurrency_count"]).all()
    assert kept.sum() > 0 and (~kept).sum() > 0


def test_a_stated_sampler_is_quoted_in_the_row_notes(ledger):
    """A row names how its engine sampled only where its notes say what the requests asked
    for and which sampler the engine release ran; ML.ENERGY's vLLM 0.11.1 runs sort for
    top-p."""
    stated = ledger[ledger["sampler"].notna()]
    assert len(stated) >= 100
    for name, r in stated.iterrows():
        assert "Sampling:" in r["notes"] and f"sampler {r['sampler']}" in r["notes"], name
    ml = ledger[ledger["source"] == "ml-energy-leaderboard"]
    assert (ml["sampler"] == "top_p_sort_penalized").all()
    assert (ml["framework_version"] == "0.11.1").all()


def test_an_output_spread_is_derived_in_the_row_notes(ledger):
    """A row's osl_cv_ratio is set only where its notes derive it from a published
    distribution: every ML.ENERGY configuration (its output-length histogram, whose mean
    must be the row's output length: the right configuration was read) and the MLPerf
    v5.1 rows (the dataset's reference outputs). Rows served request by request (a burst
    with a length_distribution) carry their lengths instead."""
    spread = ledger[ledger["osl_cv_ratio"].notna()]
    for name, r in spread.iterrows():
        assert "Output spread:" in r["notes"], name
        derived = rf"osl_cv_ratio = [^:]*{r['osl_cv_ratio']:.3f} \(derived"
        assert re.search(derived, r["notes"]), name
    ml = ledger[ledger["source"] == "ml-energy-leaderboard"]
    assert ml["osl_cv_ratio"].notna().all()
    hist_mean = ml["notes"].str.extract(r"has mean ([0-9.]+) tokens at the bins' midpoints")[0]
    np.testing.assert_allclose(hist_mean.astype(float), ml["osl_tok"], rtol=0.02)
    mlperf = ledger[ledger["source"] == "mlperf-inference-v5.1"]
    assert mlperf["osl_cv_ratio"].notna().all()
    # one dataset, one spread
    assert (mlperf.groupby("model")["osl_cv_ratio"].nunique() == 1).all()
    burst = ledger[ledger["length_distribution"].notna()]
    assert burst["osl_cv_ratio"].isna().all()


def test_a_fresh_start_window_is_derived_from_how_the_source_measures(ledger):
    """ML.ENERGY sends all its requests at once and counts from when every slot runs until
    all but slots + 1 have finished: the window is the step at which a slot's expected
    completions reach (requests - slots - 1) / slots. Each row's notes state that count and
    the step; for windows of several outputs the step is the renewal function's asymptote,
    ``osl (k + (1 - cv^2) / 2)`` for k completions per slot (Cox, Renewal Theory, 4.5).
    Other rows are steady states (empty)."""
    window = ledger[ledger["fresh_start_window_tok"].notna()]
    assert (window["source"] == "ml-energy-leaderboard").all()
    ml = ledger[ledger["source"] == "ml-energy-leaderboard"]
    assert len(window) == len(ml)
    sent = ml["notes"].str.extract(r"sends all (\d+) requests at once")[0].astype(float)
    slots = ml["concurrency_count"]
    per_slot = (sent - slots - 1.0) / slots
    noted = ml["notes"].str.extract(r"completions per slot.*M\(T\) = ([0-9.]+) at T = ([0-9.]+)"
                                    r" decode steps")
    np.testing.assert_allclose(noted[0].astype(float), per_slot, atol=6e-4)
    np.testing.assert_allclose(noted[1].astype(float), ml["fresh_start_window_tok"], atol=0.06)
    cv2 = ml["osl_cv_ratio"] ** 2
    outputs = ml["fresh_start_window_tok"] / ml["osl_tok"]
    long = per_slot >= 5.0
    np.testing.assert_allclose(outputs[long], (per_slot + (1.0 - cv2) / 2.0)[long], rtol=0.02)
    assert (ml["fresh_start_window_tok"] >= 1.0).all()


def test_a_closed_loops_request_count_is_quoted_in_its_notes(ledger):
    """requests_count belongs to closed loops (a burst's request count is its
    concurrency_count): at least their concurrency, quoted in the notes as the client or its
    output printed it. A closed loop that states how its client fixed the lengths states its
    request count too, since together they have it served request by request."""
    counted = ledger[ledger["requests_count"].notna()]
    assert len(counted) >= 100
    assert (counted["scenario"] == "fixed_concurrency").all()
    assert (counted["requests_count"] >= counted["concurrency_count"]).all()
    for name, r in counted.iterrows():
        n = f"{r['requests_count']:.0f}"
        assert re.search(rf"(Successful requests: |completed ){n}\b|\b{n} requests at "
                         r"concurrency", r["notes"]), name
        served = isinstance(r["length_distribution"], str)
        assert ("Served request by request" in r["notes"]) == served, name
    closed = ledger[(ledger["scenario"] == "fixed_concurrency")
                    & ledger["length_distribution"].notna()]
    assert closed["requests_count"].notna().all()
    assert set(closed["length_distribution"]) == {"uniform", "sharegpt", "fixed"}
    # SGLang's random dataset at its default range ratio 0: means near half the nominal
    # lengths the command asked for (a name's "-1000-8000-"), far from the nominal ones
    uniform = closed[closed["length_distribution"] == "uniform"]
    nominal = uniform.index.str.extract(r"-(\d+)-(\d+)-conc")[[0, 1]].astype(float).to_numpy()
    means = uniform[["isl_tok", "osl_tok"]].to_numpy() / nominal
    assert ((means > 0.35) & (means < 0.65)).all()


def test_mlperf_scheduler_caps_are_quoted_from_their_configurations(ledger):
    """Each MLPerf v5.1 row's step budget and running cap are the values its notes quote from
    the submission's configuration; with attention data parallelism the instance's are the
    per-rank values times the ranks (the cap no more than the harness's own), derived."""
    rows = ledger[ledger.index.str.startswith("mlperf51")]
    assert len(rows) >= 50 and rows["prefill_chunk_tok"].notna().all()
    for key, r in rows.iterrows():
        notes = r["notes"]
        tok, cap = int(r["prefill_chunk_tok"]), int(r["max_running_requests_count"])
        derived = str(r["derived_columns"]).split(";")
        if "max_num_batched_tokens" in notes:                 # vLLM harness YAML
            assert f"'max_num_batched_tokens: {tok}'" in notes, key
            assert f"'max_num_seqs: {cap}'" in notes, key
            continue
        if str(r["dp_attention"]).lower() == "true":
            ranks = int(r["tp_devices"])
            rank_tok = int(re.search(r"trtllm_runtime_flags 'max_num_tokens': (\d+)", notes)[1])
            rank_cap = int(re.search(r"gpu_batch_size 'deepseek-r1': (\d+)", notes)[1])
            harness = int(re.search(r"'max_concurrency': (\d+)", notes)[1])
            assert tok == rank_tok * ranks and cap == min(rank_cap * ranks, harness), key
            assert {"prefill_chunk_tok", "max_running_requests_count"} <= set(derived), key
            continue
        assert f"trtllm_runtime_flags 'max_num_tokens': {tok} " in notes, key
        assert (f"'max_batch_size': {cap} " in notes or f"gpu_batch_size {cap}," in notes), key
        assert "prefill_chunk_tok" not in derived and "max_running_requests_count" not in derived
