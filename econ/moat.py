"""A GPU vendor's margin inside the cost of a token, and what its interconnect costs MoE serving.

The questions of the NVIDIA-moat notebook, as functions of sourced inputs:

* :func:`vendor_cost_parts`: where an owned node's hourly cost goes (capital paid to the GPU
  vendor, capital on the rest of the node, power, hosting), so the vendor's gross margin is a
  share of every token's cost;
* :func:`margin_compression_band`: the decode cost per million tokens if the vendor's gross
  margin fell, as a Monte Carlo band over the owning assumptions
  (:func:`econ.compressed_margin_cost_usd_per_mtok`);
* :func:`scaleup_links`, :func:`moe_alltoall_bound`: expert-parallel dispatch and combine over
  a named link against the roofline decode step (the H800's cut NVLink against the H100's).

References
----------
.. [1] NVIDIA, fiscal 2025 results (gross margin), in ``data/published.csv``.
.. [2] DeepSeek-AI, "Insights into DeepSeek-V3: scaling challenges and reflections on hardware
   for AI architectures", ISCA 2025, arXiv:2505.09343 (the all-to-all bound).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import data
from ._checks import fraction, nonnegative, positive
from .amortization import (
    capex_usd_per_hour,
    device_usd_per_hour,
    hosting_opex_usd_per_hour,
    power_usd_per_hour,
    useful_usd_per_hour,
)
from .inference import decode_step_breakdown
from .pricing import (
    breakeven_elasticity_ratio,
    compressed_margin_cost_usd_per_mtok,
    cost_usd_per_mtok,
    jevons_spend_ratio,
    vendor_revenue_ratio,
)
from .sensitivity import monte_carlo, summarize
from .serving import alltoall_tpot_floor_s, dispatch_combine_bytes_per_tok

__all__ = ["vendor_cost_parts", "margin_compression_band", "scaleup_links", "moe_alltoall_bound",
           "stack_throughput", "margin_result_rows", "jevons_result_rows",
           "interconnect_result_rows", "stack_result_rows", "price_history_rows",
           "isca_tpot_floor_row"]

#: Display names of the recorded matmul stacks (``data/gpu_timings.csv`` backends).
STACK_NAMES = {"torch": "cuBLAS via PyTorch", "cupy": "cuBLAS via CuPy",
               "triton": "Triton (portable)", "jax": "JAX / XLA (portable)"}


def vendor_cost_parts(purchase_usd, tdp_w, n_devices, life_years, cost_of_capital_frac, pue_ratio,
                      electricity_usd_per_kwh, hosting_opex_frac=0.0, system_overhead_frac=0.0,
                      power_overhead_frac=0.0, vendor_overhead_share_frac=0.0):
    """An owned node's hourly cost in four parts, the first paid to the device vendor.

    The node is ``n_devices`` devices of ``purchase_usd`` and ``tdp_w``; the rest of it costs
    ``system_overhead_frac`` of the devices' price and draws ``power_overhead_frac`` of their
    power, and ``vendor_overhead_share_frac`` of that rest is bought from the vendor too
    (NVSwitch, NICs). The parts add up to :func:`econ.owned_usd_per_hour`'s system cost:

    * capital paid to the vendor: :func:`econ.capex_usd_per_hour` of
      ``purchase_usd * n_devices * (1 + system_overhead_frac * vendor_overhead_share_frac)``;
    * capital on the rest of the node;
    * power: :func:`econ.power_usd_per_hour` of ``tdp_w * n_devices * (1 + power_overhead_frac)``;
    * hosting: :func:`econ.hosting_opex_usd_per_hour` of the node's price.

    Parameters
    ----------
    purchase_usd, tdp_w : float
        Price [USD] and TDP [W] of one device.
    n_devices : int
        Devices in the node. [count]
    life_years, cost_of_capital_frac, pue_ratio, electricity_usd_per_kwh, hosting_opex_frac
        As in :func:`econ.device_usd_per_hour`.
    system_overhead_frac, power_overhead_frac : float
        Price and power of the rest of the node over its devices'. [fraction]
    vendor_overhead_share_frac : float
        Share of the rest of the node bought from the device vendor, in [0, 1]. [fraction]

    Returns
    -------
    pandas.DataFrame
        ``part``, ``node_usd_per_hour`` [USD/h] and ``share_frac`` (of the node's hourly cost)
        [fraction]; the vendor's part first.
    """
    p = float(nonnegative("purchase_usd", purchase_usd))
    n = float(positive("n_devices", n_devices, integer=True))
    over = float(nonnegative("system_overhead_frac", system_overhead_frac))
    share = float(fraction("vendor_overhead_share_frac", vendor_overhead_share_frac))
    node_usd = p * n * (1.0 + over)
    vendor_usd = p * n * (1.0 + over * share)
    power_w = float(nonnegative("tdp_w", tdp_w)) * n * (1.0 + float(power_overhead_frac))
    parts = pd.DataFrame({
        "part": ["capital: devices (vendor)", "capital: rest of node", "power",
                 "hosting and maintenance"],
        "node_usd_per_hour": [
            capex_usd_per_hour(vendor_usd, life_years, cost_of_capital_frac),
            capex_usd_per_hour(node_usd - vendor_usd, life_years, cost_of_capital_frac),
            power_usd_per_hour(power_w, pue_ratio, electricity_usd_per_kwh),
            hosting_opex_usd_per_hour(node_usd, hosting_opex_frac)],
    })
    parts["node_usd_per_hour"] = parts["node_usd_per_hour"].astype(float)
    parts["share_frac"] = parts["node_usd_per_hour"] / parts["node_usd_per_hour"].sum()
    return parts


def _margin_sample(server_life_years, cost_of_capital_frac, pue_ratio, electricity_usd_per_kwh,
                   hosting_opex_frac, utilization_frac, node_purchase_usd, vendor_purchase_usd,
                   node_power_w, node_tok_per_s):
    node = device_usd_per_hour(node_purchase_usd, server_life_years, cost_of_capital_frac,
                               node_power_w, pue_ratio, electricity_usd_per_kwh, hosting_opex_frac)
    vendor = capex_usd_per_hour(vendor_purchase_usd, server_life_years, cost_of_capital_frac)
    return {"vendor_capex_share_frac": vendor / node,
            "usd_per_mtok_today": cost_usd_per_mtok(useful_usd_per_hour(node, utilization_frac),
                                                    node_tok_per_s)}


def margin_compression_band(distributions, new_gross_margin_frac, *, gross_margin_frac,
                            purchase_usd, tdp_w, n_devices, node_tok_per_s,
                            system_overhead_frac=0.0, power_overhead_frac=0.0,
                            vendor_overhead_share_frac=0.0, n_samples=10_000, seed=0):
    """Decode $/Mtok if the vendor earned another gross margin: a band over owning assumptions.

    Each sample of the owning assumptions gives today's cost per token (the node's owned
    hourly cost over its useful hours and throughput) and the vendor's share of it; at a new
    margin the device price scales by ``(1 - gross_margin) / (1 - new_margin)`` and the cost by
    :func:`econ.compressed_margin_cost_usd_per_mtok`. Every margin uses the same samples.

    Parameters
    ----------
    distributions : dict
        ``{name: Distribution}`` for ``server_life_years``, ``cost_of_capital_frac``, ``pue_ratio``,
        ``electricity_usd_per_kwh``, ``hosting_opex_frac`` and ``utilization_frac``
        (:func:`econ.assumption_triangulars`).
    new_gross_margin_frac : array-like
        Margins on the x axis, each in [0, 1). [fraction]
    gross_margin_frac : float
        The vendor's margin today, in [0, 1). [fraction]
    purchase_usd, tdp_w, n_devices, system_overhead_frac, power_overhead_frac,
    vendor_overhead_share_frac
        The node, as in :func:`vendor_cost_parts`.
    node_tok_per_s : float
        Decode throughput of the node while busy. [tokens/s]
    n_samples, seed : int
        Monte Carlo samples and seed (:func:`econ.monte_carlo`).

    Returns
    -------
    pandas.DataFrame
        :func:`econ.summarize` of ``decode_cost_usd_per_mtok`` by ``new_gross_margin_frac``:
        ``mean``, ``sd``, ``p5``, ``p50``, ``p95``. [USD/Mtok]
    """
    n = float(positive("n_devices", n_devices, integer=True))
    over = float(nonnegative("system_overhead_frac", system_overhead_frac))
    share = float(fraction("vendor_overhead_share_frac", vendor_overhead_share_frac))
    node = dict(node_purchase_usd=float(purchase_usd) * n * (1.0 + over),
                vendor_purchase_usd=float(purchase_usd) * n * (1.0 + over * share),
                node_power_w=float(tdp_w) * n * (1.0 + float(power_overhead_frac)),
                node_tok_per_s=node_tok_per_s)
    mc = monte_carlo(_margin_sample, distributions, n_samples=n_samples, seed=seed,
                     constants=node)
    margins = pd.DataFrame({"new_gross_margin_frac": np.asarray(new_gross_margin_frac, float)})
    sweep = mc.merge(margins, how="cross")
    sweep["decode_cost_usd_per_mtok"] = compressed_margin_cost_usd_per_mtok(
        sweep["usd_per_mtok_today"], sweep["vendor_capex_share_frac"], gross_margin_frac,
        sweep["new_gross_margin_frac"])
    return summarize(sweep, columns="decode_cost_usd_per_mtok", by="new_gross_margin_frac")


def scaleup_links(hardware, link_direction_share_frac, ib_bytes_per_s):
    """Per-direction bandwidth of each device's scale-up link, and of an InfiniBand NIC.

    Parameters
    ----------
    hardware : list of str
        Keys of ``data/hardware.csv``; uses ``interconnect_bytes_per_s`` (bidirectional).
    link_direction_share_frac : float
        Share of the bidirectional figure available in one direction, in (0, 1]. [fraction]
    ib_bytes_per_s : float
        InfiniBand bandwidth per device, one direction. [bytes/s]

    Returns
    -------
    pandas.DataFrame
        Index ``link`` (``"h800-sxm NVLink (200 GB/s per direction)"``, ...,
        ``"InfiniBand (50 GB/s per GPU)"``); ``hardware``, ``link_bytes_per_s`` [bytes/s],
        ``scaleup`` (bool: the device's own scale-up link).
    """
    table = data.load("hardware")
    share = float(fraction("link_direction_share_frac", link_direction_share_frac,
                           allow_zero=False))
    ib = float(positive("ib_bytes_per_s", ib_bytes_per_s))
    rows = []
    for h in hardware:
        bw = float(table.loc[h, "interconnect_bytes_per_s"]) * share
        if not np.isfinite(bw):
            raise ValueError(f"hardware {h!r} has no interconnect_bytes_per_s in "
                             "data/hardware.csv")
        rows.append(dict(link=f"{h} NVLink ({bw / 1e9:,.0f} GB/s per direction)", hardware=h,
                         link_bytes_per_s=bw, scaleup=True))
    rows.append(dict(link=f"InfiniBand ({ib / 1e9:,.0f} GB/s per GPU)", hardware="",
                     link_bytes_per_s=ib, scaleup=False))
    return pd.DataFrame(rows).set_index("link")


def moe_alltoall_bound(model, hardware, precision, n_sequences, context_tok, links, *,
                       n_devices, dispatch_bytes_per_elem=1.0, combine_bytes_per_elem=2.0,
                       acceptance_frac=0.0, draft_depth=0, flop_efficiency_frac=None,
                       bandwidth_efficiency_frac=None):
    """Expert-parallel dispatch and combine time over each link, against the decode step.

    Per decode step a device sends each of its tokens' hidden states to the experts of the
    token and gets them back, per MoE layer:
    ``bytes = hidden_dim * (routed + shared experts) * (dispatch + combine bytes)``
    (:func:`econ.dispatch_combine_bytes_per_tok`); the step cannot be faster than bytes over
    the link. Without overlap the step grows by that time; with overlap only by what exceeds
    the roofline step (:func:`econ.decode_step_breakdown`).

    Parameters
    ----------
    model : str
        A key of ``data/models.csv``; a dense model moves no bytes (comm 0).
    hardware : str
        Device of the roofline step.
    precision : str
        Weight precision.
    n_sequences : float or array-like
        Sequences decoded together over all ``n_devices``; batches that do not fit are
        dropped. [count]
    context_tok : float
        KV length. [tokens]
    links : pandas.DataFrame
        From :func:`scaleup_links`.
    n_devices : int
        Devices the model is spread over. [count]
    dispatch_bytes_per_elem, combine_bytes_per_elem : float
        Bytes per hidden element each way. [bytes]
    acceptance_frac, draft_depth, flop_efficiency_frac, bandwidth_efficiency_frac
        As in :func:`econ.decode_step`.

    Returns
    -------
    pandas.DataFrame
        One row per batch and link: ``link``, ``n_sequences``, ``step_s``, ``comm_s`` [s],
        ``comm_to_step_ratio`` [ratio], ``cost_increase_no_overlap_frac``,
        ``cost_increase_overlap_frac`` [fraction].
    """
    cfg = data.row("models", model)
    # a dense model dispatches nothing: no routed experts, no MoE layers, no all-to-all
    moe = np.nan_to_num(cfg["n_routed_experts"]) > 0
    experts = (np.nan_to_num(cfg["n_active_experts"]) + np.nan_to_num(cfg["n_shared_experts"])
               if moe else 0.0)
    per_tok_layer = dispatch_combine_bytes_per_tok(cfg["hidden_dim"], experts,
                                                   dispatch_bytes_per_elem, combine_bytes_per_elem)
    moe_layers = cfg["n_layers"] - np.nan_to_num(cfg["n_dense_layers"]) if moe else 0.0
    steps = decode_step_breakdown(
        model, hardware, precision, np.atleast_1d(np.asarray(n_sequences, float)), context_tok,
        n_devices=n_devices, flop_efficiency_frac=flop_efficiency_frac,
        bandwidth_efficiency_frac=bandwidth_efficiency_frac, acceptance_frac=acceptance_frac,
        draft_depth=draft_depth)
    steps = steps[steps["n_sequences"] <= steps["max_concurrent_sequences"]]
    tok_per_device = steps["n_sequences"] * (1 + draft_depth) / n_devices
    out = steps[["n_sequences", "step_s"]].assign(tok=tok_per_device).merge(
        links.reset_index()[["link", "link_bytes_per_s"]], how="cross")
    out["comm_s"] = out["tok"] * per_tok_layer * moe_layers / out["link_bytes_per_s"]
    out["comm_to_step_ratio"] = out["comm_s"] / out["step_s"]
    out["cost_increase_no_overlap_frac"] = out["comm_to_step_ratio"]
    out["cost_increase_overlap_frac"] = np.maximum(out["comm_s"] - out["step_s"], 0.0) \
        / out["step_s"]
    return out[["link", "n_sequences", "step_s", "comm_s", "comm_to_step_ratio",
                "cost_increase_no_overlap_frac", "cost_increase_overlap_frac"]]


def stack_throughput(timings, machine, dtype="bfloat16"):
    """Recorded matmul throughput of each software stack against cuBLAS on the same GPU.

    Rows of ``data/gpu_timings.csv`` for one machine's ``gemm`` kernel: cuBLAS through
    PyTorch (``torch.matmul``) and CuPy, a Triton kernel and JAX/XLA, each shape's throughput
    over cuBLAS-through-PyTorch's on that shape.

    Parameters
    ----------
    timings : pandas.DataFrame
        ``econ.data.load("gpu_timings")``.
    machine : str
        A key of ``data/gpu_machines.csv``.
    dtype : str, default "bfloat16"
        The element type compared.

    Returns
    -------
    pandas.DataFrame
        ``stack``, ``shape``, ``achieved_tflop`` [TFLOP/s], ``vs_cublas_ratio`` [ratio],
        ``check_rel_error_ratio`` [ratio], ``source_url``.

    Raises
    ------
    ValueError
        A stack or a shape's cuBLAS row is missing, or a stack's product disagrees with the
        float32 reference by 1 % or more.
    """
    g = timings[(timings["machine"] == machine) & (timings["kernel"] == "gemm")
                & (timings["dtype"] == dtype)]
    g = g[(g["backend"] != "torch") | (g["impl"] == "torch.matmul (cuBLAS)")]
    missing = sorted(set(STACK_NAMES) - set(g["backend"]))
    if missing:
        raise ValueError(f"stack_throughput: machine {machine!r} has no {dtype} gemm rows for "
                         f"{missing}")
    cublas = g[g["backend"] == "torch"].set_index("shape")["achieved_flop_per_s"]
    if set(g["shape"]) != set(cublas.index):
        raise ValueError(f"stack_throughput: {machine!r}: every shape needs its cuBLAS row")
    if (g["check_rel_error_ratio"] >= 0.01).any():
        raise ValueError(f"stack_throughput: {machine!r}: a stack's product disagrees with the "
                         "float32 reference by 1 % or more")
    out = pd.DataFrame({
        "stack": g["backend"].map(STACK_NAMES), "shape": g["shape"],
        "achieved_tflop": g["achieved_flop_per_s"] / 1e12,
        "vs_cublas_ratio": g["achieved_flop_per_s"] / g["shape"].map(cublas),
        "check_rel_error_ratio": g["check_rel_error_ratio"], "source_url": g["source_url"]})
    return out.reset_index(drop=True)


# --- result rows ---------------------------------------------------------------------------------

def margin_result_rows(parts, owned_usd_per_mtok, *, gross_margin_frac, new_gross_margin_frac,
                       hardware, subject, n_devices, source_url=""):
    """Result rows of the vendor's margin in a token's cost, today and compressed.

    Parameters
    ----------
    parts : pandas.DataFrame
        From :func:`vendor_cost_parts` (the vendor's part first).
    owned_usd_per_mtok : float
        The owned node's decode cost. [USD/Mtok]
    gross_margin_frac, new_gross_margin_frac : float
        The vendor's gross margin today and in the scenario, in [0, 1). [fraction]
    hardware, subject : str
        Subjects of the per-device rows and of the per-token rows (``"<model>:<hardware>"``).
    n_devices : int
        Devices in the node (the GPU-hour is the node-hour over them). [count]
    source_url : str
        Source of the gross margin.

    Returns
    -------
    list of dict
        ``owned_gpu_usd_per_hour``, ``nvidia_capex_share_frac``, ``nvidia_margin_share_frac``
        (subject ``hardware``); ``owned_decode_cost_usd_per_mtok``,
        ``nvidia_margin_usd_per_mtok``, ``compressed_margin_decode_cost_usd_per_mtok``,
        ``compressed_margin_cost_change_frac`` (subject ``subject``).
    """
    capex_share = float(parts["share_frac"].iloc[0])
    margin_share = capex_share * float(gross_margin_frac)
    compressed = float(compressed_margin_cost_usd_per_mtok(owned_usd_per_mtok, capex_share,
                                                           gross_margin_frac,
                                                           new_gross_margin_frac))
    scenario = f"scenario: NVIDIA gross margin {new_gross_margin_frac:.0%}"
    return [
        dict(metric="owned_gpu_usd_per_hour", subject=hardware,
             value=float(parts["node_usd_per_hour"].sum()) / float(n_devices)),
        dict(metric="nvidia_capex_share_frac", subject=hardware, value=capex_share),
        dict(metric="nvidia_margin_share_frac", subject=hardware, value=margin_share,
             source_url=source_url,
             verdict=f"at NVIDIA's FY2025 {gross_margin_frac:.0%} gross margin"),
        dict(metric="owned_decode_cost_usd_per_mtok", subject=subject,
             value=float(owned_usd_per_mtok)),
        dict(metric="nvidia_margin_usd_per_mtok", subject=subject,
             value=margin_share * float(owned_usd_per_mtok)),
        dict(metric="compressed_margin_decode_cost_usd_per_mtok", subject=subject,
             value=compressed, verdict=scenario),
        dict(metric="compressed_margin_cost_change_frac", subject=subject,
             value=compressed / float(owned_usd_per_mtok) - 1.0, verdict=scenario),
    ]


def jevons_result_rows(token_price_ratio, vendor_price_ratio, elasticity_low, elasticity_high):
    """Result rows of the Jevons question after a vendor's margin cut.

    Rows ``compute_spend_ratio`` at ``elasticity_low`` (subject
    ``compressed-margin:inelastic``) and ``elasticity_high`` (``compressed-margin:elastic``),
    ``nvidia_revenue_ratio`` at ``elasticity_high`` (:func:`econ.vendor_revenue_ratio`) and
    ``nvidia_breakeven_elasticity_ratio`` (:func:`econ.breakeven_elasticity_ratio`).

    Parameters
    ----------
    token_price_ratio, vendor_price_ratio : float
        New token price / old and new device price / old. [ratio]
    elasticity_low, elasticity_high : float
        An inelastic (< 1) and an elastic (> 1) demand elasticity. [-]

    Returns
    -------
    list of dict
    """
    if not 0.0 <= elasticity_low < 1.0 < elasticity_high:
        raise ValueError(f"need 0 <= elasticity_low < 1 < elasticity_high, got "
                         f"{elasticity_low!r} and {elasticity_high!r}")
    spend = {e: float(jevons_spend_ratio(token_price_ratio, e))
             for e in (elasticity_low, elasticity_high)}
    return [
        dict(metric="compute_spend_ratio", subject="compressed-margin:inelastic",
             value=spend[elasticity_low], verdict=f"elasticity {elasticity_low:g}: spend falls"),
        dict(metric="compute_spend_ratio", subject="compressed-margin:elastic",
             value=spend[elasticity_high],
             verdict=f"elasticity {elasticity_high:g}: spend rises (Jevons)"),
        dict(metric="nvidia_revenue_ratio", subject="compressed-margin:elastic",
             value=float(vendor_revenue_ratio(vendor_price_ratio, token_price_ratio,
                                              elasticity_high)),
             verdict=f"elasticity {elasticity_high:g}"),
        dict(metric="nvidia_breakeven_elasticity_ratio", subject="compressed-margin",
             value=float(breakeven_elasticity_ratio(vendor_price_ratio, token_price_ratio)),
             verdict="demand elasticity above which NVIDIA's revenue grows despite the cut"),
    ]


def interconnect_result_rows(bound, links, reference, cut, subject):
    """Result rows of the all-to-all bound at one batch: each scale-up link's ratio to the
    step, and the cut link's extra $/Mtok against the reference's, with and without overlap.

    Parameters
    ----------
    bound : pandas.DataFrame
        :func:`moe_alltoall_bound` at one batch.
    links : pandas.DataFrame
        :func:`scaleup_links`.
    reference, cut : str
        Hardware whose scale-up links are compared (``"h100-sxm"``, ``"h800-sxm"``).
    subject : str
        Subject prefix of the comparison rows (``"h800-vs-h100"``).

    Returns
    -------
    list of dict
        ``ep_comm_to_step_ratio`` (subject ``"<hardware>:nvlink"``) for both, and
        ``interconnect_cut_cost_increase_frac`` (``"<subject>:no-overlap"``,
        ``"<subject>:overlap"``): ``(1 + cut's increase) / (1 + reference's) - 1``.
    """
    nv = bound.set_index("link").join(links)
    nv = nv[nv["scaleup"]].set_index("hardware")
    rows = [dict(metric="ep_comm_to_step_ratio", subject=f"{h}:nvlink",
                 value=float(nv.loc[h, "comm_to_step_ratio"])) for h in (reference, cut)]
    for case, col in (("no-overlap", "cost_increase_no_overlap_frac"),
                      ("overlap", "cost_increase_overlap_frac")):
        value = (1.0 + nv.loc[cut, col]) / (1.0 + nv.loc[reference, col]) - 1.0
        words = "no overlap" if case == "no-overlap" else "overlapped with compute"
        rows.append(dict(metric="interconnect_cut_cost_increase_frac", subject=f"{subject}:{case}",
                         value=float(value),
                         verdict=f"bound: every dispatched byte over NVLink, {words}"))
    return rows


def stack_result_rows(stacks, machine):
    """Result rows of :func:`stack_throughput`: Triton's and JAX/XLA's mean throughput over
    cuBLAS's (``triton_vs_cublas_flop_ratio``, ``jax_vs_cublas_flop_ratio``), subject the
    machine."""
    ratio = stacks.groupby("stack", sort=False)["vs_cublas_ratio"].mean()
    url = str(stacks["source_url"].iloc[0])
    return [dict(metric=metric, subject=machine, value=float(ratio[STACK_NAMES[backend]]),
                 source_url=url, verdict="recorded GPU timings (BF16 GEMM)")
            for metric, backend in (("triton_vs_cublas_flop_ratio", "triton"),
                                    ("jax_vs_cublas_flop_ratio", "jax"))]


def price_history_rows(history):
    """Result row of :func:`econ.price_history`: the earliest charted blended price over
    the cheapest (``api_blended_price_ratio``, subject ``"<earliest>-vs-<cheapest>"``)."""
    first = history.iloc[0]
    cheapest = history.loc[history["blended_usd_per_mtok"].idxmin()]
    return [dict(metric="api_blended_price_ratio", subject=f"{first['name']}-vs-{cheapest['name']}",
                 value=float(first["blended_usd_per_mtok"] / cheapest["blended_usd_per_mtok"]),
                 source_url=str(first["source_url"]).split(" ; ")[0],
                 verdict=f"list prices {first['price_date']:%Y-%m} to "
                         f"{cheapest['price_date']:%Y-%m}")]


#: The Day-6 decode deployment whose links and wire precisions DeepSeek's ISCA'25 bound uses.
_DAY6_DECODE = "deepseek-v3-h800-day6-decode"


def isca_tpot_floor_row(tok_per_device=32.0):
    """Result row reproducing DeepSeek's ISCA'25 TPOT floor from DeepSeek's own inputs.

    :func:`econ.alltoall_tpot_floor_s` with DeepSeek-V3's config (``data/models.csv``: layers,
    hidden size, routed + shared experts per token) and the dispatch and combine bytes and the
    InfiniBand rate of its Day-6 decode deployment (``data/deployments.csv``), whatever a
    scenario sets; the published figure from ``data/published.csv``.

    Parameters
    ----------
    tok_per_device : float, default 32
        Tokens per GPU per step in the paper's bound. [tokens]

    Returns
    -------
    dict
        Metric ``decode_tpot_floor_s``, subject ``deepseek-v3``, ``value``,
        ``published_value`` [s] and ``source_url``.
    """
    v3 = data.row("models", "deepseek-v3")
    dep = data.row("deployments", _DAY6_DECODE)
    pub = data.load("published").loc["deepseek-v3-decode-tpot-floor-s"]
    per_tok = dispatch_combine_bytes_per_tok(v3["hidden_dim"],
                                             v3["n_active_experts"] + v3["n_shared_experts"],
                                             dep["dispatch_elem_bytes"], dep["combine_elem_bytes"])
    floor = alltoall_tpot_floor_s(v3["n_layers"], tok_per_device, per_tok, dep["ib_bytes_per_s"])
    return dict(metric="decode_tpot_floor_s", subject="deepseek-v3", value=float(floor),
                published_value=float(pub["value"]), source_url=str(pub["source_url"]))
