"""econ.engine: one resolver of model inputs into a spec, the fitted calibration and its
overrides, and the forward step's response to bandwidth and batch."""
import numpy as np
import pytest

import econ
from econ import engine as E


def test_a_name_a_row_a_mapping_and_a_spec_resolve_to_one_spec():
    by_name = E.model_spec("deepseek-v3")
    row = econ.data.load("models").loc["deepseek-v3"]
    assert E.model_spec(row) == by_name
    assert E.model_spec(by_name) is by_name
    with pytest.raises(KeyError, match="llama"):
        E.model_spec("no-such-model")


def test_calibration_reads_the_table_and_takes_overrides_by_name():
    cal = E.calibration()
    table = econ.data.load("calibration")
    for name in E.Calibration.fields():
        if name in table.index:
            assert getattr(cal, name) == pytest.approx(float(table.loc[name, "value"]))
    assert E.calibration(kernel_fixed_s=0.0).kernel_fixed_s == 0.0
    with pytest.raises(ValueError, match="unknown calibration constant"):
        E.calibration(no_such_constant=1.0)


def test_forward_step_is_faster_with_more_bandwidth_and_slower_with_more_sequences():
    spec = E.model_spec("llama-3.1-70b")
    kw = dict(peak_mm=1.9789e15, peak_attn=9.894e14, weight_bytes_per_param=1.0,
              kv_bytes_per_elem=2.0, context_tok=2000.0, cal=E.calibration())
    n = np.array([1.0, 8.0, 64.0])
    slow = E.forward_step(spec, bw=3.35e12, n_sequences=n, **kw)["step_s"]
    fast = E.forward_step(spec, bw=2 * 3.35e12, n_sequences=n, **kw)["step_s"]
    assert (fast < slow).all() and (np.diff(slow) > 0).all()
