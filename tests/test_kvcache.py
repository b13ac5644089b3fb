"""KV-cache bytes per token from model configs, checked by hand and against DeepSeek-V2."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import econ
from econ import (
    kv_cache_bytes,
    kv_cache_bytes_per_token,
    kv_cache_elems_per_layer,
    max_concurrent_sequences,
    model_kv_cache_bytes_per_token,
)

# Config values from the official config files (cross-checked in FACTS.md section C).
DEEPSEEK_V3 = dict(name="deepseek-v3", attention_kind="mla", n_layers=61, hidden_dim=7168,
                   n_heads=128, kv_lora_rank_dim=512, qk_rope_head_dim=64,
                   qk_nope_head_dim=128, v_head_dim=128)
DEEPSEEK_V2 = dict(DEEPSEEK_V3, name="deepseek-v2", n_layers=60, hidden_dim=5120)
# DeepSeek-V2-Lite / the "small MoE" of the V2 ablation: 27 layers, 16 heads of 128.
DEEPSEEK_V2_LITE = dict(DEEPSEEK_V3, name="deepseek-v2-lite", n_layers=27, hidden_dim=2048,
                        n_heads=16)
# DeepSeek LLM 67B is GQA: 95 layers, 64 query heads, 8 KV heads of 128.
DEEPSEEK_67B = dict(name="deepseek-67b", attention_kind="gqa", n_layers=95, hidden_dim=8192,
                    n_heads=64, n_kv_heads=8, head_dim=128)
LLAMA_31_70B = dict(name="llama-3.1-70b", attention_kind="gqa", n_layers=80, hidden_dim=8192,
                    n_heads=64, n_kv_heads=8, head_dim=128)
# Llama-2-7B is plain MHA: 32 layers, 32 heads of 128.
LLAMA_2_7B = dict(name="llama-2-7b", attention_kind="mha", n_layers=32, hidden_dim=4096,
                  n_heads=32, n_kv_heads=32, head_dim=128)


# --- by hand ---------------------------------------------------------------------------------

def test_gqa_llama_31_70b_by_hand():
    # 80 layers * 2 (K and V) * 8 KV heads * 128 * 2 bytes
    assert 80 * 2 * 8 * 128 * 2 == 327_680
    elems = kv_cache_elems_per_layer("gqa", n_kv_heads=8, head_dim=128)
    assert elems == 2048.0
    assert kv_cache_bytes_per_token(80, elems, 2) == 327_680.0
    assert model_kv_cache_bytes_per_token(LLAMA_31_70B) == 327_680.0
    assert model_kv_cache_bytes_per_token(LLAMA_31_70B, "fp8") == 163_840.0


def test_mla_deepseek_v3_by_hand():
    # 61 layers * (kv_lora_rank 512 + qk_rope_head_dim 64) * 2 bytes
    assert 61 * (512 + 64) * 2 == 70_272
    elems = kv_cache_elems_per_layer("mla", kv_lora_rank_dim=512, qk_rope_head_dim=64)
    assert elems == 576.0
    assert kv_cache_bytes_per_token(61, elems, "bf16") == 70_272.0
    assert model_kv_cache_bytes_per_token(DEEPSEEK_V3) == 70_272.0


def test_mha_llama_2_7b_by_hand():
    # 32 layers * 2 * 32 heads * 128 * 2 bytes = 0.5 MiB per token
    assert model_kv_cache_bytes_per_token(LLAMA_2_7B) == 524_288.0 == 2 ** 19
    # an MHA row may leave n_kv_heads and head_dim out: n_heads and hidden_dim / n_heads
    bare = {k: v for k, v in LLAMA_2_7B.items() if k not in ("n_kv_heads", "head_dim")}
    assert model_kv_cache_bytes_per_token(bare) == 524_288.0
    assert model_kv_cache_bytes_per_token(pd.Series(bare, name="llama-2-7b")) == 524_288.0


def test_mla_vs_mha_against_deepseek_v2_table_9():
    """DeepSeek-V2 (arXiv:2405.04434) Table 9, KV cache per token in elements:
    small MoE 110.6K (MHA) vs 15.6K (MLA); large MoE 34.6K (MLA)."""
    def elems(model):
        return model_kv_cache_bytes_per_token(model, bytes_per_elem=1.0)

    small_mla = elems(DEEPSEEK_V2_LITE)
    small_mha = elems(dict(DEEPSEEK_V2_LITE, attention_kind="mha", n_kv_heads=16,
                           head_dim=128))
    assert small_mla == pytest.approx(15.6e3, abs=50)
    assert small_mha == pytest.approx(110.6e3, abs=50)
    assert small_mha / small_mla == pytest.approx(110.6 / 15.6, rel=0.005)
    assert elems(DEEPSEEK_V2) == pytest.approx(34.6e3, abs=50)


def test_mla_equals_gqa_with_2_25_groups():
    """DeepSeek-V2 Table 1: MLA's cache equals GQA's with 2.25 groups (d_c = 4 d_h,
    d_h^R = d_h / 2)."""
    mla = kv_cache_elems_per_layer("mla", kv_lora_rank_dim=512, qk_rope_head_dim=64)
    assert mla == kv_cache_elems_per_layer("gqa", n_kv_heads=2.25, head_dim=128)


def test_deepseek_v2_cuts_the_cache_93_3_percent_vs_deepseek_67b():
    """V2 abstract: 'reduces the KV cache by 93.3%' vs DeepSeek 67B. Reproduced with V2's
    cache quantised to ~6 bits per element (V2 report, p.16) against 67B in BF16."""
    v2 = model_kv_cache_bytes_per_token(DEEPSEEK_V2, 6 / 8)
    dense = model_kv_cache_bytes_per_token(DEEPSEEK_67B, "bf16")
    assert dense == 95 * 2 * 8 * 128 * 2
    assert 1 - v2 / dense == pytest.approx(0.933, abs=0.0005)
    # in BF16 on both sides the cut is 82%: the quantisation is part of the claim
    assert 1 - model_kv_cache_bytes_per_token(DEEPSEEK_V2) / dense == pytest.approx(0.822,
                                                                                     abs=0.001)


def test_whole_table_gives_a_series_by_model():
    df = pd.DataFrame([DEEPSEEK_V3, LLAMA_31_70B, LLAMA_2_7B]).set_index("name")
    out = model_kv_cache_bytes_per_token(df)
    assert isinstance(out, pd.Series)
    assert out.to_dict() == {"deepseek-v3": 70_272.0, "llama-3.1-70b": 327_680.0,
                             "llama-2-7b": 524_288.0}
    assert model_kv_cache_bytes_per_token(df, "fp8")["deepseek-v3"] == 35_136.0
    with pytest.raises(ValueError, match="bytes_per_elem must be a single value"):
        model_kv_cache_bytes_per_token(df, np.array([1.0, 2.0]))


def test_max_concurrent_sequences_by_hand():
    # 80 GB - 70.6 GB = 9.4 GB; one 8k sequence of Llama-3.1-70B = 2.68 GB -> 3
    assert max_concurrent_sequences(80e9, 70.6e9, 327_680, 8192) == 3.0
    assert max_concurrent_sequences(80e9, 90e9, 327_680, 8192) == 0.0  # weights do not fit
    # 10% reserve: 72 GB - 70.6 GB = 1.4 GB -> 0
    assert max_concurrent_sequences(80e9, 70.6e9, 327_680, 8192, reserve_frac=0.1) == 0.0
    # an exact fit counts
    assert max_concurrent_sequences(10.0 + 3 * 0.1 * 7, 10.0, 0.1, 7) == 3.0
    # MLA: V3 at 4,989 tokens per sequence fits 4.7x more sequences than Llama-70B's cache
    ratio = max_concurrent_sequences(1e12, 0, 327_680, 4989) / \
        max_concurrent_sequences(1e12, 0, 70_272, 4989)
    assert ratio == pytest.approx(70_272 / 327_680, rel=2e-3)  # whole sequences


def test_kv_cache_bytes():
    assert kv_cache_bytes(70_272, 4989) == 70_272 * 4989
    assert kv_cache_bytes(70_272, 4989, 10) == 70_272 * 4989 * 10


# --- every public function takes float, ndarray and Series -----------------------------------

KINDS = [
    (lambda x: kv_cache_elems_per_layer("gqa", n_kv_heads=x, head_dim=128), 8.0, 2048.0),
    (lambda x: kv_cache_elems_per_layer("mla", kv_lora_rank_dim=x, qk_rope_head_dim=64),
     512.0, 576.0),
    (lambda x: kv_cache_bytes_per_token(x, 576, 2), 61.0, 70_272.0),
    (lambda x: kv_cache_bytes_per_token(61, 576, x), 2.0, 70_272.0),
    (lambda x: model_kv_cache_bytes_per_token(DEEPSEEK_V3, x), 2.0, 70_272.0),
    (lambda x: kv_cache_bytes(x, 10.0, 2.0), 3.0, 60.0),
    (lambda x: max_concurrent_sequences(x, 70.6e9, 327_680, 8192), 80e9, 3.0),
    (lambda x: max_concurrent_sequences(80e9, 70.6e9, 327_680, x), 8192.0, 3.0),
]


@pytest.mark.parametrize("f, x, expected", KINDS)
def test_float_array_series(f, x, expected, float_array_series):
    float_array_series(f, x, expected)


def test_broadcasting():
    out = kv_cache_bytes_per_token(np.array([[60.0], [61.0]]), 576, np.array([1.0, 2.0]))
    assert out.shape == (2, 2) and out[1, 1] == 70_272.0


# --- invalid input: a ValueError naming the parameter ----------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: kv_cache_bytes_per_token(float("nan"), 576, 2), "n_layers must be finite"),
    (lambda: kv_cache_bytes_per_token(61, float("inf"), 2), "kv_elems_per_layer must be finite"),
    (lambda: kv_cache_bytes_per_token(61, 576, -2), "bytes_per_elem must be > 0"),
    (lambda: kv_cache_bytes_per_token(61.5, 576, 2), "n_layers must be a whole number"),
    (lambda: kv_cache_bytes_per_token(61, 576, "fp7"), "bytes_per_elem must be one of"),
    (lambda: kv_cache_elems_per_layer("mqa", n_kv_heads=1, head_dim=128),
     "attention_kind must be one of"),
    (lambda: kv_cache_elems_per_layer("gqa", head_dim=128), "n_kv_heads is required"),
    (lambda: kv_cache_elems_per_layer("mla", kv_lora_rank_dim=512),
     "qk_rope_head_dim is required"),
    (lambda: kv_cache_elems_per_layer("gqa", n_kv_heads=[8, -1], head_dim=128),
     r"n_kv_heads must be > 0, got -1.0 \(at position 1\)"),
    (lambda: kv_cache_bytes(1.0, -1.0), "context_tok must be >= 0"),
    (lambda: max_concurrent_sequences(80e9, 1e9, 1e5, 1e3, reserve_frac=1.0),
     r"reserve_frac must be in \[0, 1\)"),
    (lambda: max_concurrent_sequences(80e9, 1e9, 1e5, 0.0), "context_tok must be > 0"),
    (lambda: max_concurrent_sequences(float("nan"), 1e9, 1e5, 1e3), "memory_bytes must be finite"),
    (lambda: model_kv_cache_bytes_per_token(dict(DEEPSEEK_V3, attention_kind="linear")),
     "model 'deepseek-v3': attention_kind must be one of"),
    (lambda: model_kv_cache_bytes_per_token(dict(DEEPSEEK_V3, kv_lora_rank_dim=None)),
     "model 'deepseek-v3': column 'kv_lora_rank_dim' is empty"),
    (lambda: model_kv_cache_bytes_per_token(dict(LLAMA_31_70B, n_kv_heads=float("nan"))),
     "model 'llama-3.1-70b': column 'n_kv_heads' is empty"),
    (lambda: model_kv_cache_bytes_per_token(
        pd.DataFrame([DEEPSEEK_V3, dict(LLAMA_31_70B, head_dim=None, hidden_dim=None)])
        .set_index("name")), "model 'llama-3.1-70b': column 'head_dim' is empty"),
    (lambda: model_kv_cache_bytes_per_token(42), "model must be a model name"),
])
def test_invalid_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- properties ------------------------------------------------------------------------------

pos = st.floats(min_value=1.0, max_value=1e6, allow_nan=False)


@given(layers=st.integers(1, 200), elems=pos, nbytes=st.sampled_from([0.5, 1.0, 2.0]))
def test_bytes_per_token_is_linear_and_finite(layers, elems, nbytes):
    one = kv_cache_bytes_per_token(layers, elems, nbytes)
    assert np.isfinite(one) and one > 0
    assert kv_cache_bytes_per_token(2 * layers, elems, nbytes) == pytest.approx(2 * one)


@given(mem=st.floats(1e9, 1e13), weights=st.floats(0, 1e12), kv=st.floats(1e3, 1e7),
       ctx=st.floats(1, 1e6), more=st.floats(1.0, 10.0))
def test_concurrency_falls_with_context_and_rises_with_memory(mem, weights, kv, ctx, more):
    n = max_concurrent_sequences(mem, weights, kv, ctx)
    assert np.isfinite(n) and n >= 0 and n == np.floor(n)
    assert max_concurrent_sequences(mem, weights, kv, ctx * more) <= n
    assert max_concurrent_sequences(mem * more, weights, kv, ctx) >= n


@given(x=st.one_of(st.just(float("nan")), st.just(float("inf")), st.floats(max_value=-1e-9)))
def test_invalid_numbers_raise_value_error(x):
    with pytest.raises(ValueError, match="kv_bytes_per_token"):
        kv_cache_bytes(x, 100.0)


# --- the data table, once it is there --------------------------------------------------------

@pytest.mark.skipif("models" not in econ.data.tables(), reason="data/models.csv not yet there")
def test_every_model_in_the_table_has_a_kv_size():
    df = econ.data.load("models")
    out = model_kv_cache_bytes_per_token(df)
    assert (out > 0).all() and np.isfinite(out).all()
    for name, row in df.iterrows():
        assert model_kv_cache_bytes_per_token(row) == out[name]
    hand = {"deepseek-v3": 70_272.0, "llama-3.1-70b": 327_680.0}
    for name in set(hand) & set(df.index.str.lower()):
        assert out[df.index[df.index.str.lower() == name][0]] == hand[name]
