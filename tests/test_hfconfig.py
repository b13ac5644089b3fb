"""econ.model_from_hf_config: a models row from a published Hugging Face config.json.

The fixtures in tests/fixtures/hf_configs/ are copies of published config.json files, stored as
read; SOURCES.csv there names each one's official address, the copy read and the date. Every
models-table row with a fixture is rebuilt from its config and must agree with the table: the
architecture columns exactly, the published total and active parameter counts within 2%, and the
KV-cache bytes per token exactly (closed form, DeepSeek-V2 paper Table 1).
"""
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import econ
from econ import data as D
from econ.hfconfig import HF_MODEL_TYPES, hf_config_param_counts, model_from_hf_config

FIXTURES = Path(__file__).parent / "fixtures" / "hf_configs"
SOURCES = pd.read_csv(FIXTURES / "SOURCES.csv")
REL_TOL = 0.02
ARCH = ["attention_kind", "n_layers", "hidden_dim", "n_heads", "n_kv_heads", "head_dim",
        "q_lora_rank_dim", "kv_lora_rank_dim", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim",
        "n_routed_experts", "n_shared_experts", "n_active_experts", "moe_ffn_dim", "dense_ffn_dim",
        "n_dense_layers", "n_vocab", "n_sliding_layers", "sliding_window_tok", "embedding_params",
        "output_head_params", "n_mtp_modules", "n_index_heads", "index_head_dim",
        "index_topk_tok", "index_key_cache_bytes_per_tok"]


@pytest.fixture(scope="module")
def models():
    return D.load("models")


def _same(a, b):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        # MLA rows leave n_kv_heads/head_dim empty; the config's num_key_value_heads is not a
        # cache dim
        return math.isnan(a) and math.isnan(b)
    return a == b


def test_sources_list_every_fixture_once():
    assert sorted(SOURCES.file) == sorted(p.name for p in FIXTURES.glob("*.json"))
    assert SOURCES.official_url.str.startswith("https://huggingface.co/").all()
    assert SOURCES.copy_read.str.len().min() > 20
    for f in SOURCES.file:
        json.loads((FIXTURES / f).read_text())      # stored as valid JSON


@pytest.mark.parametrize("fixture, key", list(zip(SOURCES.file, SOURCES.model_row)))
def test_row_rebuilt_from_its_config(models, fixture, key):
    row = models.loc[key]
    got = model_from_hf_config(FIXTURES / fixture, name=key)
    assert got.name == key
    for col in ARCH:
        want = row[col]
        if col in ("n_kv_heads", "head_dim") and row.attention_kind == "mla":
            continue
        assert _same(got[col], want), f"{key}.{col}: config gives {got[col]!r}, table has {want!r}"

    # published totals within 2%; the active figure on the basis the source uses
    assert math.isclose(got.total_params, row.total_params, rel_tol=REL_TOL), (
        f"{key}: {got.total_params / 1e9:.2f}B computed vs {row.total_params / 1e9:.2f}B published")
    active = got.active_params
    if row.active_params_basis in ("without_input_embedding", "without_embeddings"):
        active -= got.embedding_params
    if row.active_params_basis == "without_embeddings":
        active -= got.output_head_params
    assert math.isclose(active, row.active_params, rel_tol=REL_TOL), (
        f"{key}: {active / 1e9:.2f}B active computed vs {row.active_params / 1e9:.2f}B published")

    # KV bytes per token, BF16, closed form from the config's own fields
    cfg = json.loads((FIXTURES / fixture).read_text())
    cfg = cfg.get("text_config", cfg)          # a multimodal config's language model
    if "kv_lora_rank" in cfg:
        elems = cfg["kv_lora_rank"] + cfg["qk_rope_head_dim"]
    else:
        head_dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
        elems = 2 * cfg["num_key_value_heads"] * head_dim
    want_kv = cfg["num_hidden_layers"] * elems * 2
    if "index_head_dim" in cfg:     # DSA indexer keys, FP8 whatever the MLA cache precision
        want_kv += cfg["num_hidden_layers"] * got.index_key_cache_bytes_per_tok
    assert econ.model_kv_cache_bytes_per_token(got, "bf16") == want_kv
    assert econ.model_kv_cache_bytes_per_token(key, "bf16") == want_kv


def test_llama_8b_closed_form_by_hand():
    cfg = json.loads((FIXTURES / "qwen3-8b.json").read_text())
    cfg.update(model_type="llama", hidden_size=4096, num_hidden_layers=32, num_attention_heads=32,
               num_key_value_heads=8, intermediate_size=14336, vocab_size=128256)
    h, f, v, n = 4096, 14336, 128256, 32
    by_hand = 2 * v * h + n * (2 * h * h + 2 * h * 1024 + 3 * h * f) + h + 2 * h * n
    counts = hf_config_param_counts(cfg)
    assert counts["total_params"] == by_hand == counts["active_params"]
    assert counts["embedding_params"] == counts["output_head_params"] == v * h


def test_published_shapes_reproduced():
    # DeepSeek-V3 README_WEIGHTS: 671B main model, 36.7B active of which 0.9B embedding + 0.9B head
    v3 = model_from_hf_config(FIXTURES / "deepseek-v3.json")
    assert v3.total_params == pytest.approx(671e9, rel=0.001)
    assert v3.embedding_params == pytest.approx(0.9e9, rel=0.05)
    assert v3.n_mtp_modules == 1 and v3.n_dense_layers == 3
    # gpt-oss: 116.83B / 5.13B are the exact figures behind OpenAI's 117B / 5.1B
    oss = model_from_hf_config(FIXTURES / "gpt-oss-120b.json")
    assert oss.total_params == pytest.approx(116.83e9, rel=2e-4)
    assert oss.active_params - oss.embedding_params == pytest.approx(5.13e9, rel=2e-3)
    assert (oss.n_sliding_layers, oss.sliding_window_tok) == (18, 128)
    # Kimi K2: a third-party census of the checkpoint counts 1,026,470,731,056 parameters
    kimi = model_from_hf_config(FIXTURES / "kimi-k2-instruct.json")
    assert kimi.total_params == pytest.approx(1_026_470_731_056, rel=1e-3)
    assert kimi.family == "kimi_k2" and kimi.attention_kind == "mla"


def test_inputs_path_folder_mapping_agree(tmp_path):
    path = FIXTURES / "qwen3-32b.json"
    (tmp_path / "config.json").write_text(path.read_text())
    a = model_from_hf_config(path, name="x")
    b = model_from_hf_config(str(path), name="x")
    c = model_from_hf_config(tmp_path, name="x")
    d = model_from_hf_config(json.loads(path.read_text()), name="x")
    for other in (b, c, d):
        pd.testing.assert_series_equal(a, other)


def test_row_has_exactly_the_table_columns(models):
    got = model_from_hf_config(FIXTURES / "qwen3-8b.json")
    assert list(got.index) == list(models.columns)
    assert got.source_kind == "derived"


# --- one tiny config per model type: the closed form's pieces, worked by hand ------------------

H, F, V, L, NH, NKV, HD = 64, 96, 1000, 4, 8, 2, 8
BASE = dict(hidden_size=H, intermediate_size=F, vocab_size=V, num_hidden_layers=L,
            num_attention_heads=NH, num_key_value_heads=NKV, head_dim=HD, hidden_act="silu")
ATTN = H * NH * HD + 2 * H * NKV * HD + NH * HD * H
NORMS = H + 2 * H * L


def _total(cfg):
    return hf_config_param_counts(cfg)["total_params"]


def test_dense_types():
    llama = dict(BASE, model_type="llama")
    assert _total(llama) == 2 * V * H + L * (ATTN + 3 * H * F) + NORMS
    assert _total(dict(llama, model_type="mistral")) == _total(llama)
    # Qwen2: biases on q, k and v
    assert _total(dict(llama, model_type="qwen2")) - _total(llama) == L * (NH * HD + 2 * NKV * HD)
    # Qwen3: RMSNorm on q and k
    assert _total(dict(llama, model_type="qwen3")) - _total(llama) == L * 2 * HD
    # tied embeddings count the matrix once
    tied = hf_config_param_counts(dict(llama, tie_word_embeddings=True))
    assert tied["output_head_params"] == 0 and _total(llama) - tied["total_params"] == V * H
    # Mistral's sliding window applies to every layer; Qwen2's only with use_sliding_window
    r = model_from_hf_config(dict(llama, model_type="mistral", sliding_window=16))
    assert (r.n_sliding_layers, r.sliding_window_tok) == (L, 16)
    r = model_from_hf_config(dict(llama, model_type="qwen2", sliding_window=16))
    assert r.n_sliding_layers == 0
    r = model_from_hf_config(dict(llama, model_type="qwen2", sliding_window=16,
                                  use_sliding_window=True, max_window_layers=1))
    assert (r.n_sliding_layers, r.sliding_window_tok) == (L - 1, 16)


def test_moe_types():
    e, k = 6, 2
    mix = dict(BASE, model_type="mixtral", num_local_experts=e, num_experts_per_tok=k)
    c = hf_config_param_counts(mix)
    assert c["moe_params"] == L * (e * 3 * H * F + e * H)
    assert c["moe_active_params"] == L * (k * 3 * H * F + e * H)
    q = dict(BASE, model_type="qwen3_moe", num_experts=e, num_experts_per_tok=k,
             moe_intermediate_size=32, mlp_only_layers=[0])
    r = model_from_hf_config(q)
    assert (r.n_dense_layers, r.n_routed_experts, r.moe_ffn_dim, r.dense_ffn_dim) == (1, e, 32, F)
    assert hf_config_param_counts(q)["moe_params"] == (L - 1) * (e * 3 * H * 32 + e * H)


def test_deepseek_family_and_mla_kv():
    ds = dict(BASE, model_type="deepseek_v3", q_lora_rank=16, kv_lora_rank=12, qk_nope_head_dim=8,
              qk_rope_head_dim=4, v_head_dim=8, n_routed_experts=6, n_shared_experts=1,
              num_experts_per_tok=2, moe_intermediate_size=32, first_k_dense_replace=1,
              num_nextn_predict_layers=1, topk_method="noaux_tc")
    r = model_from_hf_config(ds)
    assert (r.attention_kind, r.n_dense_layers, r.n_mtp_modules) == ("mla", 1, 1)
    assert econ.model_kv_cache_bytes_per_token(r, 1) == L * (12 + 4)
    mla = H * 16 + 16 + 16 * NH * 12 + H * (12 + 4) + 12 + 12 * NH * 16 + NH * 8 * H
    moe = (L - 1) * ((6 + 1) * 3 * H * 32 + 6 * H + 6)
    assert _total(ds) == 2 * V * H + L * mla + 1 * 3 * H * F + moe + NORMS
    assert _total(dict(ds, model_type="kimi_k2")) == _total(ds)
    v2 = dict(ds, model_type="deepseek_v2", q_lora_rank=None, topk_method="greedy")
    assert np.isnan(model_from_hf_config(v2).q_lora_rank_dim)
    # moe_layer_freq 2: only every other layer past the dense ones is MoE
    assert model_from_hf_config(dict(ds, moe_layer_freq=2)).n_dense_layers == 3


def test_gpt_oss_and_glm4_moe():
    oss = dict(BASE, model_type="gpt_oss", num_local_experts=4, num_experts_per_tok=2,
               attention_bias=True, sliding_window=16,
               layer_types=["sliding_attention", "full_attention"] * (L // 2))
    r = model_from_hf_config(oss)
    assert (r.n_sliding_layers, r.sliding_window_tok, r.n_dense_layers) == (L // 2, 16, 0)
    ctx = np.array([8.0, 100.0])
    per_layer = 2 * NKV * HD * 2
    np.testing.assert_allclose(econ.model_kv_cache_bytes(r, ctx, 2),
                               per_layer * (L // 2 * ctx + L // 2 * np.minimum(ctx, 16)))
    glm = dict(BASE, model_type="glm4_moe", n_routed_experts=4, n_shared_experts=1,
               num_experts_per_tok=2, moe_intermediate_size=32, first_k_dense_replace=1,
               attention_bias=True, partial_rotary_factor=0.5, num_nextn_predict_layers=1)
    r = model_from_hf_config(glm)
    assert (r.n_dense_layers, r.n_shared_experts, r.n_mtp_modules) == (1, 1, 1)
    # partial rotary does not change the cache: keys keep head_dim
    assert econ.model_kv_cache_bytes_per_token(r, 2) == L * 2 * NKV * HD * 2
    # GLM: q/k/v biases (no o bias), q/k norms only with use_qk_norm
    assert _total(dict(glm, use_qk_norm=True)) - _total(glm) == L * 2 * HD


def test_llama4_reads_text_config_and_chunked_layers():
    text = dict(BASE, model_type="llama4_text", intermediate_size_mlp=2 * F, num_local_experts=4,
                num_experts_per_tok=1, interleave_moe_layer_step=2, attention_chunk_size=32,
                no_rope_layers=[1, 1, 1, 0])
    r = model_from_hf_config({"model_type": "llama4", "text_config": text, "vision_config": {}})
    assert (r.n_dense_layers, r.n_shared_experts, r.dense_ffn_dim) == (2, 1, 2 * F)
    assert (r.n_sliding_layers, r.sliding_window_tok) == (3, 32)
    c = hf_config_param_counts({"model_type": "llama4", "text_config": text})
    assert c["moe_params"] == 2 * (5 * 3 * H * F + 4 * H)
    assert c["moe_active_params"] == 2 * (2 * 3 * H * F + 4 * H)


def test_deepseek_v32_indexer_weights_and_key_cache():
    # DeepSeek-V3.2-Exp inference/model.py, class Indexer, worked by hand for the published
    # config: wq_b 1536 x (64*128), wk 7168 x 128, k_norm LayerNorm(128) weight + bias,
    # weights_proj 7168 x 64
    per_layer = 1536 * 64 * 128 + 7168 * 128 + 2 * 128 + 7168 * 64
    assert per_layer == 13_959_424
    v32 = hf_config_param_counts(FIXTURES / "deepseek-v3.2.json")
    v3 = hf_config_param_counts(FIXTURES / "deepseek-v3.json")
    assert v32["attention_params"] - v3["attention_params"] == 61 * per_layer
    assert v32["active_params"] - v3["active_params"] == 61 * per_layer   # every token uses it
    r = model_from_hf_config(FIXTURES / "deepseek-v3.2.json")
    assert (r.n_index_heads, r.index_head_dim, r.index_topk_tok) == (64, 128, 2048)
    # k_cache float8_e4m3fn [.., 128] (128 bytes) + k_scale_cache float32 [.., 128 // 128] (4)
    assert r.index_key_cache_bytes_per_tok == 132
    # the indexer keys keep their FP8 format whatever the MLA cache precision
    for prec, nbytes in (("bf16", 2), ("fp8", 1)):
        assert econ.model_kv_cache_bytes_per_token(r, prec) == 61 * (576 * nbytes + 132)
    ctx = np.array([10.0, 1000.0])
    np.testing.assert_allclose(econ.model_kv_cache_bytes(r, ctx, "fp8"), 61 * (576 + 132) * ctx)
    # the table's row agrees, and other models carry no indexer
    assert econ.model_kv_cache_bytes_per_token("deepseek-v3.2", 1) == 61 * (576 + 132)
    assert econ.model_kv_cache_bytes_per_token("deepseek-v3", 1) == 61 * 576
    table = econ.model_kv_cache_bytes_per_token(D.load("models"), 1)
    assert table["deepseek-v3.2"] - table["deepseek-v3"] == 61 * 132


@pytest.mark.parametrize("change, match", [
    (dict(q_lora_rank=None), r"'q_lora_rank' is missing or 0"),
    (dict(index_head_dim=96), r"index_head_dim 96 is not modelled"),
    (dict(index_topk=None), r"'index_topk' is missing"),
])
def test_deepseek_v32_errors_name_the_field(change, match):
    cfg = json.loads((FIXTURES / "deepseek-v3.2.json").read_text())
    cfg.update(change)
    with pytest.raises(ValueError, match=match):
        model_from_hf_config(cfg)


def test_llama4_empty_no_rope_layers_follow_the_interval():
    # transformers' Llama4TextConfig derives an empty no_rope_layers from no_rope_layer_interval
    text = dict(BASE, model_type="llama4_text", intermediate_size_mlp=2 * F, num_local_experts=4,
                num_experts_per_tok=1, attention_chunk_size=32, no_rope_layers=[],
                no_rope_layer_interval=2)
    r = model_from_hf_config({"model_type": "llama4", "text_config": text})
    assert (r.n_sliding_layers, r.sliding_window_tok) == (L // 2, 32)
    # without the interval an empty list is not guessed at
    del text["no_rope_layer_interval"]
    with pytest.raises(ValueError, match="'no_rope_layers' must list one flag per layer"):
        model_from_hf_config({"model_type": "llama4", "text_config": text})


def test_every_listed_type_is_exercised():
    assert set(HF_MODEL_TYPES) == {"llama", "mistral", "qwen2", "qwen3", "mixtral", "qwen3_moe",
                                   "deepseek_v2", "deepseek_v3", "deepseek_v32", "kimi_k2",
                                   "gpt_oss", "glm4_moe",
                                   "llama4", "llama4_text"}


# --- what it cannot model is an error naming the field ------------------------------------------

@pytest.mark.parametrize(
    "cfg, match",
    [
        (dict(BASE, model_type="gemma3"), r"model_type 'gemma3' is not modelled; allowed: \["),
        (dict(BASE), r"'model_type' is missing"),
        (
            {"model_type": "llama4", "text_config": dict(BASE, model_type="mllama")},
            r"text_config.model_type 'mllama'",
        ),
        (
            {k: v for k, v in dict(BASE, model_type="llama").items() if k != "num_hidden_layers"},
            r"'num_hidden_layers' is missing .*model_type 'llama' needs it",
        ),
        (
            dict(BASE, model_type="llama", num_hidden_layers=2.5),
            r"'num_hidden_layers' must be a whole",
        ),
        (
            dict(BASE, model_type="llama", num_hidden_layers=True),
            r"'num_hidden_layers' must be a whole",
        ),
        (dict(BASE, model_type="llama", hidden_act="gelu"), r"hidden_act 'gelu' is not modelled"),
        (
            dict(
                BASE,
                model_type="gpt_oss",
                num_local_experts=4,
                num_experts_per_tok=2,
                sliding_window=8,
                layer_types=["linear_attention"] * L,
            ),
            r"layer_types \['linear_attention'\] are not",
        ),
        (
            dict(
                BASE,
                model_type="gpt_oss",
                num_local_experts=4,
                num_experts_per_tok=2,
                layer_types=["full_attention"],
            ),
            r"'layer_types' must list one type per layer",
        ),
        (
            dict(BASE, model_type="llama", num_key_value_heads=3),
            r"not a multiple of num_key_value_heads",
        ),
        (
            {
                **{k: v for k, v in BASE.items() if k != "head_dim"},
                "model_type": "llama",
                "num_attention_heads": 7,
                "num_key_value_heads": 7,
            },
            r"'head_dim' is missing and hidden_size",
        ),
        (
            dict(BASE, model_type="llama", tie_word_embeddings="yes"),
            r"'tie_word_embeddings' must be true",
        ),
        (dict(BASE, model_type="deepseek_v3", kv_lora_rank=8), r"'qk_nope_head_dim' is missing"),
        (
            {
                "model_type": "llama4",
                "text_config": dict(
                    BASE,
                    intermediate_size_mlp=F,
                    num_local_experts=2,
                    num_experts_per_tok=1,
                    attention_chunk_size=8,
                ),
            },
            r"'no_rope_layers' is missing",
        ),
        (dict(BASE, model_type="llama", sliding_window=8, layer_types=None), None),
    ],
)
def test_errors_name_the_field(cfg, match):
    if match is None:      # llama with a sliding_window and no layer_types: not a silent guess
        with pytest.raises(ValueError, match=r"'sliding_window' \(8\) without layer_types"):
            model_from_hf_config(cfg)
        return
    with pytest.raises(ValueError, match=match):
        model_from_hf_config(cfg)


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="cannot read the config file"):
        model_from_hf_config(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        model_from_hf_config(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="must hold a JSON object"):
        model_from_hf_config(tmp_path / "list.json")
    with pytest.raises(ValueError, match="path_or_mapping must be"):
        model_from_hf_config(42)


def test_model_kv_cache_bytes_without_sliding_layers_is_per_token_times_context():
    ctx = pd.Series([1.0, 4096.0, 131072.0])
    got = econ.model_kv_cache_bytes("deepseek-v3", ctx, "fp8")
    assert isinstance(got, pd.Series)
    pd.testing.assert_series_equal(
        got, econ.model_kv_cache_bytes_per_token("deepseek-v3", "fp8") * ctx, check_names=False
    )
    assert econ.model_kv_cache_bytes("gpt-oss-120b", 100_000.0) < (
        econ.model_kv_cache_bytes_per_token("gpt-oss-120b") * 100_000.0 * 0.51)
    with pytest.raises(ValueError, match="not a whole table"):
        econ.model_kv_cache_bytes(D.load("models"), 10.0)
    bad = D.row("models", "gpt-oss-20b").copy()
    bad["sliding_window_tok"] = np.nan
    with pytest.raises(ValueError, match="'sliding_window_tok' is empty"):
        econ.model_kv_cache_bytes(bad, 10.0)
