"""econ.setups: setups that cannot hold the model or the batch are named, with what to change.
"""
import econ


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


def test_architecture_efficiency_needs_the_published_figures_it_reproduces():
    assert econ.setup_problems("architecture_efficiency", {"moe_model": "deepseek-v3"}) == []
    (msg,) = econ.setup_problems("architecture_efficiency", {"moe_model": "qwen3-30b-a3b"})
    assert "moe_model" in msg and "qwen3-30b-a3b-mtp-speedup" in msg and "deepseek-v3" in msg
