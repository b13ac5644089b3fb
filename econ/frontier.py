"""What a token costs at a given speed per user: the engine level priced.

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
from .amortization import owned_usd_per_hour, useful_usd_per_hour
from .engine import held_bytes_per_device, model_spec
from .predict import predict_serving
from .pricing import cost_usd_per_mtok
from .units import BYTES_PER_PARAM, PEAK_FLOP_COLUMN

__all__ = ["serving_cost_table", "frontier_setups", "frontier_exclusions",
           "interactivity_frontier", "cost_at_speed", "frontier_result_rows"]


def serving_cost_table(model, hardware, precision, *, n_devices, tp, concurrency, isl_tok,
                       osl_tok, usd_per_gpu_hour=None, utilization_frac=None, ep=1,
                       dp_attention=False, kv_precision="bf16", mtp_draft_tok=0):
    """Speed and $/Mtok of a deployment at each concurrency, one row each.

    ``usd_per_gpu_hour`` defaults to the hardware row's ``rental_usd_per_hour``;
    ``utilization_frac`` to ``data/assumptions.csv``'s ``utilization_frac`` (the notebooks'
    default). Cost per output token charges the devices' whole useful hour to output tokens.

    Returns
    -------
    pandas.DataFrame
        ``concurrency``, ``tok_per_s_per_user``, ``tpot_s``, ``ttft_s``,
        ``output_tok_per_s_per_device``, ``usd_per_gpu_hour``, ``utilization_frac``,
        ``output_usd_per_mtok``.
    """
    if usd_per_gpu_hour is None:
        usd_per_gpu_hour = data.row("hardware", hardware)["rental_usd_per_hour"]
        if not np.isfinite(usd_per_gpu_hour):
            raise ValueError(f"hardware {hardware!r} has no rental_usd_per_hour in the table; "
                             "pass usd_per_gpu_hour")
    if utilization_frac is None:
        utilization_frac = float(data.load("assumptions").loc["utilization_frac", "value"])
    conc = np.atleast_1d(np.asarray(concurrency, dtype=float))
    r = predict_serving(model, hardware, precision, n_devices=n_devices, tp=tp, ep=ep,
                        dp_attention=dp_attention, isl_tok=isl_tok, osl_tok=osl_tok,
                        concurrency=conc, kv_precision=kv_precision,
                        mtp_draft_tok=mtp_draft_tok)
    per_hour = useful_usd_per_hour(float(usd_per_gpu_hour), float(utilization_frac))
    return pd.DataFrame({
        "concurrency": r["concurrency"], "tok_per_s_per_user": r["tok_per_s_per_user"],
        "tpot_s": r["tpot_s"], "ttft_s": r["ttft_s"],
        "output_tok_per_s_per_device": r["output_tok_per_s_per_device"],
        "usd_per_gpu_hour": float(usd_per_gpu_hour), "utilization_frac": float(utilization_frac),
        "output_usd_per_mtok": cost_usd_per_mtok(per_hour, r["output_tok_per_s_per_device"]),
    })


def frontier_setups(model, precision, hardware, *, weight_share_frac=0.5, exclude=()):
    """The replicas each device can serve the model with: every power-of-two tensor-parallel
    group from the smallest whose weights take at most ``weight_share_frac`` of its memory
    (the rest holds the cache) up to a whole node, priced at the device's *owned* cost per
    hour under ``data/assumptions.csv`` (so devices with and without a public rental price
    compare on one basis). Wider groups buy speed per user with more devices per request.
    Devices in ``exclude`` (the index of :func:`frontier_exclusions`) are skipped.

    Returns
    -------
    pandas.DataFrame
        ``hardware``, ``n_devices``, ``tp``, ``usd_per_gpu_hour`` [USD/h], one row per
        device and group width.
    """
    spec = model_spec(model)
    a = data.load("assumptions")["value"]
    rows = []
    for h in [h for h in hardware if h not in set(exclude)]:
        row = data.row("hardware", h)
        tp = 1
        while held_bytes_per_device(spec, BYTES_PER_PARAM[precision], tp=tp) \
                > weight_share_frac * row["memory_bytes"]:
            tp *= 2
            if tp > row["n_devices_per_node"]:
                raise ValueError(f"{model!r} in {precision} does not fit on one node of "
                                 f"{h!r} with {weight_share_frac:.0%} of memory for weights")
        cost = owned_usd_per_hour(h, a["server_life_years"], a["cost_of_capital_frac"],
                                  a["pue_ratio"], a["electricity_usd_per_kwh"],
                                  a["hosting_opex_frac"]).device_usd_per_hour
        while tp <= row["n_devices_per_node"]:
            rows.append(dict(hardware=h, n_devices=tp, tp=tp, usd_per_gpu_hour=float(cost)))
            tp *= 2
    return pd.DataFrame(rows, columns=["hardware", "n_devices", "tp", "usd_per_gpu_hour"])


def frontier_exclusions(model, precision, hardware, *, weight_share_frac=0.5):
    """The devices :func:`frontier_setups` cannot put on the frontier, and why.

    A device is left out when its row lacks a figure the engine level or its owned cost needs
    (the dense peak at ``precision``, ``memory_bytes_per_s``, ``purchase_usd``, ``tdp_w``), or
    when the model's weights do not fit in ``weight_share_frac`` of one whole node's memory.

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
        row = data.row("hardware", h)
        need = [PEAK_FLOP_COLUMN[precision], "memory_bytes_per_s", "purchase_usd", "tdp_w"]
        gaps = [c for c in need if not np.isfinite(row[c])]
        if gaps:
            reasons[h] = f"no {', '.join(gaps)} in data/hardware.csv"
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
        and the ``tp``, ``concurrency`` and ``tok_per_s_per_user`` of that point.
    """
    ok = frontier[frontier["tok_per_s_per_user"] >= min_tok_per_s_per_user]
    best = ok.loc[ok.groupby("hardware")["output_usd_per_mtok"].idxmin()]
    best = best.set_index("hardware")[["output_usd_per_mtok", "tp", "concurrency",
                                       "tok_per_s_per_user"]]
    return best.reindex(pd.unique(frontier["hardware"]))


def interactivity_frontier(model, precision, setups, concurrency, *, isl_tok, osl_tok,
                           utilization_frac=None):
    """$/Mtok against tokens/s per user for each deployment in ``setups``.

    Parameters
    ----------
    model : str
        A models row.
    precision : str
        Weight precision.
    setups : pandas.DataFrame
        One row per deployment: ``hardware``, ``n_devices``, ``tp`` and optionally ``ep``,
        ``dp_attention``, ``usd_per_gpu_hour`` (default the hardware's rental price).
    concurrency : array-like
        Requests in flight to sweep (beyond memory they queue). [-]
    isl_tok, osl_tok : numeric
        Input and output tokens per request. [tokens]
    utilization_frac : numeric, optional
        Default ``data/assumptions.csv``'s.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`serving_cost_table` plus ``hardware``, ``n_devices``, ``tp``
        and ``setup`` (``"<hardware> x<tp>"``), one row per deployment and concurrency.
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
        t = serving_cost_table(
            model, s["hardware"], precision, n_devices=int(s["n_devices"]), tp=int(s["tp"]),
            ep=int(s.get("ep", 1) if pd.notna(s.get("ep", 1)) else 1),
            dp_attention=bool(s.get("dp_attention", False)), concurrency=concurrency,
            isl_tok=isl_tok, osl_tok=osl_tok,
            usd_per_gpu_hour=None if price is None or pd.isna(price) else float(price),
            utilization_frac=utilization_frac)
        frames.append(t.assign(hardware=s["hardware"], n_devices=int(s["n_devices"]),
                               tp=int(s["tp"]), setup=f"{s['hardware']} x{int(s['tp'])}"))
    return pd.concat(frames, ignore_index=True)


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

