"""A burst: every request of a workload sent at once, served step by step as an engine would.

Serving benchmarks run without a concurrency limit (``vllm bench serve`` at its default
request rate of infinity with no ``--max-concurrency``, SGLang's ``bench_serving`` the same
way) send all their requests at the start and time how long the engine takes to drain them.
That is not the steady state :func:`econ.predict_serving` prices, where every finished
request is replaced. In a burst the prompts come first, decodes share their steps with those
prompts or wait for them, and the batch shrinks as requests finish. With outputs of varied
lengths (ShareGPT conversations) the run ends with a tail of the longest requests decoding in
small batches, where a step costs nearly what a full one does: the measured "output tokens per
second" is the run's output over its duration, tail included.

:func:`burst_schedule` lays out the steps for requests of given prompt and output lengths,
first come first served, under the two scheduling rules engines use (``decode_priority`` of
``data/engine_defaults.csv``):

- **decode first** (vLLM's V1 scheduler, TensorRT-LLM): every step runs all decoding
  requests and fills the rest of a token budget (``prefill_chunk_tok``) with prompt chunks in
  arrival order;
- **prefill first** (SGLang): while a prompt waits and memory admits it, a step runs prompt
  chunks only (up to the budget); decode steps run when no prompt can start.

A request is admitted (its prompt starts) only while fewer than ``max_running`` requests hold
memory. Its first token comes with the step that completes its prompt; it then needs
``ceil((osl - 1) / tokens per step)`` decode steps. The schedule depends on token counts only,
so :func:`predict_burst` prices its distinct steps at once with
:func:`econ.predict_serving_with` and reads the run from the cumulative step times.

A client that caps the requests in flight (``--max-concurrency``) over a fixed number of
requests runs the same schedule: it sends its next request as one of its own finishes, so a
closed loop of ``C`` requests in flight over ``N`` is a burst of ``N`` of which at most ``C``
are sent and not finished (``max_in_flight``, :func:`predict_burst`'s
``client_concurrency``); the engine's own cap (``max_running``) still holds under it, and a
request's time to first token counts from its sending. Every slot starts a prompt at once and
the run ends with a drain, the last requests finishing in a shrinking batch: both count in
what such a benchmark reports, and neither is in a steady state.

:func:`workload_lengths` gives per-request lengths for the workloads of the ledger's burst
and closed-loop runs: those of one measured run of vLLM's ShareGPT benchmark client
(``data/sharegpt_lengths.csv``) scaled to the run's own means, SGLang's random lengths
(uniform, from 1 to about twice the mean), or every request at the means.

References
----------
.. [1] vLLM, ``vllm/v1/core/sched/scheduler.py`` ("First, schedule the RUNNING requests",
   then the waiting ones within ``token_budget``), vllm-project/vllm.
.. [2] SGLang, ``python/sglang/srt/managers/scheduler.py`` (``get_next_batch_to_run``: a new
   prefill batch before the running decode batch), sgl-project/sglang.
.. [3] SGLang, ``python/sglang/bench_serving.py`` (``sample_random_requests``: prompt lengths
   drawn uniformly from ``[max(int(len * range_ratio), 1), len]``, output lengths from
   ``[int(len * range_ratio), len]``), sgl-project/sglang.
"""
from __future__ import annotations

import numpy as np

from econ import data
from econ._checks import numeric, positive
from econ.predict import predict_serving_with

__all__ = ["LENGTH_DISTRIBUTIONS", "burst_schedule", "predict_burst", "workload_lengths"]

#: Length distributions :func:`workload_lengths` knows (the ledger's
#: ``length_distribution`` column); an empty cell means every request at the row's means.
LENGTH_DISTRIBUTIONS = ("sharegpt", "uniform", "fixed")

#: Fractional parts of the golden ratio and of the square root of 2: they order the uniform
#: quantiles of :func:`workload_lengths` (deterministic low-discrepancy sequences), prompts
#: and outputs differently so that the two are not paired.
_GOLDEN_FRAC = (np.sqrt(5.0) - 1.0) / 2.0
_SQRT2_FRAC = np.sqrt(2.0) - 1.0
#: Longest prompt or output a schedule takes (steps are counted in 64-bit integers). [tokens]
_MAX_OSL_TOK = 1e9
#: Most requests :func:`workload_lengths` lays out (one array entry each). [-]
_MAX_REQUESTS = 10_000_000


def workload_lengths(distribution, n_requests, isl_tok, osl_tok):
    """Per-request prompt and output lengths of a workload with the given means.

    Parameters
    ----------
    distribution : {"sharegpt", "uniform", "fixed"} or None
        ``"sharegpt"``: the lengths of the measured run of vLLM's ShareGPT benchmark client
        in ``data/sharegpt_lengths.csv``, in the order it sent them, of the 622 requests that
        returned text (the 378 that returned none, mostly the longest prompts, are left out:
        their outputs are unknown); requests beyond 622 repeat them; each column scaled so
        that its mean over the ``n_requests`` is the given one. The run's generated lengths
        stand for those of every ShareGPT run of that client: an assumption (another model
        stops at end-of-sequence elsewhere, another tokenizer counts otherwise) that the
        scaling to each run's own means softens. ``"uniform"``: SGLang's random dataset at
        range ratio 0, each length uniform on ``[1, 2 mean - 1]`` (SGLang draws prompts from
        1 and outputs from 0 up to the nominal length; here every output has at least one
        token), as deterministic quantiles in low-discrepancy orders, prompts and outputs
        unpaired. The range is set by the run's own mean, so that the mean is kept: where a
        short run's sampled mean is off half the nominal length, its longest request is off
        the nominal by as much (0.35 to 0.65 of the nominal in the ledger: 0.7 to 1.3 times
        it). ``"fixed"``: every request at the means, as a client that fixes them sends
        (SGLang's random dataset at range ratio 1, end-of-sequence ignored); None: the same,
        where no client fixed them.
    n_requests : int
        Requests in the workload. [-]
    isl_tok, osl_tok : numeric
        Mean prompt and output lengths. [tokens]

    Returns
    -------
    tuple of numpy.ndarray
        ``(isl_tok, osl_tok)``, one entry per request in sending order. [tokens]

    Raises
    ------
    ValueError
        An unknown distribution or a length or count out of range.
    """
    n = int(positive("n_requests", n_requests, integer=True))
    if n > _MAX_REQUESTS:
        raise ValueError(f"n_requests={n_requests!r} is more than the {_MAX_REQUESTS:.0e} "
                         "requests a burst lays out one by one")
    isl = float(positive("isl_tok", isl_tok))
    osl = float(positive("osl_tok", osl_tok))
    if distribution is None or distribution == "fixed":
        return np.full(n, isl), np.full(n, osl)
    if distribution == "sharegpt":
        t = data.load("sharegpt_lengths").sort_values("request_order_count")
        t = t[t["output_tok"] >= 1]          # requests that returned text
        i = np.arange(n) % len(t)
        x = t["input_tok"].to_numpy(float)[i]
        y = t["output_tok"].to_numpy(float)[i]
        return x * isl / x.mean(), y * osl / y.mean()
    if distribution == "uniform":
        q = (np.arange(n) + 0.5) / n
        i = np.arange(n)
        # quantiles in two low-discrepancy orders: uniform in sending order, and unpaired
        x = q[np.argsort((i * _GOLDEN_FRAC) % 1.0)]
        y = q[np.argsort((i * _SQRT2_FRAC) % 1.0)]
        return 1.0 + x * (2.0 * isl - 2.0), 1.0 + y * (2.0 * osl - 2.0)
    raise ValueError(f"distribution={distribution!r} is not one of {LENGTH_DISTRIBUTIONS} "
                     "or None")


def burst_schedule(isl_tok, osl_tok, *, prefill_chunk_tok=None, max_running,
                   max_in_flight=None, decode_priority=True, tok_per_decode_step=1.0,
                   decode_budget_tok=1.0):
    """The steps an engine takes to serve requests that all arrive at once, or that a
    closed-loop client sends as earlier ones finish.

    Parameters
    ----------
    isl_tok, osl_tok : array_like
        Prompt and output length of each request, in arrival order; outputs are rounded to
        whole tokens of at least 1 (the first comes with the prompt's last chunk). [tokens]
    prefill_chunk_tok : numeric, optional
        Token budget of a step: decode tokens plus prompt chunks (decode first) or prompt
        chunks alone (prefill first); None: no budget (every admitted prompt in one step).
        [tokens]
    max_running : numeric
        Requests that may hold memory at once (started and not finished): the engine's cap.
        [-]
    max_in_flight : int, optional
        A closed-loop client's cap: it sends the next request as one of its requests
        finishes, so at most this many are sent and not finished; None: every request is
        sent at the start. A request sent while ``max_running`` are running waits for the
        engine. [-]
    decode_priority : bool, default True
        True: decode first (vLLM V1, TensorRT-LLM); False: prefill first (SGLang).
    tok_per_decode_step : numeric, default 1
        Tokens a decode step yields per request (above 1 with speculative decoding: the
        accepted drafts plus one). [tokens]
    decode_budget_tok : numeric, default 1
        Tokens a decoding request takes from the step's budget (``1 + mtp_draft_tok``: every
        draft is verified, accepted or not). [tokens]

    Returns
    -------
    dict
        Runs of identical steps: ``decode_count`` (requests decoding in each step) [-],
        ``prefill_tok`` (prompt tokens in each step) [tokens], ``repeat_count`` (steps in the
        run) [-]; per request, ``first_run`` and ``last_run`` (the run whose last step yields
        its first and its last token) [-], ``sent_run`` (the run at whose start it was sent:
        0 for those sent at once) [-] and ``osl_tok`` (the whole outputs used) [tokens].

    Raises
    ------
    ValueError
        Lengths of different shapes or out of range, or a schedule that stalls.

    Notes
    -----
    Between two events (a prompt chunk, a request finishing) every step is the same, so the
    schedule is laid out as runs of identical steps: at most one per prompt chunk and one per
    finishing request.
    """
    isl = np.atleast_1d(np.asarray(positive("isl_tok", isl_tok), dtype=float))
    out = np.atleast_1d(np.asarray(positive("osl_tok", osl_tok), dtype=float))
    if isl.shape != out.shape or isl.ndim != 1:
        raise ValueError(f"isl_tok and osl_tok must be 1-D arrays of one length per request; "
                         f"got shapes {isl.shape} and {out.shape}")
    n = isl.size
    budget = np.inf if prefill_chunk_tok is None else float(
        positive("prefill_chunk_tok", prefill_chunk_tok))
    cap = int(np.floor(float(positive("max_running", max_running))))
    if cap < 1:
        raise ValueError(f"max_running={max_running!r} admits no request; it must be >= 1")
    client = n if max_in_flight is None else int(
        positive("max_in_flight", max_in_flight, integer=True))
    tps = float(numeric("tok_per_decode_step", tok_per_decode_step, min_value=1.0))
    cost = float(numeric("decode_budget_tok", decode_budget_tok, min_value=1.0))
    if np.any(out > _MAX_OSL_TOK) or np.any(isl > _MAX_OSL_TOK):
        raise ValueError(f"isl_tok and osl_tok must be at most {_MAX_OSL_TOK:.0e} tokens per "
                         f"request; got up to {max(isl.max(), out.max()):.3g}")
    osl = np.maximum(np.round(out), 1.0)
    need = np.ceil((osl - 1.0) / tps - 1e-9).astype(np.int64)   # decode steps after the first
    cum = np.cumsum(isl)
    first = np.full(n, -1, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    sent = np.full(n, -1, dtype=np.int64)
    n_sent = 0
    left = need.copy()                      # decode steps still to run, per request
    decode_count, prefill_tok, repeat = [], [], []
    prompt_done = 0.0                       # prompt tokens computed (first come, first served)
    n_first = 0                             # requests whose prompt is complete
    n_done = 0
    done_mask = np.zeros(n, dtype=bool)
    while n_done < n:
        run = len(decode_count)
        idx = np.flatnonzero(~done_mask[:n_first] & (first[:n_first] < run))
        now_sent = min(n_done + client, n)   # the client's next requests, as slots free
        sent[n_sent:now_sent] = run
        n_sent = now_sent
        admitted_tok = cum[min(n_done + cap, n_sent) - 1]
        waiting = max(admitted_tok - prompt_done, 0.0)
        if decode_priority:
            chunk = min(max(budget - cost * idx.size, 0.0), waiting)
        else:
            chunk = min(budget, waiting)
            if chunk > 0.0:
                idx = idx[:0]
        if chunk <= 0.0 and idx.size == 0:
            raise ValueError(f"a burst with max_running={cap} and prefill_chunk_tok="
                             f"{budget:g} stalls: no request can decode and no prompt start")
        # with no prompt chunk, every step is the same until the next request finishes
        k = 1 if chunk > 0.0 or idx.size == 0 else int(left[idx].min())
        left[idx] -= k
        fin = idx[left[idx] <= 0]
        done_mask[fin] = True
        last[fin] = run
        prompt_done += chunk
        complete = min(int(np.searchsorted(cum, prompt_done * (1.0 + 1e-12), side="right")), n)
        new = np.arange(n_first, complete)
        first[new] = run
        alone = new[need[new] == 0]          # a single output token: done with the prompt
        done_mask[alone] = True
        last[alone] = run
        n_first = complete
        n_done = int(done_mask.sum())
        decode_count.append(idx.size)
        prefill_tok.append(chunk)
        repeat.append(k)
    return dict(decode_count=np.asarray(decode_count, dtype=float),
                prefill_tok=np.asarray(prefill_tok, dtype=float),
                repeat_count=np.asarray(repeat, dtype=float),
                first_run=first, last_run=last, sent_run=sent, osl_tok=osl)


def predict_burst(model, hardware, precision, *, n_devices, tp, ep=1, dp_attention=False,
                  isl_tok, osl_tok, kv_precision="bf16", prefill_chunk_tok=None,
                  max_running_requests=None, client_concurrency=None, decode_priority=True,
                  **engine):
    """Predict what a benchmark measures when it sends every request of a workload at once,
    or keeps a fixed number of them in flight until all are served (a closed loop).

    Parameters
    ----------
    model, hardware, precision, n_devices, tp, ep, dp_attention, kv_precision
        As in :func:`econ.predict_serving`.
    isl_tok, osl_tok : array_like
        Prompt and output length of each request sent, in sending order
        (:func:`workload_lengths`); requests go round-robin to the ``n_devices / tp``
        replicas, or with ``client_concurrency`` to the replica holding their slot. [tokens]
    prefill_chunk_tok : numeric, optional
        Token budget of a step on one replica (vLLM ``max_num_batched_tokens``, SGLang
        ``chunked_prefill_size``); None: no budget. [tokens]
    max_running_requests : numeric, optional
        The engine's cap on requests running at once per replica (vLLM ``max_num_seqs``);
        the memory cap at the workload's mean lengths (:func:`econ.predict_serving`'s
        ``max_concurrency``) applies in any case. [-]
    client_concurrency : numeric, optional
        A closed-loop client's cap on its requests in flight, over all replicas (``vllm
        bench serve --max-concurrency``): it sends the next request as one finishes, to the
        replica that finished it. The ``C`` slots are dealt to ``min(C, replicas)`` replicas
        as evenly as whole slots allow (``C mod replicas`` of them hold one more), each
        serving the requests of its slots; None: every request sent at the start. [-]
    decode_priority : bool, default True
        The engine's scheduling rule (:func:`burst_schedule`).
    **engine
        Further arguments of :func:`econ.predict_serving_with` (``mtp_draft_tok``,
        ``step_calibration``, ``serving``, ``compute_precision``, ...); not
        ``osl_cv_ratio`` or ``fresh_start_window_tok``: the requests carry their own lengths.

    Returns
    -------
    dict
        ``duration_s`` (first request sent to last token) [s]; ``ttft_s`` and ``tpot_s``,
        means over requests as ``vllm bench serve`` reports them (a request's TTFT: from its
        sending, which for a closed loop is when a slot of the client freed, to its first
        token, waiting for the engine included; its TPOT: ``(last token - first token) /
        (osl - 1)``, over requests of more than one output token) [s];
        ``tok_per_s_per_user`` (``1 / tpot_s``) and ``output_tok_per_s_per_device`` (every
        output token over the duration, per device) [tokens/s]; ``n_steps`` and
        ``max_running`` (the most requests a replica may run at once: its cap, its
        client's slots or its requests, whichever is fewest) [-].

    Notes
    -----
    A step is priced at the workload's mean context, as :func:`econ.predict_serving` prices
    a steady state; a step that carries both decodes and a prompt chunk costs its decode step
    plus the chunk's marginal cost (a prompt pass of the chunk less one of a single token:
    the weights are read once). Every replica is scheduled; the slowest ends the run. A
    replica is ``tp`` devices with one queue: with ``dp_attention`` its data-parallel
    attention ranks are taken as filled evenly from that queue (an engine schedules each
    rank on its own), and their imbalance is the steady state's
    (:func:`econ.predict_serving`).
    """
    # a steady state's spread of lengths around their mean: none here (0 and None are
    # the steady state's own defaults, accepted)
    cv = engine.get("osl_cv_ratio")
    if cv is None or (np.ndim(cv) == 0 and not isinstance(cv, str) and cv == 0):
        engine.pop("osl_cv_ratio", None)
    if engine.get("fresh_start_window_tok") is None:
        engine.pop("fresh_start_window_tok", None)
    spread = {k: engine[k] for k in ("osl_cv_ratio", "fresh_start_window_tok") if k in engine}
    if spread:
        raise ValueError(f"predict_burst serves each request at its own lengths from the "
                         f"start of the burst: drop {spread} (a spread of lengths around a "
                         "mean and a measurement window are a steady state's arguments, "
                         "econ.predict_serving_with)")
    isl = np.atleast_1d(np.asarray(positive("isl_tok", isl_tok), dtype=float))
    osl = np.atleast_1d(np.asarray(positive("osl_tok", osl_tok), dtype=float))
    replicas = max(float(positive("n_devices", n_devices)) / float(positive("tp", tp)), 1.0)
    args = dict(n_devices=n_devices, tp=tp, ep=ep, dp_attention=dp_attention,
                isl_tok=float(isl.mean()), osl_tok=float(osl.mean()),
                kv_precision=kv_precision, **engine)
    whole = predict_serving_with(model, hardware, precision, concurrency=1.0, phase="decode",
                                 **args)
    cap = float(whole["max_concurrency"]) / replicas
    if max_running_requests is not None:
        cap = min(cap, float(positive("max_running_requests", max_running_requests)))
    cap = max(float(np.floor(cap)), 1.0)
    tps = float(whole["step_s"] / whole["tpot_s"])          # tokens a decode step yields
    draft = float(engine.get("mtp_draft_tok") or 0.0)
    r = min(int(np.floor(replicas + 1e-9)), isl.size)       # replicas given a request
    order = np.arange(isl.size)
    if client_concurrency is None:                          # requests go round-robin
        shares, route = [None] * r, order % r
    else:                                                   # slots dealt to replicas
        c = int(positive("client_concurrency", client_concurrency, integer=True))
        active = min(r, c)
        shares = [c // active + (k < c % active) for k in range(active)]
        route = (order % c) % active
    first, last, ttft, outs, durations, n_steps, most = [], [], [], [], [], 0.0, 0.0
    for k, share in enumerate(shares):
        mine = route == k
        if not mine.any():
            continue
        s = burst_schedule(isl[mine], osl[mine], prefill_chunk_tok=prefill_chunk_tok,
                           max_running=cap, max_in_flight=share,
                           decode_priority=bool(decode_priority), tok_per_decode_step=tps,
                           decode_budget_tok=1.0 + draft)
        t = np.cumsum(_step_times(model, hardware, precision, s, replicas, args)
                      * s["repeat_count"])
        first.append(t[s["first_run"]])
        last.append(t[s["last_run"]])
        ttft.append(t[s["first_run"]] - np.concatenate([[0.0], t])[s["sent_run"]])
        outs.append(s["osl_tok"])
        durations.append(t[-1])
        n_steps = max(n_steps, float(s["repeat_count"].sum()))
        most = max(most, min(cap, float(mine.sum()), np.inf if share is None else share))
    first, last, out = np.concatenate(first), np.concatenate(last), np.concatenate(outs)
    many = out > 1.0
    tpot = float(np.mean((last[many] - first[many]) / (out[many] - 1.0))) \
        if many.any() else float("nan")
    duration = float(max(durations))                     # the slowest replica ends the run
    return dict(duration_s=duration, ttft_s=float(np.mean(np.concatenate(ttft))),
                tpot_s=tpot, tok_per_s_per_user=1.0 / tpot,
                output_tok_per_s_per_device=float(out.sum()) / duration / float(n_devices),
                n_steps=n_steps, max_running=most)


def _step_times(model, hardware, precision, sched, replicas, args):
    """Seconds of each run's step: its decode step (``decode_count`` requests on a replica),
    plus what its prompt chunk adds. A step of prompts alone is a prompt pass; a chunk riding
    a decode step adds its marginal cost, a pass of the chunk less a pass of one token
    (the weights are read and the step's fixed costs paid once, by the decode step)."""
    dec, pre = sched["decode_count"], sched["prefill_tok"]
    out = np.zeros(dec.size)
    mean_isl = float(args["isl_tok"])
    if (dec > 0).any():
        d = predict_serving_with(model, hardware, precision, phase="decode",
                                 concurrency=dec[dec > 0] * replicas, **args)
        out[dec > 0] += d["step_s"]
    if (pre > 0).any():
        chunk = pre[pre > 0]
        p = predict_serving_with(model, hardware, precision, phase="prefill",
                                 concurrency=chunk / mean_isl * replicas, **args)["step_s"]
        one = float(predict_serving_with(model, hardware, precision, phase="prefill",
                                         concurrency=replicas / mean_isl, **args)["step_s"])
        alone = dec[pre > 0] == 0
        out[pre > 0] += np.where(alone, p, np.maximum(p - one, 0.0))
    return out
