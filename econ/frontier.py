"""What a token costs: against the batch and at a given speed per user.

At the kernel level (:func:`econ.decode_step`, the calibrated step), :func:`batch_cost_sweep`
prices decode against the batch, :func:`decode_cost_band` gives its Monte Carlo band over the
uncertain inputs (:func:`decode_cost_inputs`, the engine's own error among them),
:func:`decode_cost_tornado` what moves it most, and :func:`operating_cost_table` compares
models at one batch policy. At the engine level:

:func:`serving_cost_table` prices one deployment at several concurrencies;
:func:`interactivity_frontier` does it for several deployments, the curve buyers ask about
("what does a token cost at 50 tokens/s per user?"): each concurrency trades speed per user
for tokens per device, so cost per token falls as each user gets slower.

Defaults are the notebooks': utilization from ``data/assumptions.csv``, the GPU-hour price
from the hardware row's rental price.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import data
from ._checks import fraction, positive
from .amortization import owned_usd_per_hour, useful_usd_per_hour
from .engine import Calibration, held_bytes_per_device, model_spec
from .inference import decode_cost_usd_per_mtok, decode_step, model_devices_to_hold
from .predict import is_sram, predict_serving_with, sram_devices_to_hold
from .pricing import cost_usd_per_mtok, price_gap_split
from .sensitivity import (
    grid,
    lognormal_from_range,
    monte_carlo,
    summarize,
    tornado,
    triangular,
    uniform,
)
from .units import BYTES_PER_PARAM, PEAK_FLOP_COLUMN

__all__ = ["serving_cost_table", "frontier_setups", "frontier_exclusions",
           "matmul_rate_overrides",
           "interactivity_frontier", "cost_at_speed",
           "frontier_result_rows", "DECODE_COST_INPUT_TITLES", "batch_cost_sweep",
           "decode_cost_inputs", "decode_cost_band", "decode_cost_tornado",
           "operating_cost_table", "price_gap_table", "price_gap_parts", "PRICE_GAP_CLAIMS",
           "price_gap_result_rows", "batch_cost_result_rows", "batch_cost_claims",
           "frontier_at_speed", "vendor_cost_at_speed"]


def serving_cost_table(model, hardware, precision, *, n_devices, tp, concurrency, isl_tok,
                       osl_tok, usd_per_gpu_hour=None, utilization_frac=None, ep=1,
                       dp_attention=False, kv_precision="bf16", mtp_draft_tok=0,
                       osl_cv_ratio=0.0):
    """Speed and $/Mtok of a deployment at each concurrency, one row each.

    ``hardware`` is a name in ``data/hardware.csv`` or a row of it (with cells overridden,
    :func:`frontier_setups`). ``usd_per_gpu_hour`` defaults to the hardware row's
    ``rental_usd_per_hour``;
    ``utilization_frac`` to ``data/assumptions.csv``'s ``utilization_frac`` (the notebooks'
    default). Cost per output token charges the devices' whole useful hour to output tokens.
    The deployment is served by :func:`econ.predict_serving_with`, which at ``osl_cv_ratio``
    0 is :func:`econ.predict_serving`. Where the outputs' lengths spread (``osl_cv_ratio``,
    their standard deviation over their mean: about 1.25 for a reasoning model's) the
    requests in flight are drawn in proportion to their lengths, so a decoding request
    attends to a longer context on average (:func:`econ.inflight_context_tok`).

    Returns
    -------
    pandas.DataFrame
        ``concurrency``, ``tok_per_s_per_user``, ``tpot_s``, ``ttft_s``,
        ``output_tok_per_s_per_device``, ``usd_per_gpu_hour``, ``utilization_frac``,
        ``output_usd_per_mtok``.
    """
    row = hardware if isinstance(hardware, pd.Series) else data.row("hardware", hardware)
    if usd_per_gpu_hour is None:
        usd_per_gpu_hour = row["rental_usd_per_hour"]
        if not np.isfinite(usd_per_gpu_hour):
            raise ValueError(f"hardware {hardware!r} has no rental_usd_per_hour in the table; "
                             "pass usd_per_gpu_hour")
    if utilization_frac is None:
        utilization_frac = float(data.load("assumptions").loc["utilization_frac", "value"])
    conc = np.atleast_1d(np.asarray(concurrency, dtype=float))
    r = predict_serving_with(model, row, precision, n_devices=n_devices, tp=tp, ep=ep,
                             dp_attention=dp_attention, isl_tok=isl_tok, osl_tok=osl_tok,
                             concurrency=conc, kv_precision=kv_precision,
                             mtp_draft_tok=mtp_draft_tok, osl_cv_ratio=osl_cv_ratio)
    per_hour = useful_usd_per_hour(float(usd_per_gpu_hour), float(utilization_frac))
    return pd.DataFrame({
        "concurrency": r["concurrency"], "tok_per_s_per_user": r["tok_per_s_per_user"],
        "tpot_s": r["tpot_s"], "ttft_s": r["ttft_s"],
        "output_tok_per_s_per_device": r["output_tok_per_s_per_device"],
        "usd_per_gpu_hour": float(usd_per_gpu_hour), "utilization_frac": float(utilization_frac),
        "output_usd_per_mtok": cost_usd_per_mtok(per_hour, r["output_tok_per_s_per_device"]),
    })


def _hardware_row(name, hardware_overrides=None):
    """A row of ``data/hardware.csv`` with the cells of ``hardware_overrides[name]`` replaced
    (an estimated peak, an assumed price); an override of a column the table lacks is an
    error."""
    row = data.row("hardware", name).copy()
    for col, value in ((hardware_overrides or {}).get(name) or {}).items():
        if col not in row.index and col != "stage_hop_latency_s":
            raise ValueError(f"hardware_overrides for {name!r}: no column {col!r} in "
                             "data/hardware.csv")
        row[col] = value
    return row


def matmul_rate_overrides(names, precision, compute_precision, overrides=None):
    """``hardware_overrides`` under which the named devices store weights at ``precision``
    and multiply at ``compute_precision``'s dense peak (Groq and Cerebras publish no FP8
    peak: FP8 weights multiplied at their 16-bit rate), on top of ``overrides``.

    Parameters
    ----------
    names : sequence of str
        Keys of ``data/hardware.csv`` to run at ``compute_precision``.
    precision : str
        Weight precision of the frontier.
    compute_precision : str or dict
        Matmul precision, one for all or ``{name: precision}``.
    overrides : dict, optional
        ``{name: {column: value}}`` already filled (an estimated peak, a price); applied
        first, so an estimated 16-bit peak carries over.

    Returns
    -------
    dict
        ``{name: {column: value}}`` for :func:`frontier_setups` and friends.
    """
    out = {n: dict(cells) for n, cells in (overrides or {}).items()}
    for n in dict.fromkeys(names):
        cp = compute_precision.get(n, precision) if isinstance(compute_precision, dict) \
            else compute_precision
        for p in (precision, cp):
            if p not in PEAK_FLOP_COLUMN:
                raise ValueError(f"precision must be one of {sorted(PEAK_FLOP_COLUMN)}, "
                                 f"got {p!r}")
        row = _hardware_row(n, out)
        if cp != precision:
            out.setdefault(n, {})[PEAK_FLOP_COLUMN[precision]] = row[PEAK_FLOP_COLUMN[cp]]
    return out


def frontier_setups(model, precision, hardware, *, weight_share_frac=0.5, exclude=(),
                    concurrency=None, isl_tok=None, osl_tok=None, hardware_overrides=None):
    """The deployments each device can serve the model with, priced at the device's *owned*
    cost per hour under ``data/assumptions.csv`` (so devices with and without a public rental
    price compare on one basis). Devices in ``exclude`` (the index of
    :func:`frontier_exclusions`) are skipped.

    - **HBM devices** (GPUs, TPUs, ...): one replica per power-of-two tensor-parallel group,
      from the smallest whose weights take at most ``weight_share_frac`` of its memory (the
      rest holds the cache) up to a whole node. Wider groups buy speed per user with more
      devices per request.
    - **SRAM machines** (``memory_kind == "sram"``: Groq LPU, Cerebras CS-3): for each
      power-of-two stage width ``tp`` up to a node (a GroqNode's 8 chips; 1 for a CS-3), the
      fewest chips that hold the model in SRAM (:func:`econ.sram_devices_to_hold`, a multiple
      of ``tp``). With ``concurrency``, ``isl_tok`` and ``osl_tok`` given, one setup per
      concurrency, sized for the weights *and* the cache of that many requests (column
      ``concurrency``); without them, one setup whose weights take at most
      ``weight_share_frac`` of the chips' SRAM, the rest for the cache, as for HBM devices.

    Parameters
    ----------
    model : str
        A models row.
    precision : str
        Weight precision.
    hardware : list of str
        Keys of ``data/hardware.csv``.
    weight_share_frac : float, default 0.5
        Share of memory the weights may take (HBM devices; SRAM without a concurrency).
        [fraction]
    exclude : sequence of str
        Devices left out.
    concurrency : array-like, optional
        Requests in flight an SRAM machine is sized for, one setup each. [-]
    isl_tok, osl_tok : float, optional
        Input and output tokens per request (needed with ``concurrency``). [tokens]
    hardware_overrides : dict, optional
        ``{name: {column: value}}``: cells of ``data/hardware.csv`` filled for this run (the
        CS-3's dense peak and price, which Cerebras does not publish).

    Returns
    -------
    pandas.DataFrame
        ``hardware``, ``n_devices``, ``tp``, ``usd_per_gpu_hour`` [USD/h] and ``concurrency``
        (the requests an SRAM setup is sized for; NaN: any), one row per setup.
    """
    spec = model_spec(model)
    a = data.load("assumptions")["value"]
    if concurrency is not None and (isl_tok is None or osl_tok is None):
        raise ValueError("frontier_setups: concurrency needs isl_tok and osl_tok (the cache "
                         "an SRAM machine must hold)")
    conc = None if concurrency is None else np.atleast_1d(
        positive("concurrency", np.asarray(concurrency, dtype=float)))
    cols = ["hardware", "n_devices", "tp", "usd_per_gpu_hour", "concurrency"]
    rows = []
    for h in [h for h in dict.fromkeys(hardware) if h not in set(exclude)]:
        row = _hardware_row(h, hardware_overrides)
        cost = float(owned_usd_per_hour(row, a["server_life_years"], a["cost_of_capital_frac"],
                                        a["pue_ratio"], a["electricity_usd_per_kwh"],
                                        a["hosting_opex_frac"]).device_usd_per_hour)
        per_node = int(row["n_devices_per_node"])
        if is_sram(row):
            tp = 1
            while tp <= per_node:
                if conc is None:
                    n = [float(sram_devices_to_hold(spec, row, precision, tp=tp,
                                                    weight_share_frac=weight_share_frac))]
                    cs = [np.nan]
                else:
                    n = list(np.atleast_1d(sram_devices_to_hold(
                        spec, row, precision, tp=tp, concurrency=conc, isl_tok=isl_tok,
                        osl_tok=osl_tok)))
                    cs = list(conc)
                rows += [dict(hardware=h, n_devices=int(k), tp=tp, usd_per_gpu_hour=cost,
                              concurrency=float(c)) for k, c in zip(n, cs)]
                tp *= 2
            continue
        tp = 1
        while held_bytes_per_device(spec, BYTES_PER_PARAM[precision], tp=tp) \
                > weight_share_frac * row["memory_bytes"]:
            tp *= 2
            if tp > per_node:
                raise ValueError(f"{model!r} in {precision} does not fit on one node of "
                                 f"{h!r} with {weight_share_frac:.0%} of memory for weights")
        while tp <= per_node:
            rows.append(dict(hardware=h, n_devices=tp, tp=tp, usd_per_gpu_hour=cost,
                             concurrency=np.nan))
            tp *= 2
    return pd.DataFrame(rows, columns=cols)


def frontier_exclusions(model, precision, hardware, *, weight_share_frac=0.5,
                        hardware_overrides=None):
    """The devices :func:`frontier_setups` cannot put on the frontier, and why.

    A device is left out when its row (with ``hardware_overrides``) lacks a figure the engine
    level or its owned cost needs (the dense peak at ``precision``, ``memory_bytes_per_s``,
    ``purchase_usd``, ``tdp_w``), or when the model's weights do not fit in
    ``weight_share_frac`` of one whole node's memory. An SRAM machine (Groq LPU, Cerebras
    CS-3) is never left out for size: it takes as many chips as the model needs.

    Parameters
    ----------
    model : str
        A models row.
    precision : str
        Weight and matmul precision.
    hardware : list of str
        Keys of ``data/hardware.csv``.
    weight_share_frac : float, default 0.5
        As in :func:`frontier_setups`. [fraction]
    hardware_overrides : dict, optional
        As in :func:`frontier_setups`.

    Returns
    -------
    pandas.Series
        Index: the devices left out (in the given order); values: the reason, in words.
        Empty when every device can be placed.
    """
    if precision not in PEAK_FLOP_COLUMN:
        raise ValueError(f"precision must be one of {sorted(PEAK_FLOP_COLUMN)}, "
                         f"got {precision!r}")
    spec = model_spec(model)
    reasons = {}
    for h in dict.fromkeys(hardware):
        row = _hardware_row(h, hardware_overrides)
        need = [PEAK_FLOP_COLUMN[precision], "memory_bytes_per_s", "purchase_usd", "tdp_w"]
        if is_sram(row) and PEAK_FLOP_COLUMN["bf16"] not in need:
            need.append(PEAK_FLOP_COLUMN["bf16"])
        gaps = [c for c in need if not np.isfinite(float(row[c]))]
        if gaps:
            reasons[h] = f"no {', '.join(gaps)} in data/hardware.csv"
            continue
        if is_sram(row):
            continue
        held = held_bytes_per_device(spec, BYTES_PER_PARAM[precision],
                                     tp=float(row["n_devices_per_node"]))
        if held > weight_share_frac * row["memory_bytes"]:
            reasons[h] = (f"{spec.name} in {precision} does not fit on one node with "
                          f"{weight_share_frac:.0%} of memory for weights")
    return pd.Series(reasons, dtype=object, name="reason")


def cost_at_speed(frontier, min_tok_per_s_per_user):
    """Cheapest $/Mtok each deployment reaches while every user gets at least a speed.

    Parameters
    ----------
    frontier : pandas.DataFrame
        From :func:`interactivity_frontier`.
    min_tok_per_s_per_user : numeric
        The speed each user must see. [tokens/s]

    Returns
    -------
    pandas.DataFrame
        Index ``hardware``; ``output_usd_per_mtok`` (NaN where no setup is fast enough),
        and the ``tp``, ``n_devices``, ``concurrency`` and ``tok_per_s_per_user`` of that
        point.
    """
    ok = frontier[frontier["tok_per_s_per_user"] >= min_tok_per_s_per_user]
    best = ok.loc[ok.groupby("hardware")["output_usd_per_mtok"].idxmin()]
    best = best.set_index("hardware")[["output_usd_per_mtok", "tp", "n_devices", "concurrency",
                                       "tok_per_s_per_user"]]
    return best.reindex(pd.unique(frontier["hardware"]))


def interactivity_frontier(model, precision, setups, concurrency, *, isl_tok, osl_tok,
                           utilization_frac=None, hardware_overrides=None, osl_cv_ratio=0.0):
    """$/Mtok against tokens/s per user for each deployment in ``setups``.

    Parameters
    ----------
    model : str
        A models row.
    precision : str
        Weight precision.
    setups : pandas.DataFrame
        One row per deployment: ``hardware``, ``n_devices``, ``tp`` and optionally ``ep``,
        ``dp_attention``, ``usd_per_gpu_hour`` (default the hardware's rental price) and
        ``concurrency`` (a setup sized for that many requests, :func:`frontier_setups`, is
        served at that concurrency only; NaN or absent: the sweep).
    concurrency : array-like
        Requests in flight to sweep (beyond memory they queue). [-]
    isl_tok, osl_tok : numeric
        Input and output tokens per request. [tokens]
    utilization_frac : numeric, optional
        Default ``data/assumptions.csv``'s.
    hardware_overrides : dict, optional
        ``{name: {column: value}}``, as in :func:`frontier_setups`.
    osl_cv_ratio : numeric, default 0
        How much the output lengths spread around ``osl_tok`` (standard deviation over
        mean), as in :func:`serving_cost_table`; 0: every request at ``osl_tok``. [ratio]

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`serving_cost_table` plus ``hardware``, ``n_devices``, ``tp``
        and ``setup`` (``"<hardware> x<tp>"``), one row per deployment and concurrency (an
        SRAM setup's chip count grows with the concurrency it is sized for).
    """
    need = {"hardware", "n_devices", "tp"}
    missing = need - set(setups.columns)
    if missing:
        raise ValueError(f"setups needs the columns {sorted(need)}; missing {sorted(missing)}")
    if setups.empty:  # no device to serve on: an empty frontier with its columns
        cols = ["concurrency", "tok_per_s_per_user", "tpot_s", "ttft_s",
                "output_tok_per_s_per_device", "usd_per_gpu_hour", "utilization_frac",
                "output_usd_per_mtok", "hardware", "n_devices", "tp", "setup"]
        return pd.DataFrame(columns=cols).astype({c: float for c in cols[:8]})
    frames = []
    for _, s in setups.iterrows():
        price = s.get("usd_per_gpu_hour")
        own = s.get("concurrency", np.nan)
        conc = concurrency if own is None or pd.isna(own) else [float(own)]
        t = serving_cost_table(
            model, _hardware_row(s["hardware"], hardware_overrides), precision,
            n_devices=int(s["n_devices"]), tp=int(s["tp"]),
            ep=int(s.get("ep", 1) if pd.notna(s.get("ep", 1)) else 1),
            dp_attention=bool(s.get("dp_attention", False)), concurrency=conc,
            isl_tok=isl_tok, osl_tok=osl_tok,
            usd_per_gpu_hour=None if price is None or pd.isna(price) else float(price),
            utilization_frac=utilization_frac, osl_cv_ratio=osl_cv_ratio)
        frames.append(t.assign(hardware=s["hardware"], n_devices=int(s["n_devices"]),
                               tp=int(s["tp"]), setup=f"{s['hardware']} x{int(s['tp'])}"))
    return pd.concat(frames, ignore_index=True)


def frontier_at_speed(model, precision, hardware, min_tok_per_s_per_user, *, concurrency, isl_tok,
                      osl_tok, utilization_frac=None, exclude=(), hardware_overrides=None,
                      osl_cv_ratio=0.0):
    """The interactivity frontier of some devices, and the cheapest point of each at a speed.

    :func:`frontier_setups` of ``hardware`` (less ``exclude``; SRAM machines sized for each
    concurrency), served at each concurrency by :func:`interactivity_frontier`, then
    :func:`cost_at_speed`.

    Parameters
    ----------
    model : str
        A key of ``data/models.csv``.
    precision : str
        Weight precision.
    hardware : list of str
        Keys of ``data/hardware.csv`` with a purchase price.
    min_tok_per_s_per_user : float
        The speed every user must see. [tokens/s]
    concurrency : array-like
        Requests in flight swept for each setup. [-]
    isl_tok, osl_tok : float
        Input and output tokens per request. [tokens]
    utilization_frac : float, optional
        Share of wall-clock hours doing paid work; default ``data/assumptions.csv``'s.
        [fraction]
    exclude : sequence of str
        Devices left out (:func:`frontier_exclusions`).
    hardware_overrides : dict, optional
        ``{name: {column: value}}``, as in :func:`frontier_setups`.
    osl_cv_ratio : numeric, default 0
        How much the output lengths spread around ``osl_tok`` (standard deviation over
        mean), as in :func:`serving_cost_table`. [ratio]

    Returns
    -------
    frontier : pandas.DataFrame
        :func:`interactivity_frontier`.
    at_speed : pandas.DataFrame
        :func:`cost_at_speed` of ``frontier`` at ``min_tok_per_s_per_user``.
    """
    setups = frontier_setups(model, precision, hardware, exclude=exclude,
                             concurrency=concurrency, isl_tok=isl_tok, osl_tok=osl_tok,
                             hardware_overrides=hardware_overrides)
    frontier = interactivity_frontier(model, precision, setups, concurrency, isl_tok=isl_tok,
                                      osl_tok=osl_tok, utilization_frac=utilization_frac,
                                      hardware_overrides=hardware_overrides,
                                      osl_cv_ratio=osl_cv_ratio)
    return frontier, cost_at_speed(frontier, min_tok_per_s_per_user)


def vendor_cost_at_speed(model, precision, hardware, min_tok_per_s_per_user, *,
                         utilization_frac=None, concurrency=None, isl_tok=1000.0,
                         osl_tok=1000.0, hardware_overrides=None):
    """The cheapest $/Mtok of each vendor's device that reaches a speed per user, and the
    devices left out.

    Devices the engine level cannot price (:func:`frontier_exclusions`) are left out; the
    others go through :func:`frontier_at_speed`.

    Parameters
    ----------
    model : str
        A key of ``data/models.csv``.
    precision : str
        Weight precision.
    hardware : list of str
        Keys of ``data/hardware.csv``.
    min_tok_per_s_per_user : float
        The speed every user must see. [tokens/s]
    utilization_frac : float, optional
        Share of wall-clock hours doing paid work. [fraction]
    concurrency : array-like, optional
        Requests in flight swept for each setup; default 1, 2, 4, ..., 512. [-]
    isl_tok, osl_tok : float, default 1000
        Input and output tokens per request. [tokens]
    hardware_overrides : dict, optional
        ``{name: {column: value}}``, as in :func:`frontier_setups`.

    Returns
    -------
    at_speed : pandas.DataFrame
        :func:`cost_at_speed` of the devices that reach the speed, with ``vendor``
        (``data/hardware.csv``) and ``device`` (``"<vendor>: <hardware>"``).
    excluded : pandas.Series
        :func:`frontier_exclusions`: the reason each device left out is.
    """
    concurrency = 2 ** np.arange(0, 10) if concurrency is None else concurrency
    excluded = frontier_exclusions(model, precision, hardware,
                                   hardware_overrides=hardware_overrides)
    _, at_speed = frontier_at_speed(model, precision, hardware, min_tok_per_s_per_user,
                                    concurrency=concurrency, isl_tok=isl_tok, osl_tok=osl_tok,
                                    utilization_frac=utilization_frac, exclude=excluded.index,
                                    hardware_overrides=hardware_overrides)
    at_speed = at_speed.dropna(subset=["output_usd_per_mtok"]).join(data.load("hardware")["vendor"])
    at_speed["device"] = at_speed["vendor"] + ": " + at_speed.index
    return at_speed, excluded


def frontier_result_rows(at_speed, model, min_tok_per_s_per_user):
    """Result rows (``econ.results_frame``) of :func:`cost_at_speed`: one per device that
    reaches the speed, metric ``target_speed_output_cost_usd_per_mtok``, subject
    ``"<model>:<hardware>"``."""
    rows = []
    for h, r in at_speed.dropna(subset=["output_usd_per_mtok"]).iterrows():
        rows.append(dict(metric="target_speed_output_cost_usd_per_mtok", subject=f"{model}:{h}",
                         value=float(r["output_usd_per_mtok"]),
                         verdict=f"engine level, at least {min_tok_per_s_per_user:g} tokens/s "
                                 f"per user: tp {int(r['tp'])}, {r['concurrency']:g} requests"))
    return rows



# --- the kernel level: $/Mtok against the batch, its uncertainty, what moves it ----------------

#: Reader-facing names of the inputs of a decode cost (tornado bars, rankings in answers).
DECODE_COST_INPUT_TITLES = {
    "usd_per_device_hour": "GPU-hour price", "utilization_frac": "utilization",
    "acceptance_frac": "MTP acceptance", "step_time_ratio": "engine error",
    "context_tok": "context length", "n_sequences": "batch size",
}


def _node_devices(hardware, n_nodes):
    n = positive("n_nodes", n_nodes, integer=True)
    return int(data.row("hardware", hardware)["n_devices_per_node"]) * int(n)


def _mtp(model, draft_depth=None, acceptance_frac=None):
    """(draft depth, acceptance): the model's MTP modules and V3's published acceptance."""
    k = int(model_spec(model).n_mtp_modules) if draft_depth is None else int(draft_depth)
    if acceptance_frac is None:
        acceptance_frac = float(data.load("published").loc["deepseek-v3-mtp-acceptance",
                                                           "value"]) if k > 0 else 0.0
    return k, float(acceptance_frac)


def batch_cost_sweep(model, hardware, precision, batch_per_node, context_tok, *,
                     usd_per_gpu_hour, utilization_frac, n_nodes=1, draft_depth=None,
                     acceptance_frac=None):
    """Decode $/Mtok and speed per user against the batch, from the calibrated engine.

    Each batch is a kernel-level decode step (:func:`econ.decode_step` at the fitted
    constants of ``data/calibration.csv``) on ``n_nodes`` whole nodes of ``hardware``, the
    weights and cache split over all their devices; its tokens per second per device priced
    at ``usd_per_gpu_hour`` per useful hour (:func:`econ.useful_usd_per_hour`). Communication
    between devices is not charged (that is the engine level, :func:`econ.predict_serving`).

    Parameters
    ----------
    model, hardware, precision
        Keys of ``data/models.csv`` and ``data/hardware.csv``; weight precision.
    batch_per_node : array-like
        Sequences decoded together per node. [-]
    context_tok : float
        KV length each decoded token attends to. [tokens]
    usd_per_gpu_hour : float
        Price of one device-hour. [USD/h]
    utilization_frac : float
        Share of wall-clock hours doing paid work, in (0, 1]. [fraction]
    n_nodes : int, default 1
        Nodes the model is spread over. [-]
    draft_depth : int, optional
        Tokens drafted per step; default the model's MTP modules (1 for V3/R1, else 0).
    acceptance_frac : float, optional
        Acceptance of a drafted token; default DeepSeek-V3's published 0.875 when drafting.

    Returns
    -------
    pandas.DataFrame
        One row per batch whose KV cache fits beside the weights, smallest first:
        ``batch_per_node_count``, ``n_sequences`` (all nodes) [-], ``node_tok_per_s``,
        ``decode_tok_per_s`` (per device), ``decode_tok_per_s_per_user`` [tokens/s],
        ``compute_bound`` (bool), ``max_concurrent_sequences`` [-],
        ``decode_cost_usd_per_mtok`` [USD/Mtok].

    Raises
    ------
    ValueError
        No batch fits (the message says how many sequences do).

    References
    ----------
    .. [1] R. Pope et al., "Efficiently Scaling Transformer Inference", arXiv:2211.05102.
    """
    n_dev = _node_devices(hardware, n_nodes)
    k, a = _mtp(model, draft_depth, acceptance_frac)
    b = np.sort(np.atleast_1d(positive("batch_per_node", batch_per_node)))
    s = decode_step(model, hardware, precision, b * n_nodes, context_tok, n_devices=n_dev,
                    draft_depth=k, acceptance_frac=a)
    per_dev = s["decode_tok_per_s"]
    out = pd.DataFrame({
        "batch_per_node_count": b, "n_sequences": s["n_sequences"],
        "node_tok_per_s": per_dev * n_dev / n_nodes, "decode_tok_per_s": per_dev,
        "decode_tok_per_s_per_user": s["decode_tok_per_s_per_user"],
        "compute_bound": s["compute_s"] > s["memory_s"],
        "max_concurrent_sequences": s["max_concurrent_sequences"],
        "decode_cost_usd_per_mtok": cost_usd_per_mtok(
            useful_usd_per_hour(usd_per_gpu_hour, utilization_frac), per_dev),
    })
    fits = out["n_sequences"] <= out["max_concurrent_sequences"]
    if not fits.any():
        raise ValueError(f"batch_per_node: no batch of {sorted(b.tolist())} fits; {n_nodes} "
                         f"node(s) of {hardware} hold at most "
                         f"{float(out['max_concurrent_sequences'].iloc[0]) / n_nodes:.0f} "
                         f"sequences per node at context_tok {float(context_tok):g}")
    return out[fits].reset_index(drop=True)


def decode_cost_inputs(usd_per_gpu_hour, utilization_frac, *, drafting=True):
    """The uncertain inputs of a decode cost, as distributions around a run's values.

    - ``usd_per_device_hour``: triangular, the market range of an H100 GPU-hour
      (``data/assumptions.csv`` ``h100_market_rental_usd_per_hour``) scaled to the run's price;
    - ``utilization_frac``: triangular over the assumptions' range, widened to hold the run's;
    - ``step_time_ratio``: the engine's own error, log-normal with its central 50% between
      ``1/(1+e)`` and ``1+e``, ``e`` the largest held-out median error of the step constants
      (``data/calibration.csv`` ``holdout_error_frac``): half of all steps within that error;
    - ``acceptance_frac`` (when ``drafting``): uniform over DeepSeek-V3's published 85-90%.

    Parameters
    ----------
    usd_per_gpu_hour : float
        The run's price of one device-hour (the mode). [USD/h]
    utilization_frac : float
        The run's utilization (the mode), in (0, 1]. [fraction]
    drafting : bool, default True
        Include the MTP acceptance.

    Returns
    -------
    dict
        ``{name: econ.Distribution}`` for :func:`econ.monte_carlo` and :func:`econ.tornado`.
    """
    price = float(positive("usd_per_gpu_hour", usd_per_gpu_hour))
    util = float(fraction("utilization_frac", utilization_frac, allow_zero=False))
    a = data.load("assumptions")
    rent, u = a.loc["h100_market_rental_usd_per_hour"], a.loc["utilization_frac"]
    cal = data.load("calibration")
    err = float(pd.to_numeric(cal.loc[list(Calibration.fields()), "holdout_error_frac"]).max())
    out = {
        "usd_per_device_hour": triangular(price * rent["low"] / rent["value"], price,
                                          price * rent["high"] / rent["value"]),
        "utilization_frac": triangular(min(u["low"], util), util, max(u["high"], util)),
        "step_time_ratio": lognormal_from_range(1.0 / (1.0 + err), 1.0 + err, coverage=0.5),
    }
    if drafting:
        mtp = data.load("published").loc["deepseek-v3-mtp-acceptance"]
        out["acceptance_frac"] = uniform(float(mtp["low"]), float(mtp["high"]))
    return out


def decode_cost_band(model, hardware, precision, batch_per_node, context_tok, *,
                     usd_per_gpu_hour, utilization_frac, n_nodes=1, n_samples=10_000, seed=0):
    """Monte Carlo band of the decode $/Mtok at each batch (:func:`decode_cost_inputs`).

    Every batch is evaluated on the same samples (common random numbers), with the model's
    own MTP drafting (:func:`batch_cost_sweep`).

    Returns
    -------
    pandas.DataFrame
        One row per batch: ``batch_per_node_count``, ``n_sequences``, ``mean``, ``sd``,
        ``p5``, ``p50``, ``p95`` of ``decode_cost_usd_per_mtok`` [USD/Mtok].
    """
    n_dev = _node_devices(hardware, n_nodes)
    k, _ = _mtp(model)
    b = np.atleast_1d(positive("batch_per_node", batch_per_node))
    mc = monte_carlo(
        decode_cost_usd_per_mtok, decode_cost_inputs(usd_per_gpu_hour, utilization_frac,
                                                     drafting=k > 0),
        n_samples=n_samples, seed=seed, over=grid(n_sequences=b * n_nodes),
        constants=dict(model=model, hardware=hardware, precision=precision,
                       context_tok=context_tok, n_devices=n_dev, draft_depth=k))
    band = summarize(mc, columns="decode_cost_usd_per_mtok", by="n_sequences")
    band.insert(0, "batch_per_node_count", band["n_sequences"] / n_nodes)
    return band


def decode_cost_tornado(model, hardware, precision, batch_per_node, context_tok, *,
                        usd_per_gpu_hour, utilization_frac, context_range_tok, n_nodes=1):
    """What moves the decode $/Mtok at an operating batch, one input at a time.

    The inputs of :func:`decode_cost_inputs` each from their 5th to their 95th percentile;
    the context over ``context_range_tok`` at the same batch (even where its cache would no
    longer fit); the batch from a quarter of the operating point to twice it, capped by
    memory. :func:`econ.tornado` on :func:`econ.decode_cost_usd_per_mtok`.

    Parameters
    ----------
    batch_per_node : float
        The operating batch, sequences per node; must fit in memory. [-]
    context_range_tok : (float, float)
        Low and high KV length, ``0 < low < high``. [tokens]

    Returns
    -------
    pandas.DataFrame
        :func:`econ.tornado`'s table (largest swing first) plus ``parameter_title``
        (:data:`DECODE_COST_INPUT_TITLES`); ``output_base`` is the cost at the operating
        point. [USD/Mtok]

    Raises
    ------
    ValueError
        A batch that does not fit, or a bad ``context_range_tok``.
    """
    lo_hi = list(np.atleast_1d(np.asarray(context_range_tok, dtype=float)))
    if len(lo_hi) != 2 or not 0 < lo_hi[0] < lo_hi[1]:
        raise ValueError(f"context_range_tok must be [low, high] with 0 < low < high, got "
                         f"{list(context_range_tok)!r}")
    n_dev = _node_devices(hardware, n_nodes)
    k, a = _mtp(model)
    n = float(positive("batch_per_node", batch_per_node)) * n_nodes
    most = float(decode_step(model, hardware, precision, n, context_tok, n_devices=n_dev,
                             infeasible="raise")["max_concurrent_sequences"])
    base = dict(model=model, hardware=hardware, precision=precision, n_sequences=n,
                context_tok=float(context_tok), usd_per_device_hour=float(usd_per_gpu_hour),
                utilization_frac=float(utilization_frac), n_devices=n_dev, draft_depth=k,
                acceptance_frac=a, step_time_ratio=1.0)
    ranges = dict(decode_cost_inputs(usd_per_gpu_hour, utilization_frac, drafting=k > 0),
                  context_tok=tuple(lo_hi), n_sequences=(n / 4.0, min(2.0 * n, most)))
    sens = tornado(decode_cost_usd_per_mtok, base, ranges)
    sens["parameter_title"] = sens["parameter"].map(DECODE_COST_INPUT_TITLES)
    return sens


def operating_cost_table(models, hardware, precision, batch_per_node, context_tok, *,
                         usd_per_gpu_hour, utilization_frac, n_nodes=1, draft_depth=None):
    """Decode $/Mtok of each model at one batch policy: the operating batch, or the largest
    that fits beside its weights when that is smaller.

    Parameters
    ----------
    models : list of str
        Keys of ``data/models.csv`` (duplicates are dropped, order kept).
    hardware, precision, context_tok, usd_per_gpu_hour, utilization_frac, n_nodes
        As in :func:`batch_cost_sweep`.
    batch_per_node : float
        The operating batch per node. [-]
    draft_depth : int, optional
        Tokens drafted per step for every model; default each model's MTP modules.

    Returns
    -------
    pandas.DataFrame
        One row per model that fits, in the given order: ``model``,
        ``gpus_to_hold_weights_count``, ``n_sequences`` (all nodes), ``batch_per_node_count``
        [-], ``decode_cost_usd_per_mtok`` [USD/Mtok].

    Raises
    ------
    ValueError
        No model fits, naming them.
    """
    n_dev = _node_devices(hardware, n_nodes)
    want = float(positive("batch_per_node", batch_per_node)) * n_nodes
    rows = []
    for m in dict.fromkeys(models):
        held = float(model_devices_to_hold(m, hardware, precision))
        if held > n_dev:
            continue
        most = float(decode_step(m, hardware, precision, 1.0, context_tok,
                                 n_devices=n_dev)["max_concurrent_sequences"])
        if most < 1:
            continue
        n = min(want, most)
        k, a = _mtp(m, draft_depth)
        rows.append(dict(model=m, gpus_to_hold_weights_count=held, n_sequences=n,
                         batch_per_node_count=n / n_nodes,
                         decode_cost_usd_per_mtok=float(decode_cost_usd_per_mtok(
                             m, hardware, precision, n, context_tok, usd_per_gpu_hour,
                             utilization_frac, n_devices=n_dev, draft_depth=k,
                             acceptance_frac=a))))
    if not rows:
        raise ValueError(f"models: none of {list(models)} fits on {n_dev} x {hardware} in "
                         f"{precision} with a cache of {float(context_tok):g} tokens")
    return pd.DataFrame(rows)


def price_gap_parts(gap):
    """The two factors of a price gap per model, long, for a bar chart.

    Parameters
    ----------
    gap : pandas.DataFrame
        :func:`operating_cost_table` with the columns of :func:`econ.price_gap_split`.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``factor`` ("serving cost (o1 / R1)", "markup (o1 / R1)"),
        ``factor_ratio`` [ratio]: per model the two multiply to its price ratio.
    """
    labels = {"cost_ratio": "serving cost (o1 / R1)", "markup_ratio": "markup (o1 / R1)"}
    long = gap.melt(id_vars="model", value_vars=list(labels), var_name="factor",
                    value_name="factor_ratio")
    return long.assign(factor=long["factor"].map(labels))


#: Claim wording of :func:`price_gap_result_rows`, for ``econ.verdict_table``.
PRICE_GAP_CLAIMS = {
    ("api_output_price_ratio", "o1-vs-deepseek-r1"): "o1 output price / R1 output price ('27x')",
    ("api_blended_price_ratio", "o1-vs-deepseek-r1"): "Same, blended over DeepSeek's traffic mix",
    ("modelled_output_cost_ratio", "o1-vs-deepseek-r1"):
        "Scenario: o1 serving cost / R1 serving cost",
    ("price_gap_explained_by_cost_frac", "o1-vs-deepseek-r1"):
        "Scenario: share of the log price gap explained by cost",
    ("output_gross_margin_frac", "deepseek-r1"): "R1 gross margin on output tokens (modelled cost)",
    ("output_gross_margin_frac", "openai-o1"): "Scenario: o1 gross margin on output tokens",
}


def price_gap_result_rows(gap, o1_model, ratios):
    """Result rows (``econ.results_frame``) of the o1 / R1 price gap.

    Parameters
    ----------
    gap : pandas.DataFrame
        :func:`operating_cost_table` of the o1 stand-ins with the columns of
        :func:`econ.price_gap_split` (R1 the reference).
    o1_model : str
        The stand-in whose split the rows report (a ``model`` of ``gap``).
    ratios : dict
        :func:`econ.api_price_ratios` of o1 against R1.

    Returns
    -------
    list of dict
        The API price ratios (output, blended), and, as scenarios, the modelled cost ratio,
        the share of the log gap cost explains, and the output gross margins of R1 and of o1;
        keyed as :data:`PRICE_GAP_CLAIMS`.
    """
    if o1_model not in set(gap["model"]):
        raise ValueError(f"o1_model {o1_model!r} is not in the table (it does not fit?); "
                         f"have {list(gap['model'])}")
    head = gap.set_index("model").loc[o1_model]
    pair, scen = "o1-vs-deepseek-r1", f"scenario: o1 as {o1_model} (architecture unpublished)"
    return [
        dict(metric="api_output_price_ratio", subject=pair, value=ratios["output_ratio"],
             source_url=ratios["source_url"]),
        dict(metric="api_blended_price_ratio", subject=pair, value=ratios["blended_ratio"],
             source_url=ratios["source_url"]),
        dict(metric="modelled_output_cost_ratio", subject=pair, value=head["cost_ratio"],
             verdict=scen),
        dict(metric="price_gap_explained_by_cost_frac", subject=pair,
             value=head["gap_explained_by_cost_frac"],
             verdict=f"scenario: the rest, a {head['markup_ratio']:.1f}x markup, is margin"),
        dict(metric="output_gross_margin_frac", subject="deepseek-r1",
             value=head["reference_gross_margin_frac"],
             verdict="modelled decode cost only (kernel level, no communication)"),
        dict(metric="output_gross_margin_frac", subject="openai-o1",
             value=head["gross_margin_frac"], verdict=scen),
    ]


def batch_cost_result_rows(sweep, tornado_frame, subject):
    """Result rows of the batch sweep: the decode cost at the operating batch (the tornado's
    base) and how many times dearer the smallest batch of the sweep is.

    Parameters
    ----------
    sweep : pandas.DataFrame
        :func:`batch_cost_sweep`.
    tornado_frame : pandas.DataFrame
        :func:`decode_cost_tornado` at the operating batch.
    subject : str
        ``"<model>:<hardware>"``.

    Returns
    -------
    list of dict
        ``decode_cost_usd_per_mtok`` and ``batch_cost_reduction_ratio``.
    """
    op = float(tornado_frame["output_base"].iloc[0])
    return [dict(metric="decode_cost_usd_per_mtok", subject=subject, value=op),
            dict(metric="batch_cost_reduction_ratio", subject=subject,
                 value=float(sweep["decode_cost_usd_per_mtok"].iloc[0]) / op)]


def batch_cost_claims(subject):
    """Verdict-table claims of :func:`batch_cost_result_rows` (``econ.verdict_table``).

    Parameters
    ----------
    subject : str
        ``"<model>:<hardware>"``, as given to :func:`batch_cost_result_rows`.

    Returns
    -------
    dict
        ``{(metric, subject): claim}`` for ``decode_cost_usd_per_mtok`` and
        ``batch_cost_reduction_ratio``.
    """
    return {("decode_cost_usd_per_mtok", subject): "Modelled decode cost at the operating batch",
            ("batch_cost_reduction_ratio", subject):
                "Cost at the smallest batch / cost at the operating batch"}


def price_gap_table(models, hardware, precision, batch_per_node, context_tok, *,
                    usd_per_gpu_hour, utilization_frac, reference_hardware, reference_precision,
                    reference_usd_per_gpu_hour, n_nodes=1, draft_depth=None, api="openai-o1",
                    reference_api="deepseek-r1"):
    """Split one API's output price gap over another into cost and markup, per stand-in model.

    The reference API's model (its ``model`` in ``data/api_prices.csv``: R1 for DeepSeek's
    API) is priced on its own setup (``reference_*``, its MTP drafting), each stand-in for the
    other API's unpublished model on ``hardware`` (:func:`operating_cost_table`, same batch
    policy), and the two output list prices are split by :func:`econ.price_gap_split`.

    Returns
    -------
    pandas.DataFrame
        :func:`operating_cost_table` of the stand-ins plus ``reference_model``,
        ``reference_cost_usd_per_mtok`` [USD/Mtok] and the columns of
        :func:`econ.price_gap_split`.
    """
    prices = data.load("api_prices")
    top, ref = prices.loc[api], prices.loc[reference_api]
    common = dict(utilization_frac=utilization_frac, n_nodes=n_nodes)
    r = operating_cost_table([ref["model"]], reference_hardware, reference_precision,
                             batch_per_node, context_tok,
                             usd_per_gpu_hour=reference_usd_per_gpu_hour, **common).iloc[0]
    gap = operating_cost_table(models, hardware, precision, batch_per_node, context_tok,
                               usd_per_gpu_hour=usd_per_gpu_hour, draft_depth=draft_depth,
                               **common)
    gap = gap.assign(reference_model=ref["model"],
                     reference_cost_usd_per_mtok=r["decode_cost_usd_per_mtok"])
    return gap.assign(**price_gap_split(top["output_usd_per_mtok"], ref["output_usd_per_mtok"],
                                        gap["decode_cost_usd_per_mtok"],
                                        r["decode_cost_usd_per_mtok"]))
