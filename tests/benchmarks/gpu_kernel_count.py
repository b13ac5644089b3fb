"""Count the kernels one recorded harness step launches, and write them as data.

The step engine charges a fixed time per kernel (``kernel_fixed_s`` in
``data/calibration.csv``), fitted to the steps of ``gpu_steps.py`` with the number of kernels
a layer's structure names (``econ.ModelSpec.kernels_per_step``: one per norm, projection,
activation, ...). The harness writes its steps in PyTorch operations, and one named kernel
can be several launches there (a norm and its residual add, a cast, a copy into the cache).
This script counts what the harness really launches: for each architecture and layout the
step fit uses or holds out, it builds the same model as ``gpu_steps.py`` (its classes,
imported), runs one step under ``torch.profiler`` and counts the CUDA kernels, memsets and
copies of that step (the launches a CUDA graph of it replays).

Run once on a GPU machine (the device tool), from the repository root:

    PYTHONUNBUFFERED=1 python3 tests/benchmarks/gpu_kernel_count.py --out "$OUT"

It writes ``gpu_kernel_counts.csv`` (one row per step: layout, batch, context and the
counts), ``kernel_names.json`` (each step's launches by kernel name) and ``machine.json``
under ``--out``. ``--quick`` builds tiny shapes; on a machine
without CUDA it counts nothing and only checks that the script runs. The counts are
measurements: commit them as they come.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gpu_steps as S  # the harness whose steps are counted

SCRIPT = "tests/benchmarks/gpu_kernel_count.py"
COLUMNS = ("name", "arch", "phase", "weight_precision", "tp", "ep", "n_layers_timed",
           "n_dense_layers_timed", "n_moe_layers_timed", "lm_head_included", "n_sequences",
           "context_tok", "kernels_count", "memsets_count", "copies_count",
           "distinct_kernels_count", "gpu_name", "gpu_driver", "torch_version", "cuda_version",
           "triton_version", "source_url", "source_date", "source_kind", "notes")


def _driver():
    """The GPU driver's version from nvidia-smi, or empty."""
    import subprocess
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30).stdout.split("\n")[0]
    except (OSError, subprocess.SubprocessError):
        return ""


def count_launches(E, fn):
    """(kernels, memsets, copies, {kernel name: launches}) one call of ``fn`` launches on
    the GPU, from ``torch.profiler``'s CUDA events (after one warm-up call: autotuning and
    workspace allocation stay out)."""
    torch = E.torch
    fn()
    if not E.cuda:
        return 0, 0, 0, {}
    torch.cuda.synchronize()
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    kernels = memsets = copies = 0
    names = {}
    for ev in prof.events():
        if ev.device_type != torch.autograd.DeviceType.CUDA:
            continue
        name = ev.name.lower()
        if "memset" in name:
            memsets += 1
        elif "memcpy" in name:
            copies += 1
        else:
            kernels += 1
            names[ev.name[:120]] = names.get(ev.name[:120], 0) + 1
    return kernels, memsets, copies, names


def cases(quick):
    """(arch, builder, tp, ep, n_dense, n_moe, lm, phases) of the harness's steps."""
    c8, c70, cv3 = (S.TINY_8B, S.TINY_70B, S.TINY_V3) if quick else (S.LLAMA_8B, S.LLAMA_70B,
                                                                     S.DSV3)
    q30, q235 = (S.TINY_Q30, S.TINY_Q235) if quick else (S.QWEN3_30B, S.QWEN3_235B)
    n70, n235 = (2, 2) if quick else (8, 4)
    e8 = 4 if quick else 8
    v3 = {e8: (1, 2) if quick else (1, 3), 1: (1, 2)}
    out = [("llama-3.1-8b", lambda E: S.Dense(E, c8, 1, c8.n_layers, "bf16", True), 1, 1,
            c8.n_layers, 0, True)]
    for tp in (1, 8) if not quick else (1, 2):
        out.append(("llama-3.1-70b", lambda E, tp=tp: S.Dense(E, c70, tp, n70, "bf16", False),
                    tp, 1, n70, 0, False))
    for ep in (e8, 1):
        nd, nm = v3[ep]
        out.append(("deepseek-v3", lambda E, ep=ep, nd=nd, nm=nm: S.Mla(E, cv3, ep, nd, nm,
                                                                         "bf16"),
                    1, ep, nd, nm, False))
    out.append(("qwen3-30b-a3b", lambda E: S.GqaMoe(E, q30, 1, 1, q30.n_layers, "bf16", True),
                1, 1, 0, q30.n_layers, True))
    for tp, ep in ((8, 1), (1, 8)) if not quick else ((2, 1), (1, 4)):
        out.append(("qwen3-235b-a22b-2507",
                    lambda E, tp=tp, ep=ep: S.GqaMoe(E, q235, tp, ep, n235, "bf16", False),
                    tp, ep, 0, n235, False))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="tiny shapes (the CPU is enough)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    E = S.Env(args.quick)
    torch = E.torch
    S.probe_grouped(E)
    batches, ctx, prompt = ((1, 4), 64, 16) if args.quick else ((1, 64), 1024, 512)
    try:
        import triton
        triton_version = triton.__version__
    except ImportError:
        triton_version = ""
    stamp = dict(gpu_name=torch.cuda.get_device_name(0) if E.cuda else "cpu",
                 gpu_driver=_driver() if E.cuda else "", torch_version=torch.__version__,
                 cuda_version=torch.version.cuda or "", triton_version=triton_version,
                 source_url=f"measured:{SCRIPT}",
                 source_date=dt.datetime.now(dt.UTC).date().isoformat(), source_kind="measured")
    rows, names_by_case = [], {}
    for arch, build, tp, ep, nd, nm, lm in cases(args.quick):
        m = build(E)
        if hasattr(m, "probe"):
            m.probe()
        with torch.no_grad():
            for phase, B, L in [("decode", b, ctx) for b in batches] + [("prefill", 1, prompt)]:
                tokens = B if phase == "decode" else B * L
                if hasattr(m, "set_routing"):
                    m.set_routing(tokens)
                if phase == "decode":
                    m.set_positions(L=L)
                    cache, x = m.new_cache(B, L), m.inputs(B, 1)
                else:
                    m.set_positions(S=L)
                    cache, x = m.new_cache(B, L), m.inputs(B, L)
                step = m.decode if phase == "decode" else m.prefill
                k, ms, cp, names = count_launches(E, lambda: step(x, cache))
                key = f"{arch}/{phase}/tp{tp}-ep{ep}/L{nd + nm}/b{B}/ctx{L}"
                rows.append(dict(name=key, arch=arch, phase=phase, weight_precision="bf16",
                                 tp=tp, ep=ep,
                                 n_layers_timed=nd + nm, n_dense_layers_timed=nd,
                                 n_moe_layers_timed=nm, lm_head_included=lm, n_sequences=B,
                                 context_tok=L, kernels_count=k, memsets_count=ms,
                                 copies_count=cp, distinct_kernels_count=len(names),
                                 notes=f"one {phase} step of gpu_steps.py's {type(m).__name__} "
                                 f"model ({'whole' if lm else 'slice'}, BF16, routing drawn "
                                 f"as it draws it) run once under torch.profiler after a "
                                 f"warm-up call; grouped expert products: {E.grouped_mode}",
                                 **stamp))
                names_by_case[f"{arch} tp={tp} ep={ep} {phase} b={B} L={L}"] = names
                S.log(f"{arch} tp={tp} ep={ep} {phase} b={B} L={L}: {k} kernels, {ms} memsets, "
                      f"{cp} copies ({len(names)} distinct kernels)")
                del cache
        del m
        E.free()
    with open(out / "gpu_kernel_counts.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    meta = dict(stamp, script=SCRIPT, argv=sys.argv, grouped_mode=E.grouped_mode,
                python_version=sys.version.split()[0],
                finished_utc=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    (out / "machine.json").write_text(json.dumps(meta, indent=1))
    (out / "kernel_names.json").write_text(json.dumps(names_by_case, indent=1))
    S.log(f"done: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
