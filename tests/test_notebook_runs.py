"""Every notebook runs under its defaults and under a second parameter set
(tests/notebook_params/<notebook>.yaml); the results move where they should, and the rows the
reports rely on exist."""
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
from pathlib import Path

import numpy as np
import papermill
import pytest
import yaml

import econ

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = ROOT / "notebooks"
ALT_DIR = Path(__file__).resolve().parent / "notebook_params"
NOTEBOOKS = sorted(p for p in NB_DIR.glob("*.ipynb") if p.stem != "summary")
ALT = sorted(p for p in ALT_DIR.glob("*.yaml"))

#: Rows every run must produce (issue "The notebook suite", results table).
REQUIRED = [
    ("training_cost_usd", "deepseek-v3"),
    ("training_gpu_hours_estimated", "deepseek-v3"),
    ("training_gpu_hours_estimated", "llama-3.1-405b"),
    ("serving_cost_usd_per_day", "deepseek-day6"),
    ("theoretical_revenue_usd_per_day", "deepseek-day6"),
    ("cost_profit_margin_frac", "deepseek-day6"),
    ("active_param_frac", "deepseek-v3"),
    ("mtp_speedup", "deepseek-v3"),
    ("api_output_price_ratio", "o1-vs-deepseek-r1"),
    ("chips_to_hold_weights", "groq-lpu:mixtral-8x7b"),
    ("chips_to_hold_weights", "groq-lpu:llama-3.1-70b"),
    ("roofline_median_abs_error_frac", "cpu"),
    ("prefill_tok_per_s_per_node_predicted", "deepseek-v3:h800-day6"),
    ("decode_tok_per_s_per_node_predicted", "deepseek-v3:h800-day6"),
    ("max_generation_throughput_ratio_predicted", "deepseek-v2-vs-deepseek-67b"),
]

pytestmark = pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")


def _run(path, out_dir, params):
    out_dir.mkdir(parents=True, exist_ok=True)
    results = out_dir / f"{path.stem}.csv"
    papermill.execute_notebook(
        str(path), str(out_dir / path.name), parameters={**params, "results_path": str(results)},
        kernel_name="python3", cwd=str(NB_DIR), progress_bar=False)
    return econ.read_results(results)


@pytest.fixture(scope="module")
def default_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("default")
    # processes, not threads: papermill changes the working directory of its process
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        frames = list(pool.map(_run, NOTEBOOKS, [out] * len(NOTEBOOKS), [{}] * len(NOTEBOOKS)))
    return {p.stem: f for p, f in zip(NOTEBOOKS, frames)}


def _value(frame, key):
    metric, subject = key.split("/", 1)
    hit = frame[(frame["metric"] == metric) & (frame["subject"] == subject)]
    assert len(hit) == 1, f"no single result row {key}; rows: {sorted(frame['metric'] + '/' + frame['subject'])}"
    return float(hit["value"].iloc[0])


def test_required_rows_exist(default_results):
    import pandas as pd
    frame = pd.concat(default_results.values(), ignore_index=True)
    have = set(zip(frame["metric"], frame["subject"]))
    missing = [k for k in REQUIRED if k not in have]
    assert not missing, f"required result rows missing: {missing}"
    models = econ.data.keys("models")
    kv = set(frame.loc[frame["metric"] == "kv_cache_bytes_per_token", "subject"])
    assert set(models) <= kv, f"kv_cache_bytes_per_token missing for {sorted(set(models) - kv)}"
    assert np.isfinite(frame["value"].to_numpy(dtype=float)).all()


@pytest.mark.parametrize("spec", ALT, ids=[p.stem for p in ALT])
def test_second_parameter_set_moves_the_results(spec, default_results, tmp_path):
    conf = yaml.safe_load(spec.read_text())
    path = NB_DIR / f"{spec.stem}.ipynb"
    assert path.exists(), f"{spec.name} names no notebook"
    base = default_results[spec.stem]
    alt = _run(path, tmp_path, conf["params"])
    assert conf.get("changes"), f"{spec.name}: list the results that must change"
    for key in conf["changes"]:
        assert _value(alt, key) != pytest.approx(_value(base, key), rel=1e-9), (
            f"{spec.stem}: {key} did not change under {conf['params']}")
    for key in conf.get("unchanged", []):
        assert _value(alt, key) == pytest.approx(_value(base, key), rel=1e-9), (
            f"{spec.stem}: {key} changed under {conf['params']} but depends on none of them")


def test_every_notebook_has_a_second_parameter_set():
    missing = [p.stem for p in NOTEBOOKS if not (ALT_DIR / f"{p.stem}.yaml").exists()]
    assert not missing, f"add tests/notebook_params/<name>.yaml for {missing}"


@pytest.mark.reliability(category="deterministic: a fresh run reproduces the stored results")
def test_stored_results_are_up_to_date(default_results):
    """notebooks/results/ (read by the stored summary) matches what the code computes now.

    Live CPU timing rows (subject ``cpu...``) are measurements of the moment: left out.
    If this fails after a deliberate change, run `make notebooks`.
    """
    for name, fresh in default_results.items():
        path = NB_DIR / "results" / f"{name}.csv"
        assert path.exists(), f"{path} missing: run `make notebooks`"
        stored = econ.read_results(path)
        key = ["metric", "subject"]
        live = lambda f: f["subject"].str.startswith("cpu")  # noqa: E731
        a = fresh[~live(fresh)].set_index(key)["value"]
        b = stored[~live(stored)].set_index(key)["value"]
        assert sorted(a.index) == sorted(b.index), (
            f"{name}: result rows differ from notebooks/results; run `make notebooks`")
        diff = (a - b.reindex(a.index)).abs() > 1e-9 * a.abs().clip(lower=1e-300)
        assert not diff.any(), (
            f"{name}: stored results are stale for {list(a.index[diff])[:5]}; run `make notebooks`")
