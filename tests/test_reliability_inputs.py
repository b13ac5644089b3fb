"""Every public function of the cost model, fed every kind of bad value in every parameter.

Each numeric parameter gets NaN, ±inf, a negative number, a string, None, a bool and a huge
value; fractions get values outside [0, 1]; names (model, hardware, precision ...) get unknown
and empty strings. Each must raise a ValueError/KeyError whose message names the parameter, or
(zero, huge values) return a finite result. Never a NaN, an inf or an unrelated exception.
The tallies are printed by `make reliability`.
"""
import inspect
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from econ import (
    amortization,
    burst,
    deployments,
    inference,
    kvcache,
    predict,
    pricing,
    roofline,
    serving,
    training,
)

MODULES = [amortization, training, pricing, kvcache, inference, roofline, serving, deployments,
           predict, burst]

#: Valid values by parameter name; the sweep perturbs one parameter at a time from these.
NAMED = {
    "model": "deepseek-v3", "hardware": "h100-sxm", "precision": "fp8", "api": "deepseek-r1",
    "attention_kind": "gqa", "phase": "decode", "compute_precision": "fp8",
    "kv_bytes_per_elem": "bf16", "bytes_per_elem": 2.0,
    "deployment": "deepseek-v3-h800-day6-decode", "baseline": "deepseek-67b-h800-node",
    "framework": "vllm", "version": "0.11.0", "sampler": "top_p_sort",
}
#: Per-function overrides where the generic value would break a documented constraint.
OVERRIDES = {
    "traffic_revenue_usd": dict(input_tok=608e9, cache_hit_input_tok=342e9, output_tok=168e9),
    "kv_cache_elems_per_layer": dict(n_kv_heads=8, head_dim=128),
    "attention_flop_per_ctx_tok": dict(head_dim=128),
    "capital_recovery_factor": dict(cost_of_capital_frac=0.1),
    "max_concurrent_sequences": dict(memory_bytes=8e10, weight_bytes=4e10),
    "expected_experts_touched": dict(n_routed_experts=256, n_active_experts=8),
    "price_at_gross_margin_usd": dict(gross_margin_frac=0.75, new_gross_margin_frac=0.5),
    "break_even_utilization_frac": dict(full_use_usd_per_mtok=1.0, reference_usd_per_mtok=2.0),
    # 671 GB of FP8 weights need 16 H100s of 80 GB (a batch that does not fit is an error)
    "decode_cost_usd_per_mtok": dict(n_sequences=64, n_devices=16),
    "decode_step": dict(n_devices=16),
    "decode_step_breakdown": dict(n_devices=16),
    "decode_tok_per_s": dict(n_devices=16),
    "decode_tok_per_s_per_user": dict(n_devices=16),
    "max_generation_throughput": dict(deployment="deepseek-v2-h800-node"),
    "max_generation_throughput_ratio": dict(deployment="deepseek-v2-h800-node"),
    "kv_cache_reduction_frac": dict(model="deepseek-v3", baseline="llama-3.1-405b"),
    # 671 GB of V3 weights do not fit on one 8-GPU H100 node: the 70B does
    "predict_serving": dict(model="llama-3.1-70b", n_devices=8, tp=8, concurrency=16.0),
    "predict_burst": dict(model="llama-3.1-70b", n_devices=8, tp=8),
    "workload_lengths": dict(distribution="uniform"),
    "price_gap_split": dict(price_usd_per_mtok=2.19, reference_price_usd_per_mtok=60.0,
                            cost_usd_per_mtok=0.5, reference_cost_usd_per_mtok=2.0),
}
#: Outputs that are NaN by design: a decode-only deployment has no TTFT, a prefill-only one no
#: TPOT (see test_deployments).
NAN_BY_DESIGN = {"predict_deployment": {"ttft_s", "tpot_s", "tpot_median_s",
                                        "tok_per_s_per_user"},
                 "day6_prediction": {"ttft_s", "tpot_s", "tpot_median_s", "tok_per_s_per_user"},
                 # a prefill check has no batch or KV length, a decode check no prompt or pass
                 "layout_checks": {"prompt_tok", "tok_per_device_per_pass",
                                   "n_sequences_per_device", "kv_length_tok"}}
#: Parameters whose documented value None has a meaning (not a missing input).
NONE_MEANS = {"n_sequences": "as many sequences as fit in memory",
              "concurrency": "as many requests as fit in memory (the best offline throughput)",
              "distribution": "every request at the mean lengths"}
SKIP = {"fit_roofline", "prediction_error", "prediction_error_summary",
        "measured_efficiency",  # take measurement tables or fits: see test_roofline
        "ceiling_efficiency", "ridge_batch_count",  # timing tables: see test_roofline
        "api_price_ratios",  # API price tables: see test_pricing*
        "jevons_cases",  # a mapping of named cases: see test_pricing
        "day6_economics",  # result rows, whose published columns are empty by design
        "sampling_line",  # a timing table: see test_predict
        "price_history"}  # a table view whose unsourced cells (MMLU) are NaN by design:
#                           its inputs are checked in test_pricing_history


def _generic(name):
    if name in NAMED:
        return NAMED[name]
    if name.endswith("_frac"):
        return 0.5
    if name.endswith("_ratio"):
        return 1.2
    if name.endswith("_years"):
        return 5.0
    if name in ("draft_depth",):
        return 1
    if name.startswith("n_") or name.endswith(("_dim", "_count")):
        return 8
    return 1000.0


def _functions():
    for mod in MODULES:
        for name in getattr(mod, "__all__", []):
            f = getattr(mod, name)
            if inspect.isfunction(f) and name not in SKIP:
                yield f


FUNCS = list(_functions())


def _baseline(f):
    sig = inspect.signature(f)
    kw = {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        if p.default is not inspect.Parameter.empty and p.name not in OVERRIDES.get(f.__name__, {}):
            continue
        kw[p.name] = _generic(p.name)
    kw.update(OVERRIDES.get(f.__name__, {}))
    return kw


def _finite(out):
    if isinstance(out, tuple):
        return all(_finite(o) for o in out)
    if isinstance(out, dict):
        return all(_finite(v) for v in out.values() if not isinstance(v, str))
    if isinstance(out, pd.DataFrame):
        num = out.select_dtypes("number")
        return bool(np.isfinite(num.to_numpy(dtype=float)).all())
    if isinstance(out, (pd.Series, np.ndarray, float, int, np.floating)):
        return bool(np.isfinite(np.asarray(out, dtype=float)).all())
    return True


def _call(f, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return _without(f(**kw), NAN_BY_DESIGN.get(f.__name__, set()))


def _without(out, keys):
    """``out`` less the keys that are NaN by design, in it and in the mappings it holds (or
    the columns of a table)."""
    if keys and isinstance(out, pd.DataFrame):
        return out.drop(columns=[k for k in keys if k in out.columns])
    if not keys or not isinstance(out, dict):
        return out
    return {k: _without(v, keys) for k, v in out.items() if k not in keys}


@pytest.mark.reliability
@pytest.mark.parametrize("f", FUNCS, ids=[f.__name__ for f in FUNCS])
def test_valid_baseline_is_finite(f, reliability_log):
    out = _call(f, _baseline(f))
    assert _finite(out), f"{f.__name__}({_baseline(f)}) gave a non-finite result: {out}"
    reliability_log("valid calls finite", True)


def _bad_values(name, value):
    if isinstance(value, str):
        return ["no-such-" + name, "", None, 3.0]
    bad = [math.nan, math.inf, -math.inf, -1.0, "12", True, None, [1.0, math.nan]]
    if name.endswith("_frac"):
        bad += [1.5, -0.1]
    return bad


CASES = [(f, name, bad) for f in FUNCS for name, val in _baseline(f).items()
         for bad in _bad_values(name, val)]


@pytest.mark.reliability
@pytest.mark.parametrize("f, name, bad", CASES,
                         ids=[f"{f.__name__}-{n}-{b!r}" for f, n, b in CASES])
def test_invalid_value_is_rejected_by_name(f, name, bad, reliability_log):
    kw = _baseline(f)
    kw[name] = bad
    try:
        out = _call(f, kw)
    except (ValueError, KeyError) as exc:
        ok = name in str(exc) or (name in NAMED and any(k in str(exc) for k in ("valid", "one of")))
        reliability_log("invalid inputs rejected with a clear error", ok)
        assert ok, f"{f.__name__}: the error for {name}={bad!r} does not name it: {exc}"
        return
    except Exception as exc:  # the point is to catch the wrong kind
        reliability_log("invalid inputs rejected with a clear error", False)
        pytest.fail(f"{f.__name__}: {name}={bad!r} raised {type(exc).__name__}: {exc}")
    # Accepted: only where the value is meaningful (e.g. -1 for an elasticity); never NaN/inf.
    none_ok = bad is None and name in NONE_MEANS
    ok = _finite(out) and (bad is not None or none_ok) \
        and not (isinstance(bad, float) and not math.isfinite(bad))
    reliability_log("invalid inputs rejected with a clear error", ok)
    assert ok, f"{f.__name__}: {name}={bad!r} was accepted and gave {out!r}"


EDGE = [(f, name, v) for f in FUNCS for name, val in _baseline(f).items()
        if not isinstance(val, str) for v in (0.0, 1e300)]


@pytest.mark.reliability
@pytest.mark.parametrize("f, name, v", EDGE, ids=[f"{f.__name__}-{n}-{v}" for f, n, v in EDGE])
def test_zero_and_huge_give_a_clear_error_or_a_finite_result(f, name, v, reliability_log):
    kw = _baseline(f)
    kw[name] = v
    try:
        out = _call(f, kw)
    except (ValueError, KeyError) as exc:
        reliability_log("zero/huge inputs handled", name in str(exc) or "overflow" in str(exc))
        assert name in str(exc) or "overflow" in str(exc), f"{f.__name__}: {exc}"
        return
    except Exception as exc:
        reliability_log("zero/huge inputs handled", False)
        pytest.fail(f"{f.__name__}: {name}={v!r} raised {type(exc).__name__}: {exc}")
    reliability_log("zero/huge inputs handled", _finite(out))
    assert _finite(out), f"{f.__name__}: {name}={v!r} gave a non-finite result {out!r}"
