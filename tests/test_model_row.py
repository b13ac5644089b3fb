"""econ.data.model_row: the one resolver of a model given by name or by its config.json."""
import shutil
from pathlib import Path

import pandas as pd
import pytest

import econ
from econ import data as D

FIXTURES = Path(__file__).parent / "fixtures" / "hf_configs"
QWEN = FIXTURES / "qwen3-8b.json"


def test_a_name_resolves_to_the_table_row():
    pd.testing.assert_series_equal(D.model_row("deepseek-v3"), D.row("models", "deepseek-v3"))


@pytest.mark.parametrize("given", [str(QWEN), QWEN], ids=["str", "Path"])
def test_a_config_path_resolves_through_model_from_hf_config(given):
    got = D.model_row(given)
    assert got.name == "qwen3-8b" and got.source_kind == "derived"
    pd.testing.assert_series_equal(got, econ.model_from_hf_config(QWEN, name="qwen3-8b"))


def test_a_config_json_file_or_its_folder_is_named_after_the_folder(tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    shutil.copy(QWEN, folder / "config.json")
    assert D.model_row(folder / "config.json").name == "my-model"
    assert D.model_row(folder).name == "my-model"


def test_rows_and_tables_pass_through_unchanged():
    row = D.row("models", "llama-3.1-8b")
    assert D.model_row(row) is row
    table = D.load("models")
    assert D.model_row(table) is table


def test_every_model_taking_function_accepts_a_config_path():
    path = str(FIXTURES / "deepseek-v3.json")
    row = D.row("models", "deepseek-v3")
    # KV cache: the same architecture gives the same bytes, exactly
    assert econ.model_kv_cache_bytes_per_token(path, "fp8") == \
        econ.model_kv_cache_bytes_per_token("deepseek-v3", "fp8") == 61 * 576
    # engine: the computed 671.03B / 37.55B stand in for the published 671B / 37B
    spec = econ.model_spec(path)
    assert spec.name == "deepseek-v3" and spec.total_params == pytest.approx(671e9, rel=0.002)
    assert spec.active_params == pytest.approx(row.active_params, rel=0.02)
    a = econ.decode_step(path, "h800-sxm", "fp8", 32, 4096, n_devices=8)
    b = econ.decode_step("deepseek-v3", "h800-sxm", "fp8", 32, 4096, n_devices=8)
    assert float(a["step_s"]) == pytest.approx(float(b["step_s"]), rel=0.03)
    # training: 6 N D with the config's active parameters
    assert econ.model_training_flop(path, 14.8e12) == pytest.approx(
        6 * spec.active_params * 14.8e12)


def test_unknown_name_lists_what_is_allowed():
    with pytest.raises(KeyError, match=r"unknown model 'gpt-5'; valid names in data/models\.csv: "
                                       r"\[.*'deepseek-v3'.*\]; or pass the path of a Hugging "
                                       r"Face config\.json"):
        D.model_row("gpt-5")
    with pytest.raises(KeyError, match="config.json"):
        econ.model_spec("gpt-5")


@pytest.mark.parametrize("missing", ["no/such/config.json", Path("no/such/folder")])
def test_missing_config_file_is_a_clear_error(missing):
    with pytest.raises(ValueError, match=r"no such config file\. A model is a name in "
                                         r"data/models\.csv \(valid: \[.*'qwen3-8b'.*\]\) or "
                                         r"the path of an existing Hugging Face config\.json"):
        D.model_row(missing)
    with pytest.raises(ValueError, match="no such config file"):
        econ.model_kv_cache_bytes_per_token(missing)


def test_a_config_the_closed_forms_do_not_model_names_the_field(tmp_path):
    bad = tmp_path / "gemma.json"
    bad.write_text('{"model_type": "gemma3", "hidden_size": 8}')
    with pytest.raises(ValueError, match=r"gemma\.json: model_type 'gemma3' is not modelled; "
                                         r"allowed: \["):
        econ.model_spec(bad)
