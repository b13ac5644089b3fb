"""Bursts (every request sent at once): the schedule against hand-counted steps, the run
against the step engine's closed forms, the workloads' lengths against their sources, and the
ledger's burst rows against the function that predicts them."""
import numpy as np
import pytest

import econ
from econ import calibrate as C
from econ.predict import predict_serving_with

ARGS = dict(model="llama-3.1-8b", hardware="h100-sxm", precision="bf16", n_devices=1, tp=1)


def test_schedule_without_limits_is_one_prompt_pass_then_the_decodes():
    s = econ.burst_schedule(np.full(4, 100.0), np.full(4, 10.0), max_running=8)
    # one step computes all 400 prompt tokens (first tokens), then 9 decode steps of 4
    np.testing.assert_array_equal(s["prefill_tok"], [400.0, 0.0])
    np.testing.assert_array_equal(s["decode_count"], [0.0, 4.0])
    np.testing.assert_array_equal(s["repeat_count"], [1.0, 9.0])
    np.testing.assert_array_equal(s["first_run"], 0)
    np.testing.assert_array_equal(s["last_run"], 1)


def test_one_running_request_serves_them_in_turn():
    s = econ.burst_schedule([50.0, 50.0], [3.0, 3.0], max_running=1)
    # prompt 1, 2 decode steps, then prompt 2 (admitted when 1 finishes), 2 decode steps
    np.testing.assert_array_equal(s["prefill_tok"], [50.0, 0.0, 50.0, 0.0])
    np.testing.assert_array_equal(s["repeat_count"], [1.0, 2.0, 1.0, 2.0])
    np.testing.assert_array_equal(s["first_run"], [0, 2])
    np.testing.assert_array_equal(s["last_run"], [1, 3])


def test_decode_first_fills_the_budget_left_by_decodes_and_prefill_first_pauses_them():
    isl, osl = [60.0, 60.0, 60.0], [5.0, 5.0, 5.0]
    d = econ.burst_schedule(isl, osl, prefill_chunk_tok=64, max_running=3)
    # step 0: 64 prompt tokens (request 1 complete); step 1: 1 decode + 63 tokens; ...
    assert d["prefill_tok"][0] == 64.0 and d["decode_count"][1] == 1.0
    assert d["prefill_tok"][1] == 63.0
    assert d["prefill_tok"].sum() == pytest.approx(180.0)
    p = econ.burst_schedule(isl, osl, prefill_chunk_tok=64, max_running=3,
                            decode_priority=False)
    # prompts first: no decode runs while a prompt waits
    prompts = np.flatnonzero(p["prefill_tok"] > 0)
    assert np.all(p["decode_count"][prompts] == 0)
    assert p["prefill_tok"].sum() == pytest.approx(180.0)
    # every request decodes its 4 steps after its first token
    for s in (d, p):
        steps = np.array([s["repeat_count"][s["first_run"][i] + 1:s["last_run"][i] + 1]
                          [s["decode_count"][s["first_run"][i] + 1:s["last_run"][i] + 1] > 0]
                          .sum() for i in range(3)])
        np.testing.assert_array_equal(steps, 4.0)


def test_schedule_errors_name_the_field():
    with pytest.raises(ValueError, match="isl_tok and osl_tok"):
        econ.burst_schedule([1.0, 2.0], [1.0], max_running=1)
    with pytest.raises(ValueError, match="max_running"):
        econ.burst_schedule([1.0], [1.0], max_running=0.5)
    with pytest.raises(ValueError, match="osl_tok"):
        econ.burst_schedule([1.0], [-1.0], max_running=1)


def test_identical_requests_take_a_prompt_pass_and_their_decode_steps():
    n, isl, osl = 16, 500.0, 100.0
    r = econ.predict_burst(**ARGS, isl_tok=np.full(n, isl), osl_tok=np.full(n, osl))
    common = dict(ARGS, isl_tok=isl, osl_tok=osl)
    pre = predict_serving_with(**common, concurrency=float(n), phase="prefill")["step_s"]
    dec = predict_serving_with(**common, concurrency=float(n), phase="decode")["step_s"]
    assert r["duration_s"] == pytest.approx(pre + (osl - 1.0) * dec, rel=1e-9)
    assert r["tpot_s"] == pytest.approx(dec, rel=1e-9)
    assert r["ttft_s"] == pytest.approx(pre, rel=1e-9)
    assert r["output_tok_per_s_per_device"] == pytest.approx(n * osl / r["duration_s"])


def test_a_spread_of_outputs_ends_in_a_tail_that_lowers_the_rate():
    n = 256
    isl, osl = econ.workload_lengths("sharegpt", n, 220.0, 200.0)
    spread = econ.predict_burst(**ARGS, isl_tok=isl, osl_tok=osl, prefill_chunk_tok=8192)
    same = econ.predict_burst(**ARGS, isl_tok=np.full(n, 220.0), osl_tok=np.full(n, 200.0),
                              prefill_chunk_tok=8192)
    # the longest request sets the duration: it decodes max(osl) - 1 steps at least
    dec1 = predict_serving_with(**ARGS, isl_tok=220.0, osl_tok=200.0, concurrency=1.0,
                                phase="decode")["step_s"]
    assert spread["duration_s"] > (np.round(osl).max() - 1.0) * dec1
    assert spread["output_tok_per_s_per_device"] < 0.8 * same["output_tok_per_s_per_device"]


def test_workload_lengths_keep_the_means_and_the_sources_shape():
    for kind in ("sharegpt", "uniform", None):
        isl, osl = econ.workload_lengths(kind, 984, 216.0, 197.0)
        assert isl.shape == osl.shape == (984,)
        assert isl.mean() == pytest.approx(216.0) and osl.mean() == pytest.approx(197.0)
    isl, osl = econ.workload_lengths("uniform", 1000, 512.5, 256.5)
    assert isl.min() >= 1.0 and isl.max() <= 1024.0 and osl.max() <= 512.0
    assert abs(np.corrcoef(isl, osl)[0, 1]) < 0.1
    # the ShareGPT run: its outputs spread to about four times their mean
    isl, osl = econ.workload_lengths("sharegpt", 622, 100.0, 100.0)
    assert 3.0 < osl.max() / osl.mean() < 5.0
    with pytest.raises(ValueError, match="distribution='zipf'"):
        econ.workload_lengths("zipf", 10, 1.0, 1.0)


def test_sharegpt_lengths_are_the_runs_published_totals():
    t = econ.data.load("sharegpt_lengths")
    # the result file's own totals (its "total_input_tokens" and "total_output_tokens")
    assert len(t) == 1000
    assert t["input_tok"].sum() == 215196 and t["output_tok"].sum() == 122195
    assert sorted(t["request_order_count"]) == list(range(1000))


def test_ledger_bursts_with_a_spread_are_predicted_request_by_request():
    ledger = econ.data.load("serving_benchmarks")
    rows = ledger[(ledger["scenario"] == "burst") & ledger["length_distribution"].notna()]
    assert set(rows["length_distribution"]) == {"sharegpt", "uniform"}
    key = "gpustack-qwen3-14b-a100-vllm-tp1-bf16-sharegpt"
    r = ledger.loc[key]
    pred = C.ledger_predictions(ledger.loc[[key]])
    kwargs, _ = C._row_arguments(r, econ.data.load("hardware"))
    isl, osl = econ.workload_lengths("sharegpt", int(r["concurrency_count"]), r["isl_tok"],
                                     r["osl_tok"])
    kwargs.pop("concurrency")
    direct = econ.predict_burst(**dict(kwargs, isl_tok=isl, osl_tok=osl), decode_priority=True)
    got = pred.set_index("metric")["predicted"]
    assert got["output_tok_per_s_per_device"] == pytest.approx(
        direct["output_tok_per_s_per_device"], rel=1e-9)
    assert got["tok_per_s_per_user"] == pytest.approx(direct["tok_per_s_per_user"], rel=1e-9)


def test_engines_rule_resolves_from_the_defaults_or_the_framework():
    ledger = econ.data.load("serving_benchmarks")
    assert C.ledger_decode_priority(
        ledger.loc["gpustack-qwen3-14b-a100-vllm-tp1-bf16-sharegpt"]) is True
    sglang = ledger[(ledger["framework"] == "sglang") & ledger["framework_version"].isna()]
    assert len(sglang) and all(C.ledger_decode_priority(r) is False
                               for _, r in sglang.iterrows())


def test_a_prompt_chunk_riding_a_decode_step_costs_less_than_its_own_pass():
    from econ.burst import _step_times
    args = dict(n_devices=1, tp=1, isl_tok=500.0, osl_tok=100.0)
    sched = dict(decode_count=np.array([64.0, 64.0, 0.0]),
                 prefill_tok=np.array([0.0, 256.0, 256.0]))
    t = _step_times("llama-3.1-8b", "h100-sxm", "bf16", sched, 1.0, args)
    # decode alone < decode with a chunk < decode plus a separate pass of the chunk
    assert t[0] < t[1] < t[0] + t[2]


def test_drafted_tokens_take_budget_and_replicas_split_the_requests():
    isl, osl = np.full(8, 100.0), np.full(8, 20.0)
    one = econ.burst_schedule(isl, osl, prefill_chunk_tok=150, max_running=8)
    mtp = econ.burst_schedule(isl, osl, prefill_chunk_tok=150, max_running=8,
                              decode_budget_tok=3.0)
    # step 1: one request decodes beside the next chunk, taking 1 or 3 of the 150 tokens
    assert one["prefill_tok"][1] == 149.0 and mtp["prefill_tok"][1] == 147.0
    assert one["prefill_tok"].sum() == mtp["prefill_tok"].sum() == 800.0
    a = econ.predict_burst(**ARGS, isl_tok=np.full(16, 300.0), osl_tok=np.full(16, 50.0))
    b = econ.predict_burst(**dict(ARGS, n_devices=2), isl_tok=np.full(32, 300.0),
                           osl_tok=np.full(32, 50.0))
    # two replicas of one device, twice the requests: the same run on each
    assert b["duration_s"] == pytest.approx(a["duration_s"], rel=1e-9)
    assert b["output_tok_per_s_per_device"] == pytest.approx(a["output_tok_per_s_per_device"])


def test_uniform_lengths_are_uniform_in_sending_order():
    isl, osl = econ.workload_lengths("uniform", 1000, 512.5, 256.5)
    assert isl[:500].mean() == pytest.approx(isl[500:].mean(), rel=0.05)
    assert osl[:500].mean() == pytest.approx(osl[500:].mean(), rel=0.05)


CLOSED = dict(model="llama-3.1-70b", hardware="h100-sxm", precision="fp8", n_devices=8, tp=8,
              kv_precision="fp8", prefill_chunk_tok=8192)


@pytest.mark.parametrize("decode_first", [True, False])
def test_a_long_closed_loop_reaches_the_steady_state_and_a_short_one_pays_its_drain(
        decode_first):
    """A client that keeps C requests in flight over N is a burst of N with at most C
    running. Over many requests per slot it approaches the steady state at C (the ramp-up
    and the drain become a small share of the run); over a few, the drain, where the last
    requests finish in a shrinking batch, lowers the output rate. At fixed lengths the slots
    run in waves: they start, decode and finish together, at the steady state's rate."""
    c = 64
    steady = predict_serving_with(**CLOSED, isl_tok=1000.0, osl_tok=1000.0, concurrency=c,
                                  osl_cv_ratio=1.0 / np.sqrt(3.0))
    rate = float(steady["output_tok_per_s_per_device"])

    def run(distribution, per_slot):
        isl, osl = econ.workload_lengths(distribution, c * per_slot, 1000.0, 1000.0)
        return econ.predict_burst(**CLOSED, isl_tok=isl, osl_tok=osl, client_concurrency=c,
                                  decode_priority=decode_first)
    long_, short = run("uniform", 60), run("uniform", 5)
    assert long_["max_running"] == c
    assert long_["output_tok_per_s_per_device"] == pytest.approx(rate, rel=0.05)
    assert long_["tok_per_s_per_user"] == pytest.approx(float(steady["tok_per_s_per_user"]),
                                                        rel=0.05)
    assert short["output_tok_per_s_per_device"] < 0.9 * rate
    waves = run("fixed", 5)
    plain = predict_serving_with(**CLOSED, isl_tok=1000.0, osl_tok=1000.0, concurrency=c)
    assert waves["output_tok_per_s_per_device"] == pytest.approx(
        float(plain["output_tok_per_s_per_device"]), rel=0.01)


def test_ledger_closed_loops_with_a_request_count_are_bursts_capped_at_their_concurrency():
    """A closed-loop row whose client fixes its lengths and states how many requests it sent
    is predicted as that many requests with at most its concurrency running (its engine's
    own cap, where lower, still holds); clearing requests_count returns it to the steady
    state at its concurrency."""
    ledger = econ.data.load("serving_benchmarks")
    key = "sglcookbook-qwen3-235b-b200-tp8-1000-1000-conc16"
    r = ledger.loc[key]
    assert r["length_distribution"] == "uniform" and r["requests_count"] == 80
    assert r["concurrency_count"] == 16
    kwargs, _ = C._row_arguments(r, econ.data.load("hardware"))
    for k in ("concurrency", "osl_cv_ratio", "fresh_start_window_tok"):
        kwargs.pop(k)
    engine = kwargs.pop("max_running_requests")
    isl, osl = econ.workload_lengths("uniform", 80, r["isl_tok"], r["osl_tok"])
    direct = econ.predict_burst(**dict(kwargs, isl_tok=isl, osl_tok=osl),
                                max_running_requests=engine, client_concurrency=16,
                                decode_priority=C.ledger_decode_priority(r))
    assert direct["max_running"] == 16
    pred = C.ledger_predictions(ledger.loc[[key]])
    assert pred["request_by_request"].all()
    got = pred.set_index("metric")["predicted"]
    assert got["output_tok_per_s_per_device"] == pytest.approx(
        direct["output_tok_per_s_per_device"], rel=1e-9)
    assert got["tok_per_s_per_user"] == pytest.approx(direct["tok_per_s_per_user"], rel=1e-9)
    # the client's own queue is not in the time to first token: each request's counts from
    # its sending, which is later than the start of the run for all but the first 16
    assert C._burst_prediction(r, C._row_arguments(r, econ.data.load("hardware"))[0])[
        "ttft_s"] == pytest.approx(direct["ttft_s"], rel=1e-9)
    from_start = econ.predict_burst(**dict(kwargs, isl_tok=isl, osl_tok=osl),
                                    max_running_requests=min(engine or np.inf, 16.0),
                                    decode_priority=C.ledger_decode_priority(r))
    assert direct["ttft_s"] < 0.5 * from_start["ttft_s"]
    steady = C.ledger_predictions(ledger.loc[[key]].assign(requests_count=np.nan))
    kwargs, _ = C._row_arguments(r, econ.data.load("hardware"))
    at_c = predict_serving_with(**kwargs)
    np.testing.assert_allclose(
        steady.set_index("metric").loc["output_tok_per_s_per_device", "predicted"],
        float(at_c["output_tok_per_s_per_device"]), rtol=1e-9)
    # the run's drain: below the steady state at five requests per slot
    assert got["output_tok_per_s_per_device"] < 0.95 * float(at_c["output_tok_per_s_per_device"])


def test_a_closed_loops_slots_are_dealt_to_the_replicas_in_whole_slots():
    """A client cap of C over R replicas of one device keeps C requests in flight in all:
    C mod R replicas hold one slot more than the others, and a cap below R leaves
    replicas idle. Each replica then runs the closed loop of its own slots."""
    isl, osl = np.full(240, 300.0), np.full(240, 40.0)

    def run(n_devices, n, c, **kw):
        return econ.predict_burst(**dict(ARGS, n_devices=n_devices), isl_tok=isl[:n],
                                  osl_tok=osl[:n], client_concurrency=c, **kw)
    # 6 slots on 4 replicas: two replicas hold 2 (80 requests each), two hold 1 (40)
    six = run(4, 240, 6)
    assert six["max_running"] == 2
    assert six["duration_s"] == pytest.approx(run(1, 80, 2)["duration_s"], rel=1e-9)
    # 2 slots on 4 replicas: two replicas busy, one request each at a time
    two, alone = run(4, 240, 2), run(1, 120, 1)
    assert two["duration_s"] == pytest.approx(alone["duration_s"], rel=1e-9)
    assert two["output_tok_per_s_per_device"] == pytest.approx(
        alone["output_tok_per_s_per_device"] / 2.0, rel=1e-9)
    # an engine cap below a replica's share holds: 8 slots on 4 replicas, 1 running on each
    capped = run(4, 240, 8, max_running_requests=1)
    assert capped["max_running"] == 1
    assert capped["duration_s"] == pytest.approx(run(1, 60, 1)["duration_s"], rel=1e-9)
    with pytest.raises(ValueError, match=r"client_concurrency must be a whole number.*2\.5"):
        run(4, 240, 2.5)
    # what may run at once: no more than a replica's requests; an engine cap below one, one
    assert run(1, 3, 64)["max_running"] == 3
    assert run(1, 10, 4, max_running_requests=0.5)["max_running"] == 1


def test_a_ledger_closed_loop_over_replicas_keeps_its_concurrency_in_flight_in_all():
    """A ledger row's closed loop of 6 over 4 replicas (every request at the same lengths):
    two replicas hold 2 slots and two hold 1, so the run lasts as long as one replica's closed
    loop of 2 over a third of the requests."""
    ledger = econ.data.load("serving_benchmarks")
    r = ledger.loc["dstack-dsr1-fp8-h200-vllm-tp8-3200-800-conc8"].copy()
    assert r["length_distribution"] == "fixed" and r["n_devices"] == r["tp_devices"] == 8
    kwargs, _ = C._row_arguments(r, econ.data.load("hardware"))
    one = C._burst_prediction(_with(r, concurrency_count=2.0, requests_count=80.0), kwargs)
    four = C._burst_prediction(_with(r, concurrency_count=6.0, requests_count=240.0,
                                     n_devices=32.0), dict(kwargs, n_devices=32.0))
    assert four["max_running"] == one["max_running"] == 2
    assert four["duration_s"] == pytest.approx(one["duration_s"], rel=1e-9)
    assert four["output_tok_per_s_per_device"] == pytest.approx(
        one["output_tok_per_s_per_device"] * 240.0 / 80.0 / 4.0, rel=1e-9)


def _with(row, **values):
    out = row.copy()
    for k, v in values.items():
        out[k] = v
    return out


def test_a_closed_loops_ttft_counts_from_each_requests_sending():
    """A closed-loop client sends a request as a slot frees: its TTFT is the engine's from
    then, not from the start of the run. One slot: every request's TTFT is a lone prompt's.
    Two slots on an engine that runs one request at a time: each request but the first
    waits for the one before it, one request's whole time D, so the mean TTFT is a lone
    prompt's plus D (N - 1) / N."""
    n = 10
    isl, osl = np.full(n, 500.0), np.full(n, 100.0)
    lone = econ.predict_burst(**ARGS, isl_tok=isl[:1], osl_tok=osl[:1])
    one = econ.predict_burst(**ARGS, isl_tok=isl, osl_tok=osl, client_concurrency=1)
    assert one["ttft_s"] == pytest.approx(lone["ttft_s"], rel=1e-9)
    assert one["duration_s"] == pytest.approx(n * lone["duration_s"], rel=1e-9)
    queued = econ.predict_burst(**ARGS, isl_tok=isl, osl_tok=osl, client_concurrency=2,
                                max_running_requests=1)
    assert queued["ttft_s"] == pytest.approx(
        lone["ttft_s"] + lone["duration_s"] * (n - 1) / n, rel=1e-9)
    # a burst (no client cap) through the same engine: TTFT from the start of the run
    burst = econ.predict_burst(**ARGS, isl_tok=isl, osl_tok=osl, max_running_requests=1)
    assert burst["ttft_s"] == pytest.approx(
        lone["ttft_s"] + lone["duration_s"] * (n - 1) / 2.0, rel=1e-9)


def test_a_client_sends_as_slots_free_and_the_engine_admits_under_its_own_cap():
    s = econ.burst_schedule([50.0, 50.0, 50.0], [3.0, 3.0, 3.0], max_running=1,
                            max_in_flight=2)
    # two sent at once, one running; the third sent when the first finishes (run 2)
    np.testing.assert_array_equal(s["sent_run"], [0, 0, 2])
    np.testing.assert_array_equal(s["first_run"], [0, 2, 4])
    with pytest.raises(ValueError, match=r"max_in_flight must be > 0.*0"):
        econ.burst_schedule([50.0], [3.0], max_running=1, max_in_flight=0)
