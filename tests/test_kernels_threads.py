"""econ.blas_thread_limit: the BLAS thread count inside the block, restored after it."""
import pytest

import econ
from econ import kernels as K


def _threads():
    return K.machine_info()["n_blas_threads"]


def test_limit_applies_inside_and_is_restored():
    before = _threads()
    with econ.blas_thread_limit(1):
        assert _threads() == 1
        df = K.benchmark_gemm(sizes=(32,), dtype="float32", time_budget_s=0.02,
                              n_repeats_min=2, n_repeats_max=3)
        assert (df["n_blas_threads"] == 1).all()
    assert _threads() == before


def test_none_leaves_the_setting():
    before = _threads()
    with econ.blas_thread_limit(None):
        assert _threads() == before
    with econ.blas_thread_limit():
        assert _threads() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, "two"])
def test_bad_count_names_the_parameter(bad):
    with pytest.raises(ValueError, match="n_threads"):
        econ.blas_thread_limit(bad)
