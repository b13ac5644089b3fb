"""Time what a serving step spends choosing its next tokens from the logits, and write it as data.

Run once on a GPU machine (the device tool), from the repository root:

    PYTHONUNBUFFERED=1 python3 tests/benchmarks/gpu_sampling.py --out "$OUT"

After the forward pass a step turns each running sequence's logits (one row of the vocabulary's
width) into its next token. How much that costs depends on what the request asks for:

- ``greedy``: temperature 0, the largest logit (one ``argmax`` over each row);
- ``random``: temperature sampling without truncation: the logits in float32, divided by the
  temperature, a softmax, then the exponential race (``argmax(p / E)`` with ``E`` exponential
  noise, which picks token ``i`` with probability ``p_i`` and needs no host synchronization);
- ``top_p_sort``: nucleus (top-p) sampling done the straightforward way on a GPU, the way a
  framework's native sampler does it when no fused sampling kernel is used: sort every row
  of the vocabulary (values and indices), a softmax and a cumulative sum over the sorted
  row, mask the tail beyond ``p``, scatter the masked row back to vocabulary order, then the
  softmax and exponential race of ``random``;
- ``top_p_sort_penalized``: ``top_p_sort`` after the OpenAI-style penalties a request may
  ask for (repetition, frequency, presence): each row's prompt and output tokens counted
  over the vocabulary, the seen tokens' logits scaled and the counts subtracted, the way a
  framework applies them to the whole batch's logits.

Each variant runs on logits in BF16 (a model's output) of ``batch x vocabulary`` for batches
of 1 to 2048 rows and the vocabularies of the models the project prices (32,000 to 202,048
tokens). Each is captured in one CUDA graph, warmed up, then replayed with CUDA events
around each replay; the median over the replays is the GPU time of one step's sampling.
Before timing, each variant's choice is checked: on logits with one clear maximum per row,
every variant must pick it (top-p keeps the maximum; with ``p`` small only it survives).

It writes, under ``--out``: ``gpu_timings.csv`` (the layout of ``data/gpu_timings.csv``,
kernel ``sampling``), ``gpu_machines.csv`` (one row in the layout of
``data/gpu_machines.csv``), ``machine.json`` and ``log.txt``. ``--quick`` checks the script
on tiny shapes (on the CPU too, without graphs).

The numbers it writes are measurements: commit them as they come, never edit them.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_measure as GM  # versions, nvidia-smi, the machines table

VARIANTS = ("greedy", "random", "top_p_sort", "top_p_sort_penalized")
SCRIPT = "tests/benchmarks/gpu_sampling.py"
#: Vocabularies: Llama 2 / Mistral, Llama 3, Qwen 2.5-3, DeepSeek-V3, Llama 4 (gpt-oss: 201,088).
VOCABS = (32000, 128256, 151936, 129280, 202048)
BATCHES = (1, 16, 64, 128, 256, 512, 1024, 2048)
TEMPERATURE, TOP_P = 0.8, 0.95
#: Penalties of ``top_p_sort_penalized`` (OpenAI-style: repetition, frequency, presence) and
#: the prompt and output tokens of each row they count.
REPETITION, FREQUENCY, PRESENCE = 1.1, 0.1, 0.1
PENALTY_TOK = 256
IMPLS = {
    "greedy": "torch.argmax over the BF16 logits of each row",
    "random": "float32 cast, divide by the temperature, softmax, exponential noise, divide, "
              "argmax (the exponential race)",
    "top_p_sort": "float32 cast, divide by the temperature, torch.sort of each row (values "
                  "and int64 indices), softmax and cumsum of the sorted row, mask beyond p, "
                  "masked_fill, scatter back, softmax, exponential noise, divide, argmax",
    "top_p_sort_penalized": "float32 cast; penalties: each row's prompt and output tokens "
                            f"({PENALTY_TOK} each) counted over the vocabulary (scatter_add "
                            "into int64), their masks, the repetition penalty (divide the "
                            "positive logits of seen tokens, multiply the negative), frequency "
                            "and presence subtracted; then as top_p_sort",
}


def penalize(torch, x, prompt_tok, output_tok):
    """``x`` (float32 logits) with the repetition, frequency and presence penalties of the
    tokens each row has seen: ``prompt_tok`` and ``output_tok`` [batch, tokens]."""
    rows, vocab = x.shape

    def counts(tok):
        c = torch.zeros((rows, vocab + 1), dtype=torch.int64, device=x.device)
        c.scatter_add_(1, tok, torch.ones_like(tok))
        return c[:, :vocab]

    out_counts = counts(output_tok)
    seen = (counts(prompt_tok) > 0) | (out_counts > 0)
    rep = torch.full_like(x, REPETITION).masked_fill_(~seen, 1.0)
    x = torch.where(x > 0, x / rep, x * rep)
    return x - FREQUENCY * out_counts - PRESENCE * (out_counts > 0)


def sample(torch, variant, logits, top_p=TOP_P, seen=None):
    """The next token of each row of ``logits`` [batch, vocabulary] (BF16); ``seen``: the
    (prompt, output) tokens of each row, for the penalized variant."""
    if variant == "greedy":
        return logits.argmax(dim=-1)
    x = logits.float()
    if variant == "top_p_sort_penalized":
        x = penalize(torch, x, *seen)
    x = x.div_(TEMPERATURE)
    if variant.startswith("top_p_sort"):
        vals, idx = x.sort(dim=-1)                     # ascending: the nucleus at the end
        cum = vals.softmax(dim=-1).cumsum(dim=-1)
        drop = cum <= 1.0 - top_p
        drop[:, -1] = False                            # the largest always stays
        vals.masked_fill_(drop, float("-inf"))
        x = x.scatter_(-1, idx, vals)
    p = x.softmax(dim=-1)
    return p.div_(torch.empty_like(p).exponential_()).argmax(dim=-1)


def seen_tokens(torch, batch, vocab, device):
    """Random prompt and output tokens of each row, :data:`PENALTY_TOK` each."""
    return tuple(torch.randint(0, vocab, (batch, PENALTY_TOK), device=device)
                 for _ in range(2))


def check(torch, variant, batch, vocab, device, seen):
    """Every variant picks a row's clear maximum (top-p with a small p keeps only it; the
    penalties leave it the largest)."""
    logits = torch.randn((batch, vocab), device=device, dtype=torch.bfloat16)
    want = torch.randint(0, vocab, (batch,), device=device)
    logits[torch.arange(batch, device=device), want] = 100.0
    got = sample(torch, variant, logits, top_p=0.01, seen=seen)
    if not torch.equal(got, want):
        raise AssertionError(f"{variant} at {batch}x{vocab}: picks another token than the "
                             "row's clear maximum")


def time_graph(torch, variant, logits, replays, seen):
    """Seconds per call of one step's sampling, replayed from a CUDA graph (sorted)."""
    return GM.graph_replay_times(torch, lambda: sample(torch, variant, logits, seen=seen),
                                 replays)


def time_host(torch, variant, logits, replays, seen):
    """Seconds per call on the host clock (the ``--quick`` CPU path)."""
    times = []
    for _ in range(replays):
        t = time.perf_counter()
        sample(torch, variant, logits, seen=seen)
        times.append(time.perf_counter() - t)
    return sorted(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--replays", type=int, default=30)
    ap.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS),
                    help="samplers to time (default: all)")
    ap.add_argument("--tag", default="sampling",
                    help="suffix of the machine key (a second run on one day needs its own)")
    args = ap.parse_args(argv)
    log = GM.run_log(args.out)

    import torch
    cuda = torch.cuda.is_available()
    if not cuda and not args.quick:
        raise SystemExit("gpu_sampling.py needs CUDA (or --quick)")
    device = "cuda" if cuda else "cpu"
    torch.manual_seed(0)
    meta = GM.run_machine(torch, args.out, SCRIPT, args.tag)
    machine = meta["machine"]
    log(f"machine {machine}: {meta.get('gpu_name')}, torch {meta.get('torch_version')}")

    vocabs = (1000, 4096) if args.quick else VOCABS
    batches = (1, 8) if args.quick else BATCHES
    replays = 3 if args.quick else args.replays
    timer = time_graph if cuda else time_host
    cols = GM.TIMING_COLUMNS
    rows = []
    for vocab in vocabs:
        for batch in batches:
            logits = torch.randn((batch, vocab), device=device, dtype=torch.bfloat16)
            seen = seen_tokens(torch, batch, vocab, device)
            for variant in args.variants:
                try:
                    check(torch, variant, batch, vocab, device, seen)
                    t = timer(torch, variant, logits, replays, seen)
                except Exception as exc:
                    log(f"{batch}x{vocab} {variant}: FAILED {type(exc).__name__}: {exc}")
                    continue
                med, n = t[len(t) // 2], len(t)
                elems = batch * vocab
                rows.append(dict(
                    name=f"{machine}/torch/sampling/{variant}/bfloat16/B={batch},V={vocab}",
                    machine=machine, kernel="sampling", variant=variant, impl=IMPLS[variant],
                    backend="torch", device=meta.get("gpu_name", device), dtype="bfloat16",
                    shape=f"B={batch},V={vocab}", m_dim=batch, n_dim=vocab, n_batch=batch,
                    work_flop=0.0, bytes_moved_bytes=2.0 * elems, median_s=med, min_s=t[0],
                    spread_ratio=(t[int(n * 0.9)] - t[int(n * 0.1)]) / med, n_repeats=n,
                    achieved_flop_per_s=0.0, achieved_bytes_per_s=2.0 * elems / med,
                    check_rel_error_ratio=0.0, source_url=f"measured:{SCRIPT}",
                    source_date=meta["date"], source_kind="measured",
                    notes=(f"one step's sampling of {batch} rows of {vocab} logits "
                           f"(temperature {TEMPERATURE}, top_p {TOP_P}), captured in one CUDA "
                           f"graph: median (and min) over {n} replays, CUDA events around "
                           "each; bytes_moved_bytes counts only the BF16 logits read once; "
                           "check: every variant picks each row's clear maximum"
                           if cuda else "host clock, CPU (--quick check of the script)")))
                log(f"{batch:5d} x {vocab:6d} {variant:11s} {med * 1e6:10.1f} us  "
                    f"({med / elems * 1e12:7.2f} ps per logit)")
            del logits, seen
            with open(os.path.join(args.out, "gpu_timings.csv"), "w", newline="") as fh:
                wr = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
                wr.writeheader()
                for r in rows:
                    wr.writerow({c: r.get(c, "") for c in cols})
        if cuda:
            torch.cuda.empty_cache()
    GM.write_machine_row(meta, args.out, SCRIPT)


if __name__ == "__main__":
    main()
