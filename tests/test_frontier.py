"""econ.frontier: $/Mtok at a speed per user, the engine level priced with the notebooks defaults.
"""
import numpy as np

import econ


def test_cost_table_is_the_chain_with_the_notebooks_defaults():
    from econ import serving_cost_table
    t = serving_cost_table("llama-3.1-70b", "h100-sxm", "fp8", n_devices=8, tp=8,
                           concurrency=[1, 64], isl_tok=1000, osl_tok=1000, usd_per_gpu_hour=2.0)
    u = float(econ.data.load("assumptions").loc["utilization_frac", "value"])
    assert (t["utilization_frac"] == u).all()
    r = econ.predict_serving("llama-3.1-70b", "h100-sxm", "fp8", n_devices=8, tp=8,
                             isl_tok=1000, osl_tok=1000, concurrency=np.array([1.0, 64.0]))
    np.testing.assert_allclose(t["output_usd_per_mtok"],
                               2.0 / u / (r["output_tok_per_s_per_device"] * 3600) * 1e6)
    # the default price is the hardware row's rental price
    d = serving_cost_table("llama-3.1-70b", "h100-sxm", "fp8", n_devices=8, tp=8,
                           concurrency=1, isl_tok=1000, osl_tok=1000)
    assert d["usd_per_gpu_hour"].iloc[0] == econ.data.row("hardware", "h100-sxm")[
        "rental_usd_per_hour"]
