"""Every notebook runs under its defaults and under a second parameter set
(tests/notebook_params/<notebook>.yaml); the results move where they should, and the rows the
reports rely on exist."""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import papermill
import pytest
import yaml

import econ
import econ.reports

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


#: Published figures reproduced from their published inputs: they hold under any scenario.
REPRODUCTIONS = [
    "training_cost_usd/deepseek-v3",
    "serving_cost_usd_per_day/deepseek-day6",
    "theoretical_revenue_usd_per_day/deepseek-day6",
    "cost_profit_margin_frac/deepseek-day6",
]

SCENARIOS = sorted(p for p in (NB_DIR / "scenarios").glob("*.yaml") if p.stem != "base")


def _answers(nb_path):
    import nbformat
    book = nbformat.read(nb_path, as_version=4)
    out = []
    for cell in book.cells:
        if cell.cell_type == "code" and "answer" in cell.metadata.get("tags", []):
            for o in cell.get("outputs", []):
                md = o.get("data", {}).get("text/markdown")
                if md is not None:
                    out.append((md, o["metadata"]["text/markdown"][econ.ANSWER_METADATA_KEY]))
    return out


def _run(path, out_dir, params, keep_answers=False):
    out_dir.mkdir(parents=True, exist_ok=True)
    results = out_dir / f"{path.stem}.csv"
    papermill.execute_notebook(
        str(path), str(out_dir / path.name), parameters={**params, "results_path": str(results)},
        kernel_name="python3", cwd=str(NB_DIR), progress_bar=False)
    frame = econ.read_results(results)
    return (frame, _answers(out_dir / path.name)) if keep_answers else frame


def _check_answers(name, frame, answers, params):
    assert answers, f"{name}: no rendered answer under {params}"
    for md, record in answers:
        problems = econ.check_answer(md, record, frame)
        assert not problems, f"{name} under {params}: {problems}"


@pytest.fixture(scope="module")
def default_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("default")
    # processes, not threads: papermill changes the working directory of its process
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        runs = list(pool.map(_run, NOTEBOOKS, [out] * len(NOTEBOOKS), [{}] * len(NOTEBOOKS),
                             [True] * len(NOTEBOOKS)))
    for p, (frame, answers) in zip(NOTEBOOKS, runs):
        _check_answers(p.stem, frame, answers, "the defaults")
    return {p.stem: frame for p, (frame, _) in zip(NOTEBOOKS, runs)}


def _value(frame, key):
    metric, subject = key.split("/", 1)
    hit = frame[(frame["metric"] == metric) & (frame["subject"] == subject)]
    assert len(hit) == 1, (
        f"no single result row {key}; rows: {sorted(frame['metric'] + '/' + frame['subject'])}"
    )
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
    alt, answers = _run(path, tmp_path, conf["params"], keep_answers=True)
    # every number and comparison word of the rendered answer is this run's
    _check_answers(spec.stem, alt, answers, conf["params"])
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


def test_reproductions_hold_at_another_gpu_hour_price(tmp_path):
    """DeepSeek's figures are reproduced from DeepSeek's own $2 whatever the run's price; the run's
    price is a separate ':scenario' row that moves with it."""
    runs = {p.stem: _run(p, tmp_path / p.stem, {"usd_per_gpu_hour": 4.0})
            for p in (NB_DIR / "token_pricing.ipynb", NB_DIR / "training_vs_inference.ipynb")}
    checked = 0
    for name, frame in runs.items():
        for key in REPRODUCTIONS:
            metric, subject = key.split("/", 1)
            hit = frame[(frame["metric"] == metric) & (frame["subject"] == subject)]
            if hit.empty:
                continue
            assert hit["verdict"].iloc[0].startswith("reproduced"), (
                name,
                key,
                hit["verdict"].iloc[0],
            )
            checked += 1
        day = frame[(frame["metric"] == "serving_cost_usd_per_day")]
        scen = float(day.loc[day["subject"] == "deepseek-day6:scenario", "value"].iloc[0])
        pub = float(day.loc[day["subject"] == "deepseek-day6", "value"].iloc[0])
        assert scen == pytest.approx(2.0 * pub, rel=1e-9), "the scenario row is the day at $4"
    assert checked >= 5


def _scenario_suite(scenario, out):
    """Every notebook, then the summary, under one scenario file; the rendered answers."""
    per, union = econ.suite_schema(sorted(NB_DIR.glob("*.ipynb")))
    sc = econ.load_scenario(scenario.stem, union, folder=scenario.parent)
    got = {}
    for path in NOTEBOOKS:
        got[path.stem] = _run(path, out, sc.for_schema(per[path.stem]), keep_answers=True)
    summary = NB_DIR / "summary.ipynb"
    out_sum = out / "summary"
    got["summary"] = _run(summary, out_sum, {"results_dir": str(out)}, keep_answers=True)
    return got


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_answers_match_the_run_under_every_scenario_file(scenario, tmp_path):
    """Each number of each rendered answer is the run's result at the shown rounding and each
    comparison word or ranking matches the computed order, under each shipped scenario file
    (base: the defaults, checked by default_results). Reproductions still hold."""
    import econ.reports  # noqa: F401
    got = _scenario_suite(scenario, tmp_path)
    for name, (frame, answers) in got.items():
        _check_answers(name, frame, answers, scenario.name)
        for key in REPRODUCTIONS:
            metric, subject = key.split("/", 1)
            hit = frame[(frame["metric"] == metric) & (frame["subject"] == subject)]
            if not hit.empty:
                assert hit["verdict"].iloc[0].startswith("reproduced"), (scenario.name, name, key)
