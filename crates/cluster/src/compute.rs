//! Kernel time on one GPU: a roofline with measured efficiency curves.
//!
//! `t = L + max(T_flops, T_bytes)` where `L` is the launch overhead and
//!
//! - `T_flops = F / (peak(dtype) * e(F))`, `e(F) = e_max * F / (F + F_half)`,
//!   `F_half = (t_fix - L) * e_max * peak`. Equivalently `T_flops = (t_fix - L) + F / (e_max *
//!   peak)`: the "fixed time plus constant rate" fit of measured GEMM sweeps (XLA's H100 table,
//!   Triton's A100 sweep), which is how GEMM efficiency really depends on size.
//! - `T_bytes = (m_fix - L) + B / (m_max * HBM bandwidth)`, the same form fitted to streaming
//!   kernels.
//!
//! A user may replace the FLOP curve with a table of (FLOPs, efficiency) points, interpolated
//! linearly in log10(FLOPs) and held constant outside the table.

use serde::{Deserialize, Serialize};
use simcore::SimTime;

use crate::catalog::{Dtype, GpuSpec, KernelFit};
use crate::error::ClusterError;

/// How matmul efficiency depends on kernel size.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, tag = "kind")]
pub enum EfficiencyCurve {
    /// The GPU's measured fit from the catalog.
    #[default]
    Measured,
    /// Piecewise-linear in log10(FLOPs) through `points` = [[flops, efficiency], ...].
    Table {
        /// (FLOPs, efficiency) points with increasing FLOPs.
        points: Vec<[f64; 2]>,
    },
}

impl EfficiencyCurve {
    /// Checks a table's points: FLOPs positive and increasing, efficiencies in (0, 1].
    pub fn validate(&self) -> Result<(), ClusterError> {
        if let EfficiencyCurve::Table { points } = self {
            if points.is_empty() {
                return Err(ClusterError::Invalid(
                    "efficiency table needs at least one point".into(),
                ));
            }
            for (i, p) in points.iter().enumerate() {
                if !(p[0] > 0.0 && p[1] > 0.0 && p[1] <= 1.0) {
                    return Err(ClusterError::Invalid(format!(
                        "efficiency table point {i} = [{}, {}]: FLOPs must be > 0 and efficiency in (0, 1]",
                        p[0], p[1]
                    )));
                }
                if i > 0 && p[0] <= points[i - 1][0] {
                    return Err(ClusterError::Invalid(format!(
                        "efficiency table point {i}: FLOPs must increase ({} after {})",
                        p[0],
                        points[i - 1][0]
                    )));
                }
            }
        }
        Ok(())
    }

    fn table_efficiency(points: &[[f64; 2]], flops: f64) -> f64 {
        let x = flops.log10();
        let first = points[0];
        let last = points[points.len() - 1];
        if x <= first[0].log10() {
            return first[1];
        }
        if x >= last[0].log10() {
            return last[1];
        }
        for w in points.windows(2) {
            let (x0, x1) = (w[0][0].log10(), w[1][0].log10());
            if x <= x1 {
                let f = (x - x0) / (x1 - x0);
                return w[0][1] + f * (w[1][1] - w[0][1]);
            }
        }
        last[1]
    }
}

/// Seconds for `work` units at `rate` per second with a fixed part, or 0 for no work.
fn fitted_seconds(work: f64, rate: f64, fit: KernelFit, launch: SimTime) -> f64 {
    if work <= 0.0 {
        return 0.0;
    }
    fit.fixed_time.saturating_sub(launch).as_secs_f64() + work / (fit.max_efficiency * rate)
}

/// Kernel times for one GPU model.
#[derive(Clone, Debug)]
pub struct ComputeModel {
    gpu: GpuSpec,
    launch_overhead: SimTime,
    curve: EfficiencyCurve,
}

impl ComputeModel {
    /// A model for `gpu` with launch overhead `launch_overhead` and FLOP curve `curve`.
    pub fn new(
        gpu: GpuSpec,
        launch_overhead: SimTime,
        curve: EfficiencyCurve,
    ) -> Result<Self, ClusterError> {
        curve.validate()?;
        Ok(ComputeModel { gpu, launch_overhead, curve })
    }

    /// The GPU modelled.
    pub fn gpu(&self) -> &GpuSpec {
        &self.gpu
    }

    /// The launch overhead added to every kernel.
    pub fn launch_overhead(&self) -> SimTime {
        self.launch_overhead
    }

    /// Matmul efficiency (fraction of dense peak) of a kernel of `flops` FLOPs.
    pub fn efficiency(&self, flops: f64, dtype: Dtype) -> Result<f64, ClusterError> {
        let peak = self.gpu.peak_flops(dtype)?;
        if flops <= 0.0 {
            return Ok(0.0);
        }
        Ok(match &self.curve {
            EfficiencyCurve::Measured => flops / (peak * self.flop_seconds(flops, peak)),
            EfficiencyCurve::Table { points } => EfficiencyCurve::table_efficiency(points, flops),
        })
    }

    fn flop_seconds(&self, flops: f64, peak: f64) -> f64 {
        match &self.curve {
            EfficiencyCurve::Measured => {
                fitted_seconds(flops, peak, self.gpu.matmul, self.launch_overhead)
            }
            EfficiencyCurve::Table { points } => {
                if flops <= 0.0 {
                    0.0
                } else {
                    flops / (peak * EfficiencyCurve::table_efficiency(points, flops))
                }
            }
        }
    }

    /// Time of a kernel doing `flops` FLOPs in `dtype` and moving `bytes` to and from HBM.
    pub fn kernel_time(
        &self,
        flops: f64,
        bytes: f64,
        dtype: Dtype,
    ) -> Result<SimTime, ClusterError> {
        if !(flops >= 0.0 && bytes >= 0.0 && flops.is_finite() && bytes.is_finite()) {
            return Err(ClusterError::Unsupported(format!(
                "kernel needs finite, non-negative FLOPs and bytes (got {flops} FLOPs, {bytes} bytes)"
            )));
        }
        let peak = self.gpu.peak_flops(dtype)?;
        let t_flops = self.flop_seconds(flops, peak);
        let t_bytes = fitted_seconds(
            bytes,
            self.gpu.memory_bandwidth.0,
            self.gpu.memory_access,
            self.launch_overhead,
        );
        Ok(self.launch_overhead + SimTime::from_secs_f64_ceil(t_flops.max(t_bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn model(gpu: &str) -> ComputeModel {
        let g = Catalog::builtin().gpu(gpu).unwrap().clone();
        ComputeModel::new(g, SimTime::from_micros(2), EfficiencyCurve::Measured).unwrap()
    }

    #[test]
    fn large_gemm_approaches_measured_rate() {
        // H100 4096^3 BF16: 1.37e11 FLOPs; XLA measured 175 us (783 TFLOP/s).
        let m = model("h100-sxm5-80gb");
        let f = 2.0 * 4096f64.powi(3);
        let t = m.kernel_time(f, 0.0, Dtype::Bf16).unwrap().as_secs_f64();
        assert!((t - 175e-6).abs() / 175e-6 < 0.05, "t = {t}");
        let e = m.efficiency(f, Dtype::Bf16).unwrap();
        assert!(e > 0.75 && e < 0.80, "{e}");
    }

    #[test]
    fn small_gemm_is_dominated_by_fixed_time() {
        // H100 1024^3: measured 9.1 us kernel time.
        let m = model("h100-sxm5-80gb");
        let t = m.kernel_time(2.0 * 1024f64.powi(3), 0.0, Dtype::Bf16).unwrap().as_secs_f64();
        assert!((t - 9.1e-6).abs() / 9.1e-6 < 0.1, "t = {t}");
    }

    #[test]
    fn memory_bound_kernels_use_hbm_bandwidth() {
        // A100 80GB vector add moving 1.6 GB: measured 1684 GB/s -> 0.95 ms.
        let m = model("a100-sxm4-80gb");
        let bytes = 1.6e9;
        let t = m.kernel_time(bytes / 12.0, bytes, Dtype::Fp32).unwrap().as_secs_f64();
        assert!((t - bytes / 1684e9).abs() / (bytes / 1684e9) < 0.05, "t = {t}");
    }

    #[test]
    fn empty_kernel_costs_launch_overhead_and_errors_are_clear() {
        let m = model("a100-sxm4-80gb");
        assert_eq!(m.kernel_time(0.0, 0.0, Dtype::Bf16).unwrap(), SimTime::from_micros(2));
        assert!(m.kernel_time(f64::NAN, 0.0, Dtype::Bf16).is_err());
        assert!(m.kernel_time(1.0, 0.0, Dtype::Fp8).unwrap_err().to_string().contains("no fp8"));
    }

    #[test]
    fn table_curve_interpolates_in_log_flops() {
        let g = Catalog::builtin().gpu("a100-sxm4-80gb").unwrap().clone();
        let curve = EfficiencyCurve::Table { points: vec![[1e8, 0.1], [1e10, 0.5]] };
        let m = ComputeModel::new(g.clone(), SimTime::ZERO, curve).unwrap();
        assert!((m.efficiency(1e9, Dtype::Bf16).unwrap() - 0.3).abs() < 1e-12);
        assert_eq!(m.efficiency(1e12, Dtype::Bf16).unwrap(), 0.5);
        let bad = EfficiencyCurve::Table { points: vec![[1e10, 0.5], [1e8, 0.1]] };
        assert!(ComputeModel::new(g, SimTime::ZERO, bad).is_err());
    }
}
