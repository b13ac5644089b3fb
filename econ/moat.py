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
from .inference import decode_step, decode_step_breakdown, decode_tok_per_s
from .pricing import (
    breakeven_elasticity_ratio,
    compressed_margin_cost_usd_per_mtok,
    cost_usd_per_mtok,
    jevons_cases,
    jevons_spend_ratio,
    price_at_gross_margin_usd,
    vendor_revenue_ratio,
)
from .sensitivity import assumption_triangulars, monte_carlo, summarize
from .serving import alltoall_tpot_floor_s, dispatch_combine_bytes_per_tok

__all__ = ["vendor_cost_parts", "margin_compression_band", "scaleup_links", "moe_alltoall_bound",
           "stack_throughput", "margin_result_rows", "jevons_result_rows",
           "interconnect_result_rows", "stack_result_rows", "price_history_rows",
           "isca_tpot_floor_row", "vendor_gross_margin", "owned_node", "node_decode_tok_per_s",
           "owned_decode_cost_parts", "owned_margin_band", "margin_cut_price_ratios",
           "margin_jevons_cases", "margin_jevons_table", "ep_alltoall_sweep",
           "stack_machine_note", "tpot_floor_note", "MARGIN_GRID_FRAC"]

#: NVIDIA's gross margins charted in the margin-compression band. [fraction]
MARGIN_GRID_FRAC = np.round(np.linspace(0.0, 0.8, 17), 3)

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


# --- a node the operator owns, and the vendor's margin in it ------------------------------------

def vendor_gross_margin(key="nvidia-fy2025-gross-margin"):
    """A device vendor's published gross margin and its first source.

    Parameters
    ----------
    key : str, default "nvidia-fy2025-gross-margin"
        A row of ``data/published.csv``.

    Returns
    -------
    gross_margin_frac : float
        The margin. [fraction]
    source_url : str
        The first of the row's sources.
    """
    pub = data.load("published")
    if key not in pub.index:
        raise KeyError(f"vendor_gross_margin: no row {key!r} in data/published.csv")
    return float(pub.loc[key, "value"]), str(pub.loc[key, "source_url"]).split(" ; ")[0]


def owned_node(hardware, system_overhead_frac=0.0, power_overhead_frac=0.0,
               vendor_overhead_share_frac=0.0):
    """A whole node of one device, as :func:`vendor_cost_parts` and
    :func:`margin_compression_band` take it.

    Parameters
    ----------
    hardware : str
        A key of ``data/hardware.csv`` with ``purchase_usd``, ``tdp_w`` and
        ``n_devices_per_node``.
    system_overhead_frac, power_overhead_frac, vendor_overhead_share_frac : float
        As in :func:`vendor_cost_parts`. [fraction]

    Returns
    -------
    dict
        ``purchase_usd`` [USD], ``tdp_w`` [W], ``n_devices`` [count] and the three fractions.
    """
    row = data.row("hardware", hardware)
    for col in ("purchase_usd", "tdp_w"):
        if not np.isfinite(float(row[col])):
            raise ValueError(f"owned_node: hardware {hardware!r} has no {col} in "
                             "data/hardware.csv")
    return dict(purchase_usd=row["purchase_usd"], tdp_w=row["tdp_w"],
                n_devices=row["n_devices_per_node"], system_overhead_frac=system_overhead_frac,
                power_overhead_frac=power_overhead_frac,
                vendor_overhead_share_frac=vendor_overhead_share_frac)


def _decode_options(model, flop_efficiency_frac, bandwidth_efficiency_frac):
    """Roofline efficiencies and multi-token prediction: the model's MTP modules drafted at
    DeepSeek-V3's published acceptance."""
    acceptance = float(data.load("published").loc["deepseek-v3-mtp-acceptance", "value"])
    return dict(flop_efficiency_frac=flop_efficiency_frac,
                bandwidth_efficiency_frac=bandwidth_efficiency_frac, acceptance_frac=acceptance,
                draft_depth=int(data.row("models", model)["n_mtp_modules"]))


def node_decode_tok_per_s(model, hardware, precision, batch_per_node, context_tok, *, n_nodes=1,
                          flop_efficiency_frac=None, bandwidth_efficiency_frac=None):
    """Decode tokens per second of one node of ``hardware`` (roofline, with MTP).

    :func:`econ.decode_tok_per_s` of ``batch_per_node * n_nodes`` sequences over all the
    nodes' devices, times the devices of one node; the model's MTP modules draft at
    DeepSeek-V3's published acceptance (``data/published.csv``).

    Parameters
    ----------
    model, hardware, precision : str
        Keys of ``data/models.csv`` and ``data/hardware.csv``; weight precision.
    batch_per_node : float
        Sequences decoded together per node. [count]
    context_tok : float
        KV length each decoded token attends to. [tokens]
    n_nodes : int, default 1
        Nodes the model is spread over. [count]
    flop_efficiency_frac, bandwidth_efficiency_frac : float, optional
        Achieved shares of peak FLOP/s and HBM bandwidth. [fraction]

    Returns
    -------
    float
        Tokens per second of one node. [tokens/s]
    """
    n = int(positive("n_nodes", n_nodes, integer=True))
    per_node = data.row("hardware", hardware)["n_devices_per_node"]
    return decode_tok_per_s(model, hardware, precision, float(batch_per_node * n), context_tok,
                            n_devices=per_node * n,
                            **_decode_options(model, flop_efficiency_frac,
                                              bandwidth_efficiency_frac)) * per_node


def owned_decode_cost_parts(node, node_tok_per_s, *, utilization_frac, server_life_years,
                            cost_of_capital_frac, pue_ratio, electricity_usd_per_kwh,
                            hosting_opex_frac=0.0):
    """Where an owned node's decode cost per million tokens goes (:func:`vendor_cost_parts`).

    The node's hourly cost over its useful hours (:func:`econ.useful_usd_per_hour`) and
    throughput (:func:`econ.cost_usd_per_mtok`), split in the shares of its parts.

    Parameters
    ----------
    node : dict
        :func:`owned_node`.
    node_tok_per_s : float
        Decode throughput of the node while busy. [tokens/s]
    utilization_frac : float
        Share of wall-clock hours doing paid work. [fraction]
    server_life_years, cost_of_capital_frac, pue_ratio, electricity_usd_per_kwh,
    hosting_opex_frac : float
        The owning assumptions, as in :func:`econ.device_usd_per_hour`.

    Returns
    -------
    parts : pandas.DataFrame
        :func:`vendor_cost_parts` plus ``usd_per_mtok`` (each part's share of the cost)
        [USD/Mtok].
    usd_per_mtok : float
        The node's decode cost. [USD/Mtok]
    """
    parts = vendor_cost_parts(**node, life_years=server_life_years,
                              cost_of_capital_frac=cost_of_capital_frac, pue_ratio=pue_ratio,
                              electricity_usd_per_kwh=electricity_usd_per_kwh,
                              hosting_opex_frac=hosting_opex_frac)
    owned = cost_usd_per_mtok(useful_usd_per_hour(parts["node_usd_per_hour"].sum(),
                                                  utilization_frac), node_tok_per_s)
    parts["usd_per_mtok"] = parts["share_frac"] * owned
    return parts, owned


def owned_margin_band(node, node_tok_per_s, *, gross_margin_frac, utilization_frac,
                      server_life_years, cost_of_capital_frac, pue_ratio, electricity_usd_per_kwh,
                      hosting_opex_frac, new_gross_margin_frac=MARGIN_GRID_FRAC,
                      n_samples=10_000, seed=0):
    """:func:`margin_compression_band` over triangular ranges of the owning assumptions.

    Each assumption is triangular around the run's value over its range in
    ``data/assumptions.csv`` (:func:`econ.assumption_triangulars`).

    Parameters
    ----------
    node : dict
        :func:`owned_node`.
    node_tok_per_s : float
        Decode throughput of the node while busy. [tokens/s]
    gross_margin_frac : float
        The vendor's gross margin today, in [0, 1). [fraction]
    utilization_frac, server_life_years, cost_of_capital_frac, pue_ratio,
    electricity_usd_per_kwh, hosting_opex_frac : float
        The run's owning assumptions (the modes).
    new_gross_margin_frac : array-like, default :data:`MARGIN_GRID_FRAC`
        Margins on the x axis. [fraction]
    n_samples, seed : int
        Monte Carlo samples and seed.

    Returns
    -------
    pandas.DataFrame
        As :func:`margin_compression_band`. [USD/Mtok]
    """
    dists = assumption_triangulars(
        data.load("assumptions"), server_life_years=server_life_years,
        cost_of_capital_frac=cost_of_capital_frac, pue_ratio=pue_ratio,
        electricity_usd_per_kwh=electricity_usd_per_kwh, hosting_opex_frac=hosting_opex_frac,
        utilization_frac=utilization_frac)
    return margin_compression_band(dists, new_gross_margin_frac,
                                   gross_margin_frac=gross_margin_frac,
                                   node_tok_per_s=node_tok_per_s, n_samples=n_samples, seed=seed,
                                   **node)


def margin_cut_price_ratios(parts, gross_margin_frac, new_gross_margin_frac):
    """Token and device prices after the vendor's margin falls, over today's.

    Parameters
    ----------
    parts : pandas.DataFrame
        :func:`vendor_cost_parts` (the vendor's part first).
    gross_margin_frac, new_gross_margin_frac : float
        The vendor's gross margin today and after, each in [0, 1). [fraction]

    Returns
    -------
    token_price_ratio : float
        :func:`econ.compressed_margin_cost_usd_per_mtok` of a cost of 1. [ratio]
    vendor_price_ratio : float
        :func:`econ.price_at_gross_margin_usd` of a price of 1. [ratio]
    """
    token = compressed_margin_cost_usd_per_mtok(1.0, parts["share_frac"].iloc[0],
                                                gross_margin_frac, new_gross_margin_frac)
    return token, price_at_gross_margin_usd(1.0, gross_margin_frac, new_gross_margin_frac)


def margin_jevons_cases(demand_elasticity, parts, gross_margin_frac, new_gross_margin_frac, *,
                        substitute=("deepseek-r1", "openai-o1"), substitute_names=("R1", "o1")):
    """Spend after the vendor's margin cut against the demand elasticity: compute spend and
    the vendor's revenue, and the spend on tokens of a cheaper substitute model
    (:func:`econ.jevons_cases`).

    Parameters
    ----------
    demand_elasticity : array-like
        Elasticities swept, each >= 0. [-]
    parts : pandas.DataFrame
        :func:`vendor_cost_parts` (the vendor's part first).
    gross_margin_frac, new_gross_margin_frac : float
        The vendor's gross margin today and after, each in [0, 1). [fraction]
    substitute : tuple of str, default ("deepseek-r1", "openai-o1")
        Rows of ``data/api_prices.csv``: the cheaper model and the one it replaces; their
        output prices give the substitute's price ratio. ``None`` leaves the case out.
    substitute_names : tuple of str, default ("R1", "o1")
        Their names in the case label.

    Returns
    -------
    pandas.DataFrame
        :func:`econ.jevons_cases`: ``case``, ``demand_elasticity``, ``spend_ratio``.
    """
    token, vendor = margin_cut_price_ratios(parts, gross_margin_frac, new_gross_margin_frac)
    cut = f"margin {gross_margin_frac:.0%} to {new_gross_margin_frac:.0%}"
    cases = {f"compute spend, {cut}": token, f"NVIDIA revenue, {cut}": (token, vendor)}
    if substitute is not None:
        api = data.load("api_prices")
        ratio = (api.loc[substitute[0], "output_usd_per_mtok"]
                 / api.loc[substitute[1], "output_usd_per_mtok"])
        cheap, dear = substitute_names
        cases[f"token spend, {cheap} price vs {dear} ({1 / ratio:.1f}x cheaper)"] = ratio
    return jevons_cases(demand_elasticity, cases)


def margin_jevons_table(parts, gross_margin_frac, new_gross_margin_frac, elasticity_low,
                        elasticity_high):
    """Compute spend and the vendor's revenue after its margin cut, at three elasticities.

    Parameters
    ----------
    parts : pandas.DataFrame
        :func:`vendor_cost_parts` (the vendor's part first).
    gross_margin_frac, new_gross_margin_frac : float
        The vendor's gross margin today and after, each in [0, 1). [fraction]
    elasticity_low, elasticity_high : float
        An inelastic and an elastic demand; 1 is put between them. [-]

    Returns
    -------
    pandas.DataFrame
        Index ``demand_elasticity``; columns ``compute_spend_ratio``,
        ``nvidia_revenue_ratio`` [ratio], rounded to 3 decimals.
    """
    token, vendor = margin_cut_price_ratios(parts, gross_margin_frac, new_gross_margin_frac)
    return jevons_cases([elasticity_low, 1.0, elasticity_high], {
        "compute_spend_ratio": token, "nvidia_revenue_ratio": (token, vendor)}
    ).pivot(index="demand_elasticity", columns="case", values="spend_ratio").round(3)


def ep_alltoall_sweep(model, hardware, precision, batch_per_node, context_tok, links, *,
                      n_nodes, operating_batch_per_node, dispatch_bytes_per_elem=1.0,
                      combine_bytes_per_elem=2.0, flop_efficiency_frac=None,
                      bandwidth_efficiency_frac=None):
    """:func:`moe_alltoall_bound` on ``n_nodes`` nodes against the batch, and at the
    operating batch.

    The model's MTP modules draft at DeepSeek-V3's published acceptance. The operating point
    is ``operating_batch_per_node``, or the largest batch whose KV cache fits on the nodes
    (:func:`econ.decode_step` with no batch), whichever is smaller.

    Parameters
    ----------
    model, hardware, precision : str
        As in :func:`moe_alltoall_bound`.
    batch_per_node : array-like
        Sequences per node swept. [count]
    context_tok : float
        KV length. [tokens]
    links : pandas.DataFrame
        :func:`scaleup_links`.
    n_nodes : int
        Nodes of ``hardware`` holding the model. [count]
    operating_batch_per_node : float
        The operating batch per node. [count]
    dispatch_bytes_per_elem, combine_bytes_per_elem : float
        Bytes per hidden element each way. [bytes]
    flop_efficiency_frac, bandwidth_efficiency_frac : float, optional
        As in :func:`econ.decode_step`. [fraction]

    Returns
    -------
    sweep : pandas.DataFrame
        :func:`moe_alltoall_bound` of each batch that fits, with ``batch_per_node_count``.
    at_operating : pandas.DataFrame
        :func:`moe_alltoall_bound` at the operating point.
    """
    n = int(positive("n_nodes", n_nodes, integer=True))
    n_devices = int(data.row("hardware", hardware)["n_devices_per_node"]) * n
    kw = dict(n_devices=n_devices, dispatch_bytes_per_elem=dispatch_bytes_per_elem,
              combine_bytes_per_elem=combine_bytes_per_elem,
              **_decode_options(model, flop_efficiency_frac, bandwidth_efficiency_frac))
    sweep = moe_alltoall_bound(model, hardware, precision, np.asarray(batch_per_node, float) * n,
                               context_tok, links, **kw)
    sweep["batch_per_node_count"] = sweep["n_sequences"] / n
    fit = decode_step(model, hardware, precision, None, context_tok, n_devices=n_devices)
    op = min(float(operating_batch_per_node * n), float(fit["n_sequences"]))
    return sweep, moe_alltoall_bound(model, hardware, precision, op, context_tok, links, **kw)


def stack_machine_note(machine):
    """One line naming a recorded GPU machine and its library versions.

    Parameters
    ----------
    machine : str
        A key of ``data/gpu_machines.csv``.

    Returns
    -------
    str
        ``"<machine>: <GPU>, torch <v>, triton <v>, jax <v>, cupy <v>"``.
    """
    m = data.row("gpu_machines", machine)
    return (f"{machine}: {m['gpu_name']}, torch {m['torch_version']}, triton "
            f"{m['triton_version']}, jax {m['jax_version']}, cupy {m['cupy_version']}")


def tpot_floor_note(row):
    """One line setting :func:`isca_tpot_floor_row` against DeepSeek's figure.

    Parameters
    ----------
    row : dict
        :func:`isca_tpot_floor_row`.

    Returns
    -------
    str
        ``"TPOT floor: <x> ms vs published <y> ms (...)"``.
    """
    return (f"TPOT floor: {row['value'] * 1e3:.2f} ms vs published "
            f"{row['published_value'] * 1e3:.2f} ms (the paper rounds the hidden size to 7K)")
