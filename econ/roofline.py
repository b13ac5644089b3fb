"""Roofline: compute and bandwidth ceilings, fitted from measurements, and their error.

A kernel that does ``F`` FLOPs and must move ``B`` bytes through memory cannot
finish faster than the larger of ``F / peak`` and ``B / bandwidth``: it is
compute-bound when its arithmetic intensity ``F / B`` is above the ridge
``peak / bandwidth``, memory-bound below it [1]_. The cost model's throughput
comes from these two ceilings, so this module measures them on real hardware:
:func:`fit_roofline` finds the ceilings that best explain a table of timings
(from :mod:`econ.kernels`, or recorded GPU tables in ``data/``),
:func:`prediction_error` says how well the roofline then predicts each kernel,
and :func:`efficiency_frac` turns a measured ceiling into the efficiency factor
(measured over datasheet) the cost model can use in place of an assumption.

References
----------
.. [1] S. Williams, A. Waterman and D. Patterson, "Roofline: An Insightful Visual
   Performance Model for Multicore Architectures", Communications of the ACM
   52(4), 65-76, 2009. doi:10.1145/1498765.1498785
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _checks

__all__ = [
    "arithmetic_intensity",
    "attainable_flop_per_s",
    "ridge_intensity",
    "roofline_time_s",
    "efficiency_frac",
    "measured_efficiency",
    "RooflineFit",
    "fit_roofline",
    "prediction_error",
    "prediction_error_summary",
    "ridge_batch_count",
    "ceiling_efficiency",
]

_MODELS = ["max", "sum"]
_NEEDED = ("work_flop", "bytes_moved_bytes", "median_s")


def arithmetic_intensity(work_flop, bytes_moved_bytes):
    """FLOPs done per byte moved through memory.

    Parameters
    ----------
    work_flop : numeric
        Floating-point operations of the kernel. [FLOP]
    bytes_moved_bytes : numeric
        Bytes the kernel must move through memory (each input read once, each
        output written once). [bytes]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``work_flop / bytes_moved_bytes``. [FLOP/byte]

    References
    ----------
    .. [1] Williams, Waterman and Patterson (2009), "Roofline", CACM 52(4), section 2.
    """
    f = _checks.numeric("work_flop", work_flop, min_value=0.0)
    b = _checks.positive("bytes_moved_bytes", bytes_moved_bytes)
    return _checks.like(f / b, work_flop, bytes_moved_bytes)


def attainable_flop_per_s(intensity_flop_per_byte, peak_flop_per_s, bandwidth_bytes_per_s):
    """The roofline: attainable FLOP/s = min(peak, intensity × bandwidth).

    Parameters
    ----------
    intensity_flop_per_byte : numeric
        Arithmetic intensity of the kernel (:func:`arithmetic_intensity`). [FLOP/byte]
    peak_flop_per_s : numeric
        Compute ceiling. [FLOP/s]
    bandwidth_bytes_per_s : numeric
        Memory-bandwidth ceiling. [bytes/s]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Attainable rate, broadcast over the inputs. [FLOP/s]

    References
    ----------
    .. [1] Williams, Waterman and Patterson (2009), "Roofline", CACM 52(4), eq. (1):
       attainable GFLOP/s = min(peak floating-point performance,
       peak memory bandwidth × operational intensity).
    """
    i = _checks.numeric("intensity_flop_per_byte", intensity_flop_per_byte, min_value=0.0)
    p = _checks.positive("peak_flop_per_s", peak_flop_per_s)
    w = _checks.positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s)
    return _checks.like(np.minimum(p, i * w), intensity_flop_per_byte, peak_flop_per_s,
                        bandwidth_bytes_per_s)


def ridge_intensity(peak_flop_per_s, bandwidth_bytes_per_s):
    """Intensity where the two ceilings meet: kernels above it are compute-bound.

    Parameters
    ----------
    peak_flop_per_s : numeric
        Compute ceiling. [FLOP/s]
    bandwidth_bytes_per_s : numeric
        Memory-bandwidth ceiling. [bytes/s]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``peak / bandwidth``. [FLOP/byte]
    """
    p = _checks.positive("peak_flop_per_s", peak_flop_per_s)
    w = _checks.positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s)
    return _checks.like(p / w, peak_flop_per_s, bandwidth_bytes_per_s)


def _time(f, b, p, w, model):
    if model == "max":
        return np.maximum(f / p, b / w)
    return f / p + b / w


def roofline_time_s(work_flop, bytes_moved_bytes, peak_flop_per_s, bandwidth_bytes_per_s,
                    model="max"):
    """Shortest time the roofline allows for a kernel.

    Parameters
    ----------
    work_flop : numeric
        Operations of the kernel. [FLOP]
    bytes_moved_bytes : numeric
        Bytes it must move. [bytes]
    peak_flop_per_s : numeric
        Compute ceiling. [FLOP/s]
    bandwidth_bytes_per_s : numeric
        Memory-bandwidth ceiling. [bytes/s]
    model : {"max", "sum"}
        ``"max"``: ``max(F / peak, B / bandwidth)``, the roofline proper (compute and
        memory traffic fully overlapped) [1]_. ``"sum"``: ``F / peak + B / bandwidth``,
        no overlap: an upper bound, smooth across the ridge, where it is up to 2×
        the ``"max"`` time.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Predicted time. [s]

    References
    ----------
    .. [1] Williams, Waterman and Patterson (2009), "Roofline", CACM 52(4).
    """
    f = _checks.numeric("work_flop", work_flop, min_value=0.0)
    b = _checks.numeric("bytes_moved_bytes", bytes_moved_bytes, min_value=0.0)
    p = _checks.positive("peak_flop_per_s", peak_flop_per_s)
    w = _checks.positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s)
    _checks.choice("model", model, _MODELS)
    return _checks.like(_time(f, b, p, w, model), work_flop, bytes_moved_bytes,
                        peak_flop_per_s, bandwidth_bytes_per_s)


def efficiency_frac(achieved_flop_per_s, datasheet_flop_per_s):
    """Measured efficiency: achieved (or fitted) ceiling over the datasheet figure.

    This is the factor the cost model multiplies a datasheet peak by, so that
    "$/Mtok at datasheet efficiency" and "$/Mtok at measured efficiency" can be
    set side by side. It works for bandwidths too (bytes/s over bytes/s).

    Parameters
    ----------
    achieved_flop_per_s : numeric
        Measured rate, e.g. :attr:`RooflineFit.peak_flop_per_s` for a precision or
        the best ``achieved_flop_per_s`` of a GEMM table. [FLOP/s]
    datasheet_flop_per_s : numeric
        The vendor's dense peak for the same precision (``data/hardware.csv``). [FLOP/s]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        ``achieved / datasheet``; not clipped: a value above 1 says the datasheet
        figure is not this machine's ceiling (wrong precision or clock). [-]
    """
    a = _checks.nonnegative("achieved_flop_per_s", achieved_flop_per_s)
    d = _checks.positive("datasheet_flop_per_s", datasheet_flop_per_s)
    return _checks.like(a / d, achieved_flop_per_s, datasheet_flop_per_s)


# ----------------------------------------------------------------------------------------
# fitting the ceilings to measurements
# ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RooflineFit:
    """Ceilings fitted to a timing table by :func:`fit_roofline`.

    Attributes
    ----------
    peak_flop_per_s : dict
        Compute ceiling per group (per precision by default). [FLOP/s]
    bandwidth_bytes_per_s : float
        Effective memory bandwidth, one for all groups. [bytes/s]
    model : str
        ``"max"`` or ``"sum"`` (see :func:`roofline_time_s`).
    group_by : str
        Column whose values select the compute ceiling (``"dtype"``).
    n_points : int
        Measurements the fit used.
    median_abs_error_ratio : float
        Median of |predicted / measured − 1| over those measurements. [-]
    time_column : str
        The measured time the fit used (``"median_s"`` or ``"min_s"``).
    """

    peak_flop_per_s: dict = field(default_factory=dict)
    bandwidth_bytes_per_s: float = float("nan")
    model: str = "max"
    group_by: str = "dtype"
    n_points: int = 0
    median_abs_error_ratio: float = float("nan")
    time_column: str = "median_s"

    def ridge_intensity(self):
        """Ridge point per group: peak over bandwidth. [FLOP/byte]"""
        return {g: p / self.bandwidth_bytes_per_s for g, p in self.peak_flop_per_s.items()}

    def ceilings(self):
        """The fitted ceilings as a table, one row per group."""
        groups = list(self.peak_flop_per_s)
        return pd.DataFrame({
            self.group_by: groups,
            "peak_flop_per_s": [self.peak_flop_per_s[g] for g in groups],
            "bandwidth_bytes_per_s": self.bandwidth_bytes_per_s,
            "ridge_flop_per_byte": [self.peak_flop_per_s[g] / self.bandwidth_bytes_per_s
                                    for g in groups],
        })

    def predict_time_s(self, table):
        """Roofline time of each row of a timing table under these ceilings. [s]"""
        f, b, _, groups = _columns(table, self.group_by, time_column=None)
        p = _peaks_for(groups, self.peak_flop_per_s, self.group_by)
        return pd.Series(_time(f, b, p, self.bandwidth_bytes_per_s, self.model),
                         index=table.index, name="predicted_s")


def _columns(table, group_by, time_column="median_s"):
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"table must be a pandas DataFrame of timings (econ.kernels), "
                         f"got {type(table).__name__}")
    need = ["work_flop", "bytes_moved_bytes"] + ([time_column] if time_column else []) + [group_by]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ValueError(f"table is missing column(s) {missing}; a timing table from "
                         f"econ.kernels has {list(_NEEDED) + ['min_s', group_by]}")
    if table.empty:
        raise ValueError("table has no rows")
    f = _checks.numeric("work_flop", table["work_flop"], min_value=0.0)
    b = _checks.numeric("bytes_moved_bytes", table["bytes_moved_bytes"], min_value=0.0)
    if np.any((f == 0) & (b == 0)):
        raise ValueError("bytes_moved_bytes and work_flop are both 0 in some row: "
                         "such a kernel has no roofline time")
    t = _checks.positive(time_column, table[time_column]) if time_column else None
    return f, b, t, table[group_by].astype(str).to_numpy()


def _peaks_for(groups, peaks, group_by):
    unknown = sorted(set(groups) - set(peaks))
    if unknown:
        raise KeyError(f"no fitted peak for {group_by} {unknown}; the fit has {sorted(peaks)}")
    return np.array([peaks[g] for g in groups], dtype=float)


def fit_roofline(table, *, model="sum", group_by="dtype", time_column="median_s",
                 loss="median"):
    """Fit the machine's ceilings (peak FLOP/s per precision, bandwidth) to measured times.

    The ceilings minimise a robust measure of the log error
    e = |log(predicted / measured)| of the roofline time (:func:`roofline_time_s`)
    over all rows. With ``loss="median"`` (the default) it is the median of e
    (least median of squares [2]_, plus 5% of the mean of e to make the optimum
    unique): up to half of the kernels may be slowed by what the roofline does not
    model (a Python loop, a library's packing pass for thin matrices, a noisy
    neighbour) without dragging the ceilings away from what the other half
    shows. ``loss="mean"`` minimises the mean of e (least absolute deviations),
    which lets every kernel pull. Coordinate descent on a log grid, starting from
    the best achieved rates, refined to about 0.1%.

    Parameters
    ----------
    table : pandas.DataFrame
        Timings with columns ``work_flop`` [FLOP], ``bytes_moved_bytes`` [bytes],
        ``median_s`` [s] and ``group_by`` (from :mod:`econ.kernels` or a recorded table).
        Memory-bound rows (low intensity: GEMV, copy) pin the bandwidth,
        compute-bound ones (large GEMM) each precision's peak.
    model : {"sum", "max"}
        Roofline form (see :func:`roofline_time_s`). The default is the additive
        form: measured kernels overlap compute and memory traffic imperfectly (a
        BLAS packs its operands, then computes; a small kernel pays both), so near
        the ridge the classic ``"max"`` form predicts too little time, and a
        ``"max"`` fit lowers both ceilings to compensate. Fitted with ``"sum"``, the
        ceilings come out at the best rates measured on their own (the largest
        GEMM, a large copy) on the CPU here and on the H100/H200 tables of
        ``data/gpu_timings.csv``, with a smaller median error; they are then the
        asymptotes the cost model's ``max`` form needs.
    group_by : str
        Column naming which compute ceiling a row is under (precisions differ:
        float64 runs at half float32's rate on a CPU, BF16 and FP8 differ on a GPU).
        The bandwidth is shared.
    time_column : {"median_s", "min_s"}
        Measured time to fit. The median is the default; on a machine shared with
        other work the fastest sample (``"min_s"``) is closer to the kernel's own
        speed, since interference only ever adds time.
    loss : {"median", "mean"}
        Robust (least median) or least absolute log error, see above.

    Returns
    -------
    RooflineFit

    References
    ----------
    .. [1] Williams, Waterman and Patterson (2009), "Roofline", CACM 52(4).
    .. [2] P. J. Rousseeuw, "Least Median of Squares Regression", Journal of the
       American Statistical Association 79(388), 871-880, 1984.
    """
    _checks.choice("model", model, _MODELS)
    _checks.choice("time_column", time_column, ["median_s", "min_s"])
    _checks.choice("loss", loss, ["median", "mean"])
    if not isinstance(group_by, str):
        raise ValueError(f"group_by must be a column name, got {group_by!r}")
    f, b, t, groups = _columns(table, group_by, time_column)
    names = sorted(set(groups))
    gidx = np.array([names.index(g) for g in groups])
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = f / t
        bw_rate = b / t
    bw = float(np.max(bw_rate)) if np.any(b > 0) else 1.0
    overall = float(np.max(rate)) if np.any(f > 0) else 1.0
    peaks = np.array([float(np.max(rate[gidx == j])) if np.any(f[gidx == j] > 0) else overall
                      for j in range(len(names))])
    peaks[peaks <= 0] = overall
    log_t = np.log(t)

    def objective(p_rows, w):  # p_rows (..., N), w (..., 1) -> (...)
        e = np.abs(np.log(_time(f, b, p_rows, w, model)) - log_t)
        if loss == "mean":
            return np.mean(e, axis=-1)
        return np.median(e, axis=-1) + 0.05 * np.mean(e, axis=-1)

    for span in (1.0, 0.5, 0.25, 0.1, 0.04, 0.015, 0.006, 0.002, 0.0008):
        grid = 10.0 ** np.linspace(-span, span, 41)
        for j in range(len(names)):
            cand = peaks[j] * grid
            p_rows = np.broadcast_to(peaks[gidx], (grid.size, f.size)).copy()
            p_rows[:, gidx == j] = cand[:, None]
            peaks[j] = cand[int(np.argmin(objective(p_rows, bw)))]
        cand = bw * grid
        bw = float(cand[int(np.argmin(objective(peaks[gidx][None, :], cand[:, None])))])
    pred = _time(f, b, peaks[gidx], bw, model)
    mae = float(np.median(np.abs(pred / t - 1.0)))
    return RooflineFit(peak_flop_per_s={g: float(peaks[j]) for j, g in enumerate(names)},
                       bandwidth_bytes_per_s=bw, model=model, group_by=group_by,
                       n_points=int(f.size), median_abs_error_ratio=mae,
                       time_column=time_column)


def measured_efficiency(fit, datasheet_flop_per_s, datasheet_bytes_per_s, group="bfloat16"):
    """Fitted ceilings over datasheet ones: the two efficiency factors of the cost model.

    Parameters
    ----------
    fit : RooflineFit
        Ceilings fitted to measurements of one machine.
    datasheet_flop_per_s : numeric
        The vendor's dense peak for the precision ``group`` (``data/hardware.csv``,
        e.g. ``peak_bf16_flop_per_s``). [FLOP/s]
    datasheet_bytes_per_s : numeric
        The vendor's memory bandwidth (``memory_bytes_per_s``). [bytes/s]
    group : str
        Which fitted peak to use (a precision, for the default ``group_by="dtype"``).

    Returns
    -------
    dict
        ``flop_efficiency_frac`` and ``bandwidth_efficiency_frac``, named as the
        throughput functions of :mod:`econ.inference` take them, so a notebook can
        pass them on with ``**``. [-]
    """
    if not isinstance(fit, RooflineFit):
        raise ValueError(f"fit must be a RooflineFit from fit_roofline, got {type(fit).__name__}")
    if group not in fit.peak_flop_per_s:
        raise KeyError(f"no fitted peak for {fit.group_by} {group!r}; the fit has "
                       f"{sorted(fit.peak_flop_per_s)}")
    _checks.positive("datasheet_flop_per_s", datasheet_flop_per_s)
    _checks.positive("datasheet_bytes_per_s", datasheet_bytes_per_s)
    return {"flop_efficiency_frac": efficiency_frac(fit.peak_flop_per_s[group],
                                                    datasheet_flop_per_s),
            "bandwidth_efficiency_frac": efficiency_frac(fit.bandwidth_bytes_per_s,
                                                         datasheet_bytes_per_s)}


def prediction_error(table, fit):
    """Roofline prediction against measurement, per row.

    Parameters
    ----------
    table : pandas.DataFrame
        Timings (columns as for :func:`fit_roofline`).
    fit : RooflineFit
        Ceilings from :func:`fit_roofline` (on this table or another); the measured
        time compared is the column the fit used (``fit.time_column``).

    Returns
    -------
    pandas.DataFrame
        The table with ``predicted_s`` [s], ``bound`` (``"compute"`` or
        ``"memory"``: the larger term), ``error_ratio`` = predicted / measured − 1
        (negative: the kernel ran slower than the roofline allows) and
        ``abs_error_ratio``. [-]
    """
    if not isinstance(fit, RooflineFit):
        raise ValueError(f"fit must be a RooflineFit from fit_roofline, got {type(fit).__name__}")
    f, b, t, groups = _columns(table, fit.group_by, fit.time_column)
    p = _peaks_for(groups, fit.peak_flop_per_s, fit.group_by)
    pred = _time(f, b, p, fit.bandwidth_bytes_per_s, fit.model)
    out = table.copy()
    out["predicted_s"] = pred
    out["bound"] = np.where(f / p >= b / fit.bandwidth_bytes_per_s, "compute", "memory")
    out["error_ratio"] = pred / t - 1.0
    out["abs_error_ratio"] = np.abs(out["error_ratio"])
    return out


def prediction_error_summary(table, fit, by=("kernel", "variant")):
    """Median absolute prediction error per kernel, and over all rows.

    Parameters
    ----------
    table : pandas.DataFrame
        Timings (columns as for :func:`fit_roofline`, plus the ``by`` columns).
    fit : RooflineFit
    by : sequence of str
        Columns that name a kernel.

    Returns
    -------
    pandas.DataFrame
        One row per kernel plus a last row ``"all"``: ``n_rows`` [-],
        ``median_abs_error_ratio`` [-], ``max_abs_error_ratio`` [-].
    """
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in by if c not in table.columns]
    if missing:
        raise ValueError(f"by names column(s) {missing} that table does not have")
    err = prediction_error(table, fit)
    g = err.groupby(by, sort=False)["abs_error_ratio"]
    out = pd.DataFrame({"n_rows": g.size(), "median_abs_error_ratio": g.median(),
                        "max_abs_error_ratio": g.max()}).reset_index()
    total = {c: "all" for c in by}
    total.update({"n_rows": len(err),
                  "median_abs_error_ratio": float(err["abs_error_ratio"].median()),
                  "max_abs_error_ratio": float(err["abs_error_ratio"].max())})
    return pd.concat([out, pd.DataFrame([total])], ignore_index=True)


def ridge_batch_count(errors):
    """Fewest rows at which a product with fixed weights turns compute-bound, as fitted.

    Parameters
    ----------
    errors : pandas.DataFrame
        :func:`prediction_error` of a table holding ``kernel == "batch_sweep"`` rows (a fixed
        weight matrix times ``m_dim`` rows), with its ``bound`` column.

    Returns
    -------
    float
        The smallest ``m_dim`` the fitted roofline calls compute-bound; the largest timed
        ``m_dim`` when none is (the ridge lies beyond the sweep). [count]
    """
    if "bound" not in errors.columns:
        raise ValueError("errors must come from econ.prediction_error (no 'bound' column)")
    sweep = errors[errors["kernel"] == "batch_sweep"]
    if sweep.empty:
        raise ValueError("errors has no batch_sweep rows: no ridge to find")
    compute = sweep.loc[sweep["bound"] == "compute", "m_dim"]
    return float(compute.min()) if len(compute) else float(sweep["m_dim"].max())


#: Published kernels whose rate is set beside a measured ceiling: key of ``data/published.csv``,
#: the kernel's name, and the datasheet column it is a share of.
_PUBLISHED_KERNELS = {
    "fp8": ("deepgemm-fp8-flop-per-s", "DeepGEMM (H800)", "peak_fp8_flop_per_s"),
    "bandwidth": ("flashmla-decode-memory-bound-bytes-per-s", "FlashMLA decode (H800)",
                  "memory_bytes_per_s"),
}


def ceiling_efficiency(timings, datasheet, published=None, published_hardware=None):
    """Best recorded GEMM rate per precision and best copy, as shares of the datasheet.

    Parameters
    ----------
    timings : pandas.DataFrame
        A recorded GPU table of one machine (``econ.recorded_gpu_timings``): ``gemm`` rows
        through ``backend == "torch"`` in ``bfloat16`` and ``float8_e4m3fn``, and ``copy``
        rows, with ``achieved_flop_per_s`` / ``achieved_bytes_per_s``.
    datasheet : pandas.Series
        The same GPU's row of ``data/hardware.csv`` (``peak_bf16_flop_per_s``,
        ``peak_fp8_flop_per_s``, ``memory_bytes_per_s``).
    published : pandas.DataFrame, optional
        ``data/published.csv``: DeepSeek's DeepGEMM and FlashMLA rates are set beside the FP8
        and bandwidth ceilings, as shares of ``published_hardware``'s datasheet.
    published_hardware : pandas.Series, optional
        The datasheet those kernels ran on (the H800's row); needed with ``published``.

    Returns
    -------
    pandas.DataFrame
        Index ``bf16``, ``fp8``, ``bandwidth``; ``ceiling``, ``unit``, ``measured``,
        ``datasheet`` [FLOP/s or bytes/s], ``measured_frac`` (measured over datasheet) [-],
        ``published_kernel``, ``published_frac`` (its rate over its datasheet; NaN where none)
        [-] and ``published_source_url``.
    """
    gemm = timings[(timings["kernel"] == "gemm") & (timings["backend"] == "torch")]
    best = gemm.groupby("dtype")["achieved_flop_per_s"].max()
    copies = timings.loc[timings["kernel"] == "copy", "achieved_bytes_per_s"]
    missing = [d for d in ("bfloat16", "float8_e4m3fn") if d not in best.index]
    if missing or copies.empty:
        raise ValueError(f"ceiling_efficiency: the table lacks {missing or ''}"
                         f"{' copy rows' if copies.empty else ''}")
    out = pd.DataFrame({
        "ceiling": ["BF16 dense GEMM", "FP8 dense GEMM", "HBM bandwidth"],
        "unit": ["FLOP/s", "FLOP/s", "bytes/s"],
        "measured": [best["bfloat16"], best["float8_e4m3fn"], float(copies.max())],
        "datasheet": [float(datasheet["peak_bf16_flop_per_s"]),
                      float(datasheet["peak_fp8_flop_per_s"]),
                      float(datasheet["memory_bytes_per_s"])],
    }, index=pd.Index(["bf16", "fp8", "bandwidth"], name="key"))
    out["measured_frac"] = efficiency_frac(out["measured"], out["datasheet"])
    out["published_kernel"] = ""
    out["published_frac"] = np.nan
    out["published_source_url"] = ""
    if published is not None:
        if published_hardware is None:
            raise ValueError("ceiling_efficiency: give published_hardware (the datasheet the "
                             "published kernels ran on) with published")
        for key, (row, kernel, column) in _PUBLISHED_KERNELS.items():
            out.loc[key, "published_kernel"] = kernel
            out.loc[key, "published_frac"] = (float(published.loc[row, "value"])
                                              / float(published_hardware[column]))
            # the most specific source of a row citing several (the kernel's own README)
            out.loc[key, "published_source_url"] = str(
                published.loc[row, "source_url"]).split(" ; ")[-1]
    return out
