"""Does a notebook's setup fit in memory? Checked before anything runs.

Each notebook serves a model on some hardware; a scenario can ask for a setup that cannot hold
the model's weights (a 671B model in BF16 on one 8 x 80 GB node) or the operating batch's KV
cache. :func:`setup_problems` finds those from the parameters alone, with the same
``econ.inference`` calls the notebook makes, so ``python -m econ.reports --check`` and the
notebook's validation cell (:func:`econ.notebook_parameters`) stop with the same message
before any long computation.
"""
from __future__ import annotations

import math

from . import data as _data
from .inference import decode_step, model_devices_to_hold

__all__ = ["setup_problems"]


def _devices_per_node(hardware):
    return int(_data.row("hardware", hardware)["n_devices_per_node"])


def _holds(model, hardware, precision, n_gpus, what, fix):
    need = float(model_devices_to_hold(model, hardware, precision))
    if need > n_gpus:
        return [f"{what}: {model} in {precision} needs {math.ceil(need)} x {hardware} for its "
                f"weights alone, the setup has {n_gpus}; {fix}"]
    return []


def _batch_fits(model, hardware, precision, n_gpus, n_nodes, batch_per_node, context_tok, fix):
    fit = decode_step(model, hardware, precision, None, context_tok, n_devices=n_gpus)
    most = float(fit["n_sequences"]) / n_nodes
    if batch_per_node > most:
        return [f"batch_per_node {batch_per_node} does not fit: {n_nodes} node(s) of {hardware} "
                f"hold at most {math.floor(most)} sequences per node of {model} at "
                f"{context_tok:,.0f} tokens; {fix}"]
    return []


def _token_pricing(p):
    n_gpus = _devices_per_node(p["node_hardware"]) * p["n_nodes"]
    out = _holds(p["model"], p["node_hardware"], p["precision"], n_gpus, "model",
                 "raise n_nodes or pick a GPU with more memory")
    if not out:
        out += _batch_fits(p["model"], p["node_hardware"], p["precision"], n_gpus, p["n_nodes"],
                           p["batch_per_node"], p["context_tok"],
                           "lower batch_per_node or context_tok, or raise n_nodes")
    o1_gpus = _devices_per_node(p["o1_hardware"]) * p["n_nodes"]
    out += _holds(p["o1_model"], p["o1_hardware"], p["o1_precision"], o1_gpus, "o1_model",
                  "pick a smaller o1_model, another o1_hardware or raise n_nodes")
    return out


def _nvidia_moat(p):
    n_gpus = _devices_per_node(p["node_hardware"]) * p["n_nodes"]
    out = []
    if not math.isfinite(_data.row("hardware", p["node_hardware"])["purchase_usd"]):
        out.append(f"node_hardware {p['node_hardware']} has no purchase_usd in "
                   "data/hardware.csv: NVIDIA's share of an owned node needs its price")
        return out
    out += _holds(p["model"], p["node_hardware"], p["precision"], n_gpus, "model",
                 "raise n_nodes or pick a GPU with more memory")
    if not out:
        out += _batch_fits(p["model"], p["node_hardware"], p["precision"], n_gpus, p["n_nodes"],
                           p["batch_per_node"], p["context_tok"],
                           "lower batch_per_node or context_tok, or raise n_nodes")
    out += _holds(p["model"], "h800-sxm", p["precision"],
                  _devices_per_node("h800-sxm") * p["ep_nodes"], "ep_nodes", "raise ep_nodes")
    return out


def _hardware_amortization(p):
    gpu = p["gpu"]
    out = []
    if not math.isfinite(_data.row("hardware", gpu)["purchase_usd"]):
        priced = [k for k, v in _data.load("hardware")["purchase_usd"].items()
                  if math.isfinite(v)]
        out.append(f"gpu {gpu} has no purchase_usd in data/hardware.csv: the GPU node every "
                   f"platform is compared with must have a price; pick one of {priced}")
    return out + _holds(p["served_model"], gpu, p["precision"], _devices_per_node(gpu),
                        "served_model", "pick a smaller served_model or a lower precision")


def _test_time_compute(p):
    return _holds("deepseek-r1-distill-llama-8b", "rtx-4090", p["precision"], 1,
                  "precision", "the distilled 8B must fit on one RTX 4090")


def _architecture_efficiency(p):
    """The notebook reproduces the MoE model's published figures: they must exist."""
    pub = _data.load("published")
    name = str(_data.model_row(p["moe_model"]).name)
    need = [f"{name}-active-params", f"{name}-mtp-speedup"]
    if all(k in pub.index for k in need):
        return []
    having = sorted(m for m in set(pub["subject"]) if f"{m}-active-params" in pub.index
                    and f"{m}-mtp-speedup" in pub.index)
    return [f"moe_model: {p['moe_model']!r} has no published active-parameter count and MTP "
            f"speed-up (rows {need} of data/published.csv), which this notebook reproduces; "
            f"models that have both: {having}"]


_CHECKS = {
    "architecture_efficiency": _architecture_efficiency,
    "token_pricing": _token_pricing,
    "nvidia_moat": _nvidia_moat,
    "hardware_amortization": _hardware_amortization,
    "test_time_compute": _test_time_compute,
}


def setup_problems(notebook, params):
    """Why a notebook's setup cannot run, from its parameters (``[]`` when it can).

    Parameters
    ----------
    notebook : str
        The notebook's file stem (``"token_pricing"``); a notebook with no memory-bound setup
        has no check.
    params : dict
        Its validated parameters (:func:`econ.notebook_parameters`).

    Returns
    -------
    list of str
        One message per problem, naming the parameter to change.
    """
    check = _CHECKS.get(str(notebook))
    if check is None:
        return []
    try:
        return check(params)
    except KeyError as exc:  # a parameter this check reads is not the notebook's
        raise ValueError(f"setup check of {notebook}: parameter {exc} missing") from None
