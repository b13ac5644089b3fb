"""Predict the serving ledger's rows with NVIDIA's aiconfigurator: a peer column for the engine.

Run where aiconfigurator is installed (``pip install aiconfigurator``; it ships NVIDIA's measured
kernel tables, works offline, and brings its own dependencies, so it is not part of the
project's environment)::

    python tests/benchmarks/peer_aiconfigurator.py          # writes data/peer_predictions.csv

For each ledger row on an NVIDIA GPU that aiconfigurator covers (model, system, framework), it
estimates the row's deployment in aggregated (in-flight batching) mode at the row's ISL/OSL,
layout, weight precision and cache precision (the one our predictions use: published, else the
row's ``kv_precision_assumed``, else BF16). A row with a concurrency runs at that batch (with
attention data parallel, shared evenly by the ranks; a concurrency that is not a whole number
per rank is skipped); an offline row (no concurrency) at the batch, from 8 doubling up to
8,192, with the most output per GPU that aiconfigurator finds fits in memory. Rows it cannot
take are listed with the reason. Its cache precision comes from the engine's own rule
(:func:`econ.calibrate.ledger_kv_precision`, imported from this checkout); it never reads the
ledger's measured values.
"""
from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # econ from this checkout (its needs: numpy, pandas, pyyaml)
from econ.calibrate import ledger_kv_precision  # noqa: E402

LEDGER = ROOT / "data" / "serving_benchmarks.csv"
OUT = ROOT / "data" / "peer_predictions.csv"

HF_MODEL = {"llama-3.1-8b": "meta-llama/Meta-Llama-3.1-8B",
            "llama-3.1-70b": "meta-llama/Meta-Llama-3.1-70B",
            "llama-3.1-405b": "meta-llama/Meta-Llama-3.1-405B",
            "deepseek-r1": "deepseek-ai/DeepSeek-R1", "deepseek-v3": "deepseek-ai/DeepSeek-V3",
            "qwen3-30b-a3b": "Qwen/Qwen3-30B-A3B", "qwen3-235b-a22b-2507": "Qwen/Qwen3-235B-A22B",
            "mixtral-8x7b": "mistralai/Mixtral-8x7B-v0.1"}
SYSTEM = {"h100-sxm": "h100_sxm", "h200-sxm": "h200_sxm", "b200": "b200_sxm"}
BACKEND = {"tensorrt-llm": "trtllm", "nim": "trtllm", "sglang": "sglang", "vllm": "vllm"}
DEEPSEEK = {"deepseek-r1", "deepseek-v3"}
OFFLINE_BATCHES = [8 * 2 ** i for i in range(11)]  # 8 .. 8192


def quant_modes(row):
    """aiconfigurator's quant modes for a row: weights, MoE weights, cache."""
    w = row["weight_precision"]
    gemm = {"fp8": "fp8_block" if row["model"] in DEEPSEEK else "fp8", "fp4": "nvfp4",
            "bf16": "bfloat16"}[w]
    kv = ledger_kv_precision(row)  # the engine's own rule: the same cache on both sides
    return dict(gemm_quant_mode=gemm, moe_quant_mode=gemm,
                kvcache_quant_mode={"bf16": "bfloat16", "fp8": "fp8"}[kv])


def estimate(cli_estimate, row, batch):
    tp = int(row["tp_devices"])
    ep = int(row["ep_devices"]) if pd.notna(row["ep_devices"]) else 1
    kw = dict(backend_name=BACKEND[row["framework"]], isl=int(row["isl_tok"]),
              osl=int(row["osl_tok"]), batch_size=int(batch), tp_size=tp, **quant_modes(row))
    if row["model"] in DEEPSEEK or row["model"].startswith(("qwen3-30b", "qwen3-235b", "mixtral")):
        # tp devices in all: attention tensor parallel (or data parallel), experts over ep
        # groups of tp/ep devices each
        dp = tp if str(row["dp_attention"]).lower() == "true" else 1
        kw.update(attention_dp_size=dp, tp_size=tp // dp, moe_ep_size=ep, moe_tp_size=tp // ep)
    r = cli_estimate(HF_MODEL[row["model"]], SYSTEM[row["hardware"]], **kw)
    dp = kw.get("attention_dp_size", 1)
    n_gpu = float(r.raw["num_total_gpus"])
    return dict(tpot_s=r.tpot / 1e3, ttft_s=r.ttft / 1e3,
                output_per_device_tok_per_s=float(r.raw["tokens/s"]) / n_gpu,
                batch_size_count=int(batch) * dp, backend_version=r.backend_version,
                kv_cache_warning=r.kv_cache_warning or "")


def main():
    logging.disable(logging.WARNING)
    from importlib.metadata import version

    import aiconfigurator
    from aiconfigurator.cli.api import cli_estimate

    ledger = pd.read_csv(LEDGER, index_col="name")
    rows, skipped = [], []
    for key, row in ledger.iterrows():
        why = None
        if row["hardware"] not in SYSTEM:
            why = f"no aiconfigurator system for {row['hardware']}"
        elif row["model"] not in HF_MODEL:
            why = f"no aiconfigurator model config for {row['model']}"
        elif row["framework"] not in BACKEND:
            why = f"framework {row['framework']} not an aiconfigurator backend"
        elif pd.isna(row["tp_devices"]) or pd.isna(row["isl_tok"]) or pd.isna(row["osl_tok"]) \
                or pd.isna(row["weight_precision"]):
            why = "the row publishes no layout, lengths or precision"
        if why:
            skipped.append((key, why))
            continue
        dp = int(row["tp_devices"]) if str(row["dp_attention"]).lower() == "true" else 1
        try:
            if pd.notna(row["concurrency_count"]):
                # with attention data parallel aiconfigurator's batch is per rank
                per_rank = row["concurrency_count"] / dp
                if per_rank < 1 or per_rank != int(per_rank):
                    raise ValueError(f"concurrency {row['concurrency_count']:g} is not a whole "
                                     f"number of requests per attention-DP rank ({dp} ranks)")
                est = estimate(cli_estimate, row, int(per_rank))
            else:
                best = None
                for b in OFFLINE_BATCHES:
                    try:
                        e = estimate(cli_estimate, row, b)
                    except RuntimeError:  # out of memory: larger batches will not fit either
                        break
                    if e["kv_cache_warning"]:
                        break
                    if best is None or e["output_per_device_tok_per_s"] > \
                            best["output_per_device_tok_per_s"]:
                        best = e
                if best is None:
                    raise RuntimeError("no batch fits")
                est = best
        except Exception as exc:  # a row aiconfigurator cannot take: say why
            skipped.append((key, f"{type(exc).__name__}: {str(exc)[:160]}"))
            continue
        rows.append(dict(
            name=key, peer="aiconfigurator", peer_version=version("aiconfigurator"),
            backend=BACKEND[row["framework"]], backend_version=est["backend_version"],
            system=SYSTEM[row["hardware"]], batch_size_count=est["batch_size_count"],
            tpot_s=round(est["tpot_s"], 6), ttft_s=round(est["ttft_s"], 5),
            output_per_device_tok_per_s=round(est["output_per_device_tok_per_s"], 3),
            source_url="https://pypi.org/project/aiconfigurator/" + version("aiconfigurator")
            + "/ ; measured:tests/benchmarks/peer_aiconfigurator.py",
            source_date=dt.date.today().isoformat(), source_kind="derived",
            notes=("aiconfigurator.cli.api.cli_estimate, mode agg (in-flight batching), "
                   f"database SILICON; quant {quant_modes(row)}; "
                   + ("batch = the row's concurrency" if pd.notna(row["concurrency_count"])
                      else "offline: the batch in 8..8192 (doubling) with the most output per "
                           "GPU that fits"))))
        print(f"{key}: batch {est['batch_size_count']}, TPOT {est['tpot_s'] * 1e3:.2f} ms, "
              f"{est['output_per_device_tok_per_s']:.1f} tok/s/GPU", flush=True)
    pd.DataFrame(rows).to_csv(OUT, index=False)
    print(f"wrote {len(rows)} rows to {OUT}; skipped {len(skipped)}:")
    for key, why in skipped:
        print(f"  {key}: {why}")
    print(f"aiconfigurator {aiconfigurator.__name__} {version('aiconfigurator')}, "
          f"python {sys.version.split()[0]}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
