"""Every table in data/ loads through econ.data; broken copies fail with a clear message."""
import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

import econ
from econ import data as D

TABLES = D.tables()


def test_there_are_tables():
    assert TABLES, "data/ holds no table with a sidecar"


@pytest.mark.parametrize("name", TABLES)
def test_table_loads_and_declares_units(name):
    df = D.load(name)
    meta = yaml.safe_load((D.DATA_DIR / f"{name}.yaml").read_text())
    assert len(df) > 0
    for col, spec in meta["columns"].items():
        unit = spec["unit"]
        if unit in ("text", "date", "per-row"):
            continue
        if spec.get("unit_not_in_name"):
            assert df[col].dtype == float
            continue
        assert D.unit_of(col) == unit, (
            f"{name}.{col}: suffix means {D.unit_of(col)!r}, sidecar says {unit!r}"
        )
        assert df[col].dtype == float
    assert df["source_url"].notna().all() and df["source_date"].notna().all()
    assert set(df["source_kind"]) <= set(D.SOURCE_KINDS)


def test_unknown_table_and_key_list_the_valid_ones():
    with pytest.raises(KeyError, match="valid tables"):
        D.load("no_such_table")
    with pytest.raises(KeyError, match="table name"):
        D.load("../etc/passwd")
    name = TABLES[0]
    with pytest.raises(KeyError, match=r"valid: \[") as exc:
        D.row(name, "not-a-key")
    assert D.keys(name)[0] in str(exc.value)


def test_load_returns_a_copy():
    name = TABLES[0]
    df = D.load(name)
    df["source_url"] = "changed"
    assert (D.load(name)["source_url"] != "changed").all()


@pytest.mark.reliability
def test_an_edited_file_is_read_again(tmp_path):
    name = TABLES[0]
    rows = _copy(tmp_path, name)
    assert len(D.load(name, tmp_path)) == len(rows) - 1
    _write(tmp_path, name, rows[:2])
    assert len(D.load(name, tmp_path)) == 1


def test_unit_of():
    assert D.unit_of("peak_bf16_flop_per_s") == "FLOP/s"
    assert D.unit_of("cost_usd_per_mtok") == "USD/Mtok"
    assert D.unit_of("n_layers") == "count"
    assert D.unit_of("utilization_frac") == "fraction"
    assert D.unit_of("price") is None


@pytest.fixture(autouse=True)
def _tally_corruption(request, reliability_log):
    """Each broken-copy test is one corrupted-data case: caught if the test passes."""
    yield
    if request.node.get_closest_marker("reliability") is not None:
        rep = getattr(request.node, "rep_call", None)
        reliability_log("corrupted data cases caught with a clear message",
                        rep is not None and rep.passed)


def _table_with(kind):
    """A real table that has a column of the given kind (numeric required, _usd ...)."""
    for name in TABLES:
        meta = yaml.safe_load((D.DATA_DIR / f"{name}.yaml").read_text())
        for col, spec in meta["columns"].items():
            unit = spec["unit"]
            numeric = unit not in ("text", "date", "per-row") and "unit_not_in_name" not in spec
            if kind == "required_numeric" and numeric and spec.get("required", True):
                return name, col
            if (
                kind == "usd"
                and numeric
                and col.endswith(("_usd", "_usd_per_hour", "_usd_per_mtok"))
            ):
                return name, col
    pytest.skip(f"no table has a {kind} column yet")


def _copy(tmp_path, name):
    for n in TABLES:
        shutil.copy(D.DATA_DIR / f"{n}.csv", tmp_path / f"{n}.csv")
        shutil.copy(D.DATA_DIR / f"{n}.yaml", tmp_path / f"{n}.yaml")
    text = (tmp_path / f"{name}.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    return rows


def _write(tmp_path, name, rows):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (tmp_path / f"{name}.csv").write_text(buf.getvalue(), encoding="utf-8")


def _first_nonempty_row(rows, col):
    j = rows[0].index(col)
    for i in range(1, len(rows)):
        if rows[i][j] != "":
            return i, j
    pytest.skip(f"column {col} has no values")


@pytest.mark.reliability
def test_missing_source_is_reported(tmp_path):
    name = TABLES[0]
    rows = _copy(tmp_path, name)
    j = rows[0].index("source_url")
    key = rows[1][0]
    rows[1][j] = ""
    _write(tmp_path, name, rows)
    with pytest.raises(D.DataError, match=rf"{name}.csv: row .*{key}.*'source_url'"):
        D.load(name, tmp_path)


@pytest.mark.reliability
def test_bad_source_kind_and_date_are_reported(tmp_path):
    name = TABLES[0]
    rows = _copy(tmp_path, name)
    rows[1][rows[0].index("source_kind")] = "blog"
    _write(tmp_path, name, rows)
    with pytest.raises(D.DataError, match=r"'source_kind' must be one of .*'blog'"):
        D.load(name, tmp_path)
    rows[1][rows[0].index("source_kind")] = "primary"
    rows[1][rows[0].index("source_date")] = "Feb 2025"
    _write(tmp_path, name, rows)
    with pytest.raises(D.DataError, match=r"'source_date' must be an ISO date .*'Feb 2025'"):
        D.load(name, tmp_path)


@pytest.mark.reliability
def test_nan_in_required_value_is_reported(tmp_path):
    name, col = _table_with("required_numeric")
    rows = _copy(tmp_path, name)
    j = rows[0].index(col)
    key = rows[1][0]
    rows[1][j] = ""
    _write(tmp_path, name, rows)
    with pytest.raises(D.DataError, match=rf"row .*{key}.*column '{col}' is empty"):
        D.load(name, tmp_path)
    rows[1][j] = "nan"
    _write(tmp_path, name, rows)
    with pytest.raises(D.DataError, match=rf"column '{col}' must be finite"):
        D.load(name, tmp_path)


@pytest.mark.reliability
def test_non_numeric_value_is_reported(tmp_path):
    name, col = _table_with("required_numeric")
    rows = _copy(tmp_path, name)
    rows[1][rows[0].index(col)] = "12 TB/s"
    _write(tmp_path, name, rows)
    with pytest.raises(D.DataError, match=rf"column '{col}' must be a number .*'12 TB/s'"):
        D.load(name, tmp_path)


@pytest.mark.reliability
def test_negative_price_is_reported(tmp_path):
    name, col = _table_with("usd")
    rows = _copy(tmp_path, name)
    i, j = _first_nonempty_row(rows, col)
    rows[i][j] = "-2.0"
    _write(tmp_path, name, rows)
    with pytest.raises(D.DataError, match=rf"column '{col}' must be >= 0.*'-2.0'"):
        D.load(name, tmp_path)


@pytest.mark.reliability
def test_a_count_that_is_not_whole_or_a_value_its_row_cannot_hold_is_reported(tmp_path):
    """``integer`` and ``only_if`` in a sidecar: a closed loop's request count is a whole
    number, and only a closed loop (``fixed_concurrency``) states one."""
    name = "serving_benchmarks"
    rows = _copy(tmp_path, name)
    i, j = _first_nonempty_row(rows, "requests_count")
    key = rows[i][0]
    rows[i][j] = "80.5"
    _write(tmp_path, name, rows)
    with pytest.raises(D.DataError, match=rf"row .*{key}.*'requests_count' must be a whole "
                                          r"number .*'80.5'"):
        D.load(name, tmp_path)
    rows[i][j] = "80"
    rows[i][rows[0].index("scenario")] = "burst"
    _write(tmp_path, name, rows)
    with pytest.raises(D.DataError, match=rf"row .*{key}.*'requests_count' must be empty "
                                          r"unless scenario is \['fixed_concurrency'\]"):
        D.load(name, tmp_path)


@pytest.mark.reliability
def test_duplicate_key_is_reported(tmp_path):
    name = TABLES[0]
    rows = _copy(tmp_path, name)
    rows.append(list(rows[1]))
    _write(tmp_path, name, rows)
    with pytest.raises(D.DataError, match=rf"duplicate key .*{rows[1][0]}"):
        D.load(name, tmp_path)


@pytest.mark.reliability
def test_bad_unit_suffix_is_reported(tmp_path):
    name, col = _table_with("required_numeric")
    _copy(tmp_path, name)
    side = tmp_path / f"{name}.yaml"
    meta = yaml.safe_load(side.read_text())
    # a column renamed without its unit suffix
    bare = col.rsplit("_", 1)[0] + "_speed"
    meta["columns"] = {(bare if c == col else c): s for c, s in meta["columns"].items()}
    side.write_text(yaml.safe_dump(meta, sort_keys=False))
    with pytest.raises(D.DataError, match=rf"column '{bare}' .*no unit suffix"):
        D.load(name, tmp_path)
    # a sidecar unit that disagrees with the suffix
    meta = yaml.safe_load((D.DATA_DIR / f"{name}.yaml").read_text())
    meta["columns"][col]["unit"] = "furlongs"
    side.write_text(yaml.safe_dump(meta, sort_keys=False))
    with pytest.raises(D.DataError, match=rf"column '{col}' declares unit 'furlongs'"):
        D.load(name, tmp_path)


@pytest.mark.reliability
def test_missing_and_undeclared_columns_are_reported(tmp_path):
    name = TABLES[0]
    rows = _copy(tmp_path, name)
    j = rows[0].index("notes") if "notes" in rows[0] else len(rows[0]) - 1
    col = rows[0][j]
    _write(tmp_path, name, [r[:j] + r[j + 1:] for r in rows])
    with pytest.raises(D.DataError, match=rf"missing column\(s\) \['{col}'\]"):
        D.load(name, tmp_path)
    _write(tmp_path, name, [r + (["extra"] if i else ["mystery_usd"]) for i, r in enumerate(rows)])
    with pytest.raises(D.DataError, match=r"\['mystery_usd'\] are not declared"):
        D.load(name, tmp_path)


@pytest.mark.reliability
def test_truncated_and_wrongly_encoded_files_are_reported(tmp_path):
    name = TABLES[0]
    _copy(tmp_path, name)
    path = tmp_path / f"{name}.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2].rsplit(",", 1)[0] + ',"unterminated', encoding="utf-8")
    with pytest.raises(D.DataError, match=rf"{name}.csv"):
        D.load(name, tmp_path)
    path.write_bytes(text.encode("utf-16"))
    with pytest.raises(D.DataError, match=rf"{name}.csv: not valid UTF-8"):
        D.load(name, tmp_path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(D.DataError, match=rf"{name}.csv"):
        D.load(name, tmp_path)


@pytest.mark.reliability
def test_malformed_sidecar_is_reported(tmp_path):
    name = TABLES[0]
    _copy(tmp_path, name)
    (tmp_path / f"{name}.yaml").write_text("columns: [unclosed\n")
    with pytest.raises(D.DataError, match=rf"{name}.yaml: cannot be read as YAML"):
        D.load(name, tmp_path)
    (tmp_path / f"{name}.yaml").write_text("description: x\nkey: name\ncolumns: {}\n")
    with pytest.raises(D.DataError, match=rf"{name}.yaml: missing field 'origin'"):
        D.load(name, tmp_path)


@pytest.mark.reliability
def test_fraction_out_of_range_is_reported(tmp_path):
    for name in TABLES:
        meta = yaml.safe_load((D.DATA_DIR / f"{name}.yaml").read_text())
        cols = [c for c, s in meta["columns"].items() if s["unit"] == "fraction"]
        if cols:
            rows = _copy(tmp_path, name)
            i, j = _first_nonempty_row(rows, cols[0])
            rows[i][j] = "1.7"
            _write(tmp_path, name, rows)
            with pytest.raises(D.DataError, match=rf"'{cols[0]}' must be <= 1.*'1.7'"):
                D.load(name, tmp_path)
            return
    # tables of figures: a row whose unit is 'fraction'
    for name in TABLES:
        df = D.load(name)
        if "unit" in df.columns and (df["unit"] == "fraction").any():
            rows = _copy(tmp_path, name)
            key = df.index[df["unit"] == "fraction"][0]
            i = [r[0] for r in rows].index(key)
            j = rows[0].index("value")
            rows[i][j] = "1.7"
            for c in ("low", "high"):
                if c in rows[0]:
                    rows[i][rows[0].index(c)] = ""
            _write(tmp_path, name, rows)
            with pytest.raises(D.DataError, match=rf"{key}.*'value' is a fraction .*1.7"):
                D.load(name, tmp_path)
            return
    pytest.skip("no fraction values yet")


def test_tables_are_frozen_no_network():
    # econ.data reads local files only: every table loads with sockets disabled.
    import socket
    real = socket.socket

    def refuse(*a, **k):
        raise OSError("network disabled in this test")
    socket.socket = refuse
    try:
        D._load_cached.cache_clear()
        for name in TABLES:
            assert len(D.load(name))
    finally:
        socket.socket = real


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
