"""data/models.csv: every row's published parameter counts follow from its config numbers.

The closed form below counts the weight matrices of a decoder-only transformer from the table's
columns and nothing else. It is kept here, not in ``econ``, until the kvcache/inference modules
settle on one; it is deliberately simple (no norms, no biases) so a reader can check it by hand.

Parameters, per model (all 11 rows have untied input embedding and output head:
``tie_word_embeddings`` is false in every config read, so both count)::

    embeddings  = 2 * n_vocab * hidden_dim                       # input embedding + output head

    MHA / GQA attention, per layer (q, k, v, o projections):
        h * n_heads * head_dim            # W_q
      + 2 * h * n_kv_heads * head_dim     # W_k, W_v  (GQA shares k/v across head groups)
      + n_heads * head_dim * h            # W_o

    MLA attention, per layer (DeepSeek-V2 paper, section 2.1; V3 config names):
        # W_DQ, W_UQ (W_Q = h*n_heads*(nope+rope) if no q_lora)
        h * q_lora + q_lora * n_heads * (nope + rope)
      + h * (kv_lora + rope)                           # W_DKV and the shared rotary key W_KR
      + kv_lora * n_heads * (nope + v)                 # W_UK, W_UV
      + n_heads * v * h                                # W_O

    SwiGLU FFN with intermediate size f: 3 * h * f (gate, up, down)
        dense layers:  n_dense_layers * 3 * h * dense_ffn_dim
        MoE layers:    (n_layers - n_dense_layers)
                       * ((n_routed + n_shared) * 3 * h * moe_ffn_dim + n_routed * h)   # + router

    active per token = embeddings + attention + dense FFN
                       + MoE layers * (n_active + n_shared) * 3 * h * moe_ffn_dim

Models where the closed form needs care (documented in the CSV notes too):

* DeepSeek V3/R1: the 671B excludes the multi-token-prediction module (11.5B unique, shipped in
  the 685B checkpoint); the stated active 37B (36.7B in README_WEIGHTS) includes embedding and
  output head, as the closed form does (it gives ~37.4B).
* Qwen2.5-72B: q/k/v biases (~10k parameters a layer) are left out; n_vocab is the padded
  embedding size the checkpoint stores.
* Mixtral 8x7B: every layer is MoE (n_dense_layers 0), no shared expert, dense_ffn_dim empty.
* DeepSeek-V3.2: MLA plus the sparse-attention indexer, whose projections are counted in the
  attention term (``index_*`` columns; empty, i.e. 0, for every other model).
* The published totals are rounded headline figures (8B, 70B, 405B, 67B, 47B ...), hence the 3%
  tolerance rather than an exact match.
"""
import math

import pandas as pd
import pytest

from econ import data as D

KEYS = {
    "deepseek-v3",
    "deepseek-r1",
    "deepseek-v2",
    "deepseek-67b",
    "llama-3.1-8b",
    "llama-2-70b",
    "llama-3.1-70b",
    "llama-3.1-405b",
    "qwen2.5-72b",
    "mixtral-8x7b",
    "deepseek-r1-distill-llama-8b",
    "deepseek-r1-distill-llama-70b",
    "qwen3-8b",
    "qwen3-14b",
    "qwen3-32b",
    "qwen3-30b-a3b",
    "qwen3-235b-a22b-2507",
    "gpt-oss-120b",
    "gpt-oss-20b",
    "kimi-k2",
    "deepseek-v3.1",
    "deepseek-v3.2",
    "glm-4.5-air",
    "llama-4-scout",
    "llama-4-maverick",
    "glm-4.6",
    "minimax-m2",
    "qwen3-coder-480b-a35b",
    "ministral-3-14b",
}
COLUMNS = [
    "name",
    "family",
    "attention_kind",
    "n_layers",
    "hidden_dim",
    "n_heads",
    "n_kv_heads",
    "head_dim",
    "q_lora_rank_dim",
    "kv_lora_rank_dim",
    "qk_nope_head_dim",
    "qk_rope_head_dim",
    "v_head_dim",
    "n_routed_experts",
    "n_shared_experts",
    "n_active_experts",
    "moe_ffn_dim",
    "dense_ffn_dim",
    "n_dense_layers",
    "n_vocab",
    "n_sliding_layers",
    "sliding_window_tok",
    "total_params",
    "active_params",
    "embedding_params",
    "output_head_params",
    "active_params_basis",
    "max_context_tok",
    "n_mtp_modules",
    "n_index_heads",
    "index_head_dim",
    "index_topk_tok",
    "index_key_cache_bytes_per_tok",
    "source_url",
    "source_date",
    "source_kind",
    "notes",
]
MLA_COLUMNS = ["kv_lora_rank_dim", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"]
ARCH_COLUMNS = [c for c in COLUMNS[2:29] if c not in ("total_params", "active_params",
                                                     "active_params_basis")]
REL_TOL = 0.03


@pytest.fixture(scope="module")
def models():
    return D.load("models")


def _nz(x):
    """A cell as a number, empty (NaN) as 0."""
    return 0.0 if pd.isna(x) else float(x)


def _attention_params(r):
    h = r.hidden_dim
    if r.attention_kind == "mla":
        qk = r.qk_nope_head_dim + r.qk_rope_head_dim
        q_lora = _nz(r.q_lora_rank_dim)
        w_q = h * q_lora + q_lora * r.n_heads * qk if q_lora else h * r.n_heads * qk
        w_dkv = h * (r.kv_lora_rank_dim + r.qk_rope_head_dim)
        w_ukv = r.kv_lora_rank_dim * r.n_heads * (r.qk_nope_head_dim + r.v_head_dim)
        w_o = r.n_heads * r.v_head_dim * h
        # DeepSeek Sparse Attention's indexer (V3.2 inference/model.py, class Indexer):
        # wq_b from the query latent, wk and weights_proj from the hidden state
        idx = (q_lora * _nz(r.n_index_heads) * _nz(r.index_head_dim)
               + h * _nz(r.index_head_dim) + h * _nz(r.n_index_heads))
        return w_q + w_dkv + w_ukv + w_o + idx
    q = r.n_heads * r.head_dim
    kv = r.n_kv_heads * r.head_dim
    return h * q + 2 * h * kv + q * h


def param_counts(r):
    """(total, active) parameters of one table row from its config columns (closed form above)."""
    h = r.hidden_dim
    embed = r.embedding_params + r.output_head_params
    assert r.embedding_params == r.n_vocab * h and r.output_head_params in (0, r.n_vocab * h)
    attn = r.n_layers * _attention_params(r)
    dense = r.n_dense_layers * 3 * h * _nz(r.dense_ffn_dim)
    n_moe = r.n_layers - r.n_dense_layers
    expert = 3 * h * _nz(r.moe_ffn_dim)
    moe_total = n_moe * (
        (r.n_routed_experts + r.n_shared_experts) * expert + r.n_routed_experts * h
    )
    moe_active = n_moe * (r.n_active_experts + r.n_shared_experts) * expert
    active = embed + attn + dense + moe_active
    if r.active_params_basis in ("without_input_embedding", "without_embeddings"):
        active -= r.embedding_params
    if r.active_params_basis == "without_embeddings":
        active -= r.output_head_params
    return embed + attn + dense + moe_total, active


def test_exact_keys_and_column_order(models):
    assert set(models.index) == KEYS
    assert [models.index.name] + list(models.columns) == COLUMNS


@pytest.mark.parametrize("name", sorted(KEYS))
def test_total_params_follow_from_config(models, name):
    r = models.loc[name]
    total, _ = param_counts(r)
    assert math.isclose(total, r.total_params, rel_tol=REL_TOL), (
        f"{name}: closed form {total / 1e9:.2f}B vs published {r.total_params / 1e9:.2f}B")


@pytest.mark.parametrize("name", sorted(KEYS))
def test_active_params_follow_from_config(models, name):
    r = models.loc[name]
    _, active = param_counts(r)
    assert math.isclose(active, r.active_params, rel_tol=REL_TOL), (
        f"{name}: closed form {active / 1e9:.2f}B vs published {r.active_params / 1e9:.2f}B")


def test_closed_form_by_hand_for_llama_8b(models):
    # Worked by hand from Meta's sku_list.py:
    # 128256*4096*2 + 32*(2*4096^2 + 2*4096*1024 + 3*4096*14336)
    total, _ = param_counts(models.loc["llama-3.1-8b"])
    assert total == 128256 * 4096 * 2 + 32 * (2 * 4096**2 + 2 * 4096 * 1024 + 3 * 4096 * 14336)
    assert total == 8_029_995_008   # RMSNorm weights (65 vectors of 4096) are not counted


def test_mla_rows_have_mla_columns_and_no_kv_heads(models):
    mla = models[models.attention_kind == "mla"]
    assert set(mla.index) == {"deepseek-v3", "deepseek-r1", "deepseek-v2", "kimi-k2",
                              "deepseek-v3.1", "deepseek-v3.2"}
    assert mla[MLA_COLUMNS].notna().all().all()
    assert mla[["n_kv_heads", "head_dim"]].isna().all().all()
    # V2 paper / V3 report: d_c = 512 latent, d_h^R = 64 rotary key, 128 heads of 128
    assert (mla.kv_lora_rank_dim == 512).all() and (mla.qk_rope_head_dim == 64).all()


def test_mha_gqa_rows_have_head_columns(models):
    rows = models[models.attention_kind.isin(["mha", "gqa"])]
    assert rows[["n_kv_heads", "head_dim"]].notna().all().all()
    assert rows[MLA_COLUMNS + ["q_lora_rank_dim"]].isna().all().all()
    mha = rows[rows.attention_kind == "mha"]
    assert (mha.n_kv_heads == mha.n_heads).all()
    gqa = rows[rows.attention_kind == "gqa"]
    assert (gqa.n_kv_heads < gqa.n_heads).all()
    assert ((gqa.n_heads % gqa.n_kv_heads) == 0).all()
    # true for the older models; Qwen3-32B and gpt-oss set head_dim explicitly (q wider than h)
    old = rows.drop(["qwen3-32b", "qwen3-30b-a3b", "qwen3-235b-a22b-2507", "gpt-oss-120b",
                     "gpt-oss-20b", "glm-4.5-air", "glm-4.6", "minimax-m2",
                     "qwen3-coder-480b-a35b", "ministral-3-14b"])
    assert (old.head_dim * old.n_heads == old.hidden_dim).all()


def test_dense_and_moe_columns_are_consistent(models):
    dense = models[models.n_routed_experts == 0]
    assert (dense.n_active_experts == 0).all() and (dense.n_shared_experts == 0).all()
    assert dense.moe_ffn_dim.isna().all()
    assert (dense.n_dense_layers == dense.n_layers).all()
    assert (dense.active_params == dense.total_params).all()
    moe = models[models.n_routed_experts > 0]
    assert moe.moe_ffn_dim.notna().all()
    assert (moe.n_active_experts < moe.n_routed_experts).all()
    assert (moe.n_dense_layers < moe.n_layers).all()
    assert (moe.active_params < moe.total_params).all()
    mixtral = models.loc["mixtral-8x7b"]
    assert mixtral.n_dense_layers == 0 and pd.isna(mixtral.dense_ffn_dim)
    assert (mixtral.n_routed_experts, mixtral.n_active_experts, mixtral.n_shared_experts) == (
        8,
        2,
        0,
    )


def test_deepseek_v3_headline_numbers(models):
    v3 = models.loc["deepseek-v3"]
    assert v3.total_params == 671e9
    assert math.isclose(v3.active_params, 37e9, rel_tol=0.01)
    total, active = param_counts(v3)
    assert math.isclose(active, 37e9, rel_tol=REL_TOL)          # "37B activated for each token"
    assert active / total < 0.06                                # ~5.5% of weights touched per token
    assert v3.n_mtp_modules == 1 and models.loc["deepseek-r1"].n_mtp_modules == 1
    assert (v3.n_routed_experts, v3.n_shared_experts, v3.n_active_experts) == (256, 1, 8)
    assert v3.n_dense_layers == 3


def test_r1_and_distills_share_their_base_architecture(models):
    arch = models[ARCH_COLUMNS]
    pd.testing.assert_series_equal(
        arch.loc["deepseek-r1"], arch.loc["deepseek-v3"], check_names=False
    )
    pd.testing.assert_series_equal(
        arch.loc["deepseek-r1-distill-llama-8b"], arch.loc["llama-3.1-8b"], check_names=False
    )
    # R1-Distill-Llama-70B is built on Llama-3.3-70B-Instruct, whose dims equal Llama 3.1 70B
    pd.testing.assert_series_equal(
        arch.loc["deepseek-r1-distill-llama-70b"], arch.loc["llama-3.1-70b"], check_names=False
    )
    assert "Llama-3.3-70B-Instruct" in models.loc["deepseek-r1-distill-llama-70b", "notes"]


def test_every_row_says_where_it_came_from(models):
    assert (models.source_url.str.len() > 0).all()
    assert set(models.source_kind) <= {"primary", "secondary"}
    assert models.notes.str.len().min() > 100
