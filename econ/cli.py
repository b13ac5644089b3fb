"""``python -m econ cost``: what a million output tokens cost, and at what speed per user.

A thin command line over :func:`econ.serving_cost_table` (the engine level priced at a
GPU-hour rate over a utilization, with the notebooks' defaults).

Example::

    python -m econ cost --model llama-3.1-70b --hardware h100-sxm --gpus 8 --tp 8 \\
        --precision fp8 --usd-per-gpu-hour 2 --concurrency 1,16,64
"""
from __future__ import annotations

import argparse
import sys

from .frontier import serving_cost_table


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m econ", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cost", help="$/Mtok and speed per user of a deployment")
    c.add_argument("--model", required=True, help="a key of data/models.csv")
    c.add_argument("--hardware", required=True, help="a key of data/hardware.csv")
    c.add_argument("--gpus", type=int, required=True, help="devices serving")
    c.add_argument("--tp", type=int, help="devices per replica (default: --gpus)")
    c.add_argument("--ep", type=int, default=1, help="expert-parallel devices per replica")
    c.add_argument("--dp-attention", action="store_true", help="data-parallel attention")
    c.add_argument("--precision", default="fp8", help="weight precision (default fp8)")
    c.add_argument("--kv-precision", default="bf16")
    c.add_argument("--mtp-draft-tok", type=int, default=0)
    c.add_argument("--concurrency", default="1,8,32,64",
                   help="requests in flight, comma-separated (default 1,8,32,64)")
    c.add_argument("--isl", type=float, default=1000.0, help="input tokens per request")
    c.add_argument("--osl", type=float, default=1000.0, help="output tokens per request")
    c.add_argument("--usd-per-gpu-hour", type=float, help="default: the hardware's rental price")
    c.add_argument("--utilization", type=float,
                   help="share of hours doing paid work (default: data/assumptions.csv)")
    opt = ap.parse_args(argv)
    try:
        conc = [float(x) for x in opt.concurrency.split(",") if x.strip()]
        table = serving_cost_table(
            opt.model, opt.hardware, opt.precision, n_devices=opt.gpus,
            tp=opt.tp or opt.gpus, ep=opt.ep, dp_attention=opt.dp_attention,
            concurrency=conc, isl_tok=opt.isl, osl_tok=opt.osl,
            usd_per_gpu_hour=opt.usd_per_gpu_hour, utilization_frac=opt.utilization,
            kv_precision=opt.kv_precision, mtp_draft_tok=opt.mtp_draft_tok)
    except (ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    t = table.iloc[0]
    print(f"{opt.model} {opt.precision} on {opt.gpus} x {opt.hardware} (tp {opt.tp or opt.gpus}),"
          f" {opt.isl:g} in / {opt.osl:g} out, ${t['usd_per_gpu_hour']:g} per GPU-hour at "
          f"{t['utilization_frac']:.0%} utilization")
    show = table[["concurrency", "tok_per_s_per_user", "ttft_s",
                  "output_tok_per_s_per_device", "output_usd_per_mtok"]]
    print(show.to_string(index=False, formatters={
        "concurrency": "{:,.0f}".format, "tok_per_s_per_user": "{:,.1f}".format,
        "ttft_s": "{:,.2f}".format, "output_tok_per_s_per_device": "{:,.0f}".format,
        "output_usd_per_mtok": "${:,.3f}".format}))
    return 0
