"""A notebook's parameters are checked wherever it runs: unknown injected names, same-as
defaults, setups that do not fit; scenario files that set nothing are refused."""
import pytest

import econ
from econ.params import ScenarioError, Schema, load_scenario

CELL = '''
usd_per_gpu_hour: float = 2.0           # (0, inf) price of one GPU-hour
o1_usd_per_gpu_hour: Optional[float] = None  # (0, inf) OpenAI's price; None: same as usd_per_gpu_hour
results_path: str = ""                  # where result rows go
'''  # noqa: E501 (a parameters cell as the notebooks write it: one line per parameter)


@pytest.fixture
def nb_path(tmp_path):
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cell = nbformat.v4.new_code_cell(CELL)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    path = tmp_path / "demo.ipynb"
    nbformat.write(nb, path)
    return path


def _ns(**kw):
    return {"usd_per_gpu_hour": 2.0, "o1_usd_per_gpu_hour": None, "results_path": "", **kw}


def test_same_as_follows_the_value_it_names_unless_set(nb_path):
    s = Schema.from_notebook(nb_path)
    assert s["o1_usd_per_gpu_hour"].same_as == "usd_per_gpu_hour"
    assert (
        econ.notebook_parameters(_ns(usd_per_gpu_hour=4.0), nb_path)["o1_usd_per_gpu_hour"] == 4.0
    )
    assert econ.notebook_parameters(_ns(usd_per_gpu_hour=4.0, o1_usd_per_gpu_hour=3.0),
                                    nb_path)["o1_usd_per_gpu_hour"] == 3.0


def test_an_injected_unknown_name_is_refused_with_the_nearest_name(nb_path):
    injected = "# Parameters\nprice_usd_per_gpu_hour = 1.5\nusd_per_gpu_hour = 3.0\n"
    assert econ.injected_parameter_names({"In": ["", "x = 1", injected]}) == [
        "price_usd_per_gpu_hour", "usd_per_gpu_hour"]
    with pytest.raises(ScenarioError, match=r"unknown parameter\(s\) 'price_usd_per_gpu_hour' "
                                            r"\(did you mean 'usd_per_gpu_hour'\?\)"):
        econ.notebook_parameters(_ns(In=["", injected]), nb_path)
    ok = "# Parameters\nusd_per_gpu_hour = 3.0\n"
    assert econ.notebook_parameters(_ns(In=["", ok], usd_per_gpu_hour=3.0),
                                    nb_path)["usd_per_gpu_hour"] == 3.0


def test_bad_values_are_refused(nb_path):
    with pytest.raises(ScenarioError, match="usd_per_gpu_hour"):
        econ.notebook_parameters(_ns(usd_per_gpu_hour=-1.0), nb_path)


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "{}\n"])
def test_a_scenario_file_that_sets_nothing_is_refused(tmp_path, nb_path, text):
    (tmp_path / "empty.yaml").write_text(text)
    with pytest.raises(ScenarioError, match="sets no parameter"):
        load_scenario("empty", Schema.from_notebook(nb_path), folder=tmp_path)


def test_setups_that_cannot_hold_the_model_or_the_batch_are_named():
    base = dict(model="deepseek-v3", node_hardware="h200-sxm", precision="fp8", n_nodes=1,
                batch_per_node=512, context_tok=4989.0, o1_model="llama-3.1-405b",
                o1_hardware="h200-sxm", o1_precision="fp8")
    assert econ.setup_problems("token_pricing", base) == []
    small = econ.setup_problems("token_pricing", {**base, "node_hardware": "h100-sxm"})
    assert len(small) == 1 and "needs 9 x h100-sxm" in small[0] and "n_nodes" in small[0]
    big = econ.setup_problems("token_pricing", {**base, "batch_per_node": 5000,
                                                "context_tok": 16000.0})
    assert len(big) == 1 and "batch_per_node 5000 does not fit" in big[0]
    assert econ.setup_problems("kernel_timings", {}) == []


def test_check_refuses_a_scenario_whose_setup_does_not_fit(tmp_path, capsys):
    from econ import reports
    (tmp_path / "tiny.yaml").write_text("node_hardware: h100-sxm  # 8 x 80 GB: too small for V3\n")
    code = reports.main(["tiny", "--check", "--scenarios-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "scenario 'tiny', token_pricing.ipynb" in err and "n_nodes" in err
