"""econ.frontier: the devices the interactivity frontier cannot price are named with the reason,
skipped, and an empty frontier keeps its columns."""
import pytest

import econ


def test_each_device_left_out_names_what_it_lacks():
    ex = econ.frontier_exclusions("llama-3.1-70b", "fp8",
                                  ["h100-sxm", "mi300x", "b200", "tpu-v7", "groq-lpu"])
    assert list(ex.index) == ["b200", "tpu-v7", "groq-lpu"]
    assert ex["b200"] == "no purchase_usd in data/hardware.csv"
    assert ex["tpu-v7"] == "no purchase_usd, tdp_w in data/hardware.csv"
    assert "peak_fp8_flop_per_s" in ex["groq-lpu"]
    # a model too big for half of one node's memory
    big = econ.frontier_exclusions("deepseek-v3", "fp8", ["h100-sxm"])
    assert "does not fit on one node" in big["h100-sxm"]
    with pytest.raises(ValueError, match="precision"):
        econ.frontier_exclusions("llama-3.1-70b", "fp3", ["h100-sxm"])


def test_the_frontier_skips_them_and_an_empty_one_keeps_its_columns():
    ex = econ.frontier_exclusions("llama-3.1-70b", "fp8", ["h100-sxm", "b200"])
    setups = econ.frontier_setups("llama-3.1-70b", "fp8", ["h100-sxm", "b200"], exclude=ex.index)
    assert set(setups["hardware"]) == {"h100-sxm"}
    none = econ.frontier_setups("llama-3.1-70b", "fp8", ["b200"], exclude=["b200"])
    assert none.empty and list(none.columns) == ["hardware", "n_devices", "tp",
                                                 "usd_per_gpu_hour"]
    f = econ.interactivity_frontier("llama-3.1-70b", "fp8", none, [1, 2], isl_tok=1000.0,
                                    osl_tok=1000.0)
    assert f.empty and "output_usd_per_mtok" in f.columns
    assert econ.cost_at_speed(f, 50.0).empty
