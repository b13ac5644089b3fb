"""econ.serving: the closed forms of expert-parallel serving (link time, overlap, all-to-all
bytes, node-limited routing, balls-in-bins, the Day-6 prompt length), with the published
figures they reproduce (ISCA'25's 14.76 ms decode floor). The deployments they describe are
served by econ.predict_serving_with and tested in test_deployments.py."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import econ
from econ import data as D
from econ import serving as S

# --- closed forms ------------------------------------------------------------------------------

def test_link_time_is_bytes_over_rate():
    assert S.link_time_s(1e9, 50e9) == pytest.approx(0.02)
    assert S.link_time_s(0.0, 50e9) == 0.0
    # ISCA'25 §2.3.2: (1 B + 2 B) x 32 tokens x 9 experts x 7K / 50 GB/s = 120.96 us
    assert S.link_time_s(3 * 32 * 9 * 7000, 50e9) == pytest.approx(120.96e-6)
    # and x 2 microbatches x 61 layers = 14.76 ms TPOT, the published decode floor
    floor = D.load("published").loc["deepseek-v3-decode-tpot-floor-s", "value"]
    assert 2 * 61 * S.link_time_s(3 * 32 * 9 * 7000, 50e9) == pytest.approx(floor, rel=1e-3)


def test_overlap_is_max_and_no_overlap_is_sum():
    assert S.overlap_time_s(3.0, 2.0) == 3.0
    assert S.overlap_time_s(3.0, 5.0) == 5.0
    assert S.overlap_time_s(3.0, 2.0, overlap=False) == 5.0
    assert S.overlap_time_s(3.0, 0.0, overlap=False) == S.overlap_time_s(3.0, 0.0) == 3.0


@given(st.floats(0, 1e3), st.floats(0, 1e3))
def test_overlap_never_slower_and_at_most_halves(c, m):
    hidden, added = S.overlap_time_s(c, m), S.overlap_time_s(c, m, overlap=False)
    assert hidden <= added + 1e-12
    assert added <= 2 * hidden + 1e-9


def test_dispatch_combine_bytes():
    # 8 copies of a 7168-wide FP8 state out, BF16 back
    assert S.dispatch_combine_bytes_per_tok(7168, 8) == 8 * 7168 * 3
    assert S.dispatch_combine_bytes_per_tok(7168, 8, 2, 2) == 8 * 7168 * 4
    assert S.dispatch_combine_bytes_per_tok(7168, 0) == 0.0


def _nodes_by_enumeration(k, n):
    # exact expectation of distinct values among k uniform draws from n, by inclusion
    return sum(1 - ((n - 1) / n) ** k for _ in range(n))


@pytest.mark.parametrize("k, n", [(1, 4), (8, 4), (8, 18), (3, 2), (8, 1)])
def test_expected_nodes_touched(k, n):
    assert S.expected_nodes_touched(k, n) == pytest.approx(_nodes_by_enumeration(k, n))
    assert S.expected_nodes_touched(k, n) <= min(k, n) + 1e-12


def test_expected_nodes_touched_limits_and_cap():
    assert S.expected_nodes_touched(1, 18) == pytest.approx(1.0)
    assert S.expected_nodes_touched(1000, 18) == pytest.approx(18.0)
    assert S.expected_nodes_touched(8, 18, max_nodes=4) == 4.0  # node-limited routing
    # the same occupancy formula as econ.expected_experts_touched with one pick per token
    assert S.expected_nodes_touched(8, 4) == pytest.approx(econ.expected_experts_touched(4, 1, 8))


def test_max_load_ratio_closed_form_and_limits():
    assert S.expected_max_load_ratio(100.0, 1) == 1.0
    assert S.expected_max_load_ratio(1000.0, 144) == pytest.approx(1 + math.sqrt(2 * math.log(144)
                                                                                / 1000))
    r = S.expected_max_load_ratio(np.array([10.0, 100.0, 1e4, 1e8]), 144)
    assert np.all(np.diff(r) < 0) and r[-1] == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("n_bins, mean", [(144, 1000), (32, 10_000)])
def test_max_load_ratio_against_simulated_balls_in_bins(n_bins, mean):
    rng = np.random.default_rng(8)
    balls = n_bins * mean
    sims = [np.bincount(rng.integers(0, n_bins, balls), minlength=n_bins).max() / mean
            for _ in range(100)]
    # the leading-order formula sits slightly above the simulated expectation
    assert np.mean(sims) <= S.expected_max_load_ratio(mean, n_bins) <= np.mean(sims) * 1.03


def test_prompt_from_kv_length_round_trip():
    r, kv = 608 / 168, 4989.0
    p = S.prompt_tok_from_kv_length(kv, r)
    g = p / r
    assert p + g / 2 == pytest.approx(kv)
    assert p == pytest.approx(4383.4, abs=0.1)


def test_prefill_context_by_enumeration():
    p, h = 1000, 0.3
    hit = int(p * h)
    positions = np.arange(hit + 1, p + 1)  # computed token i attends to i tokens (itself too)
    assert S.prefill_context_tok(p, h) == pytest.approx(positions.mean())
    assert S.prefill_context_tok(p, 0.0) == pytest.approx((p + 1) / 2)


# --- vectorized kinds --------------------------------------------------------------------------

KINDS = [
    (lambda x: S.link_time_s(x, 50e9), 1e9),
    (lambda x: S.overlap_time_s(x, 0.5), 0.7),
    (lambda x: S.overlap_time_s(0.5, x, overlap=False), 0.7),
    (lambda x: S.dispatch_combine_bytes_per_tok(x, 8), 7168.0),
    (lambda x: S.expected_nodes_touched(x, 18, 4), 8.0),
    (lambda x: S.expected_max_load_ratio(x, 144), 1000.0),
    (lambda x: S.prompt_tok_from_kv_length(x, 3.6), 4989.0),
    (lambda x: S.prefill_context_tok(4383.0, x), 0.563),
]


@pytest.mark.parametrize("f, x", KINDS)
def test_float_array_series(f, x, float_array_series):
    float_array_series(f, x)


# --- input errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: S.link_time_s(-1.0, 50e9), "n_bytes"),
    (lambda: S.link_time_s(1.0, 0.0), "link_bytes_per_s"),
    (lambda: S.overlap_time_s(1.0, 1.0, overlap="yes"), "overlap"),
    (lambda: S.overlap_time_s(-1.0, 1.0), "compute_s"),
    (lambda: S.dispatch_combine_bytes_per_tok(0, 8), "hidden_dim"),
    (lambda: S.expected_nodes_touched(8, 0.5), "n_nodes"),
    (lambda: S.expected_max_load_ratio(0.0, 144), "mean_load"),
    (lambda: S.prompt_tok_from_kv_length(4989, 0), "input_per_output_ratio"),
    (lambda: S.prefill_context_tok(4000, 1.0), "cache_hit_frac"),
])
def test_bad_inputs_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_docstring_examples():
    import doctest
    result = doctest.testmod(S)
    assert result.attempted >= 5 and result.failed == 0
