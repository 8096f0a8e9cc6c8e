//! Progress towards the target loss from the tokens each iteration keeps.
//!
//! Model: an iteration that drops a fraction `d` of its token-to-expert assignments makes
//! `1 - beta * d` iterations' worth of progress; the target is reached when the progress sums
//! to `target_iterations`, the iterations a run without drops needs. So
//! `iterations_to_target ~= target_iterations / (1 - beta * mean(d))`.
//!
//! Calibration (docs/models/moe.md): SwiftMoE/SYMI's Table 1 (GPT-Small, 32 experts, top-1, 16
//! GPUs) reports iterations to the target loss at three expert capacities: 44.90% of tokens kept
//! -> 618 iterations, 65.56% -> 527, 74.91% -> 478. A least-squares fit of
//! `N0 / (1 - beta * d)` gives `beta = 0.617` and `N0 = 409`, within 1.5% of all three points.
//! `beta = 1` (only tokens that reach an expert count) overstates the effect: dropped tokens
//! still train attention and the dense layers through the residual path.

use serde::{Deserialize, Serialize};

use simcore::InputError;

/// Convergence settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvergenceSpec {
    /// Iterations to the target loss with no dropped tokens (`N0`).
    #[serde(default = "default_target")]
    pub target_iterations: f64,
    /// Sensitivity of progress to the dropped fraction (`beta`).
    #[serde(default = "default_beta")]
    pub drop_sensitivity: f64,
}

fn default_target() -> f64 {
    409.0
}

fn default_beta() -> f64 {
    0.617
}

impl Default for ConvergenceSpec {
    fn default() -> Self {
        ConvergenceSpec { target_iterations: default_target(), drop_sensitivity: default_beta() }
    }
}

impl ConvergenceSpec {
    /// Checks ranges; errors name the field.
    pub fn validate(&self) -> Result<(), InputError> {
        if !(self.target_iterations >= 1.0 && self.target_iterations.is_finite()) {
            return Err(InputError::invalid(
                "convergence.target_iterations",
                format!("{} must be a number >= 1", self.target_iterations),
            ));
        }
        if !(0.0..=1.0).contains(&self.drop_sensitivity) {
            return Err(InputError::invalid(
                "convergence.drop_sensitivity",
                format!(
                    "{} must be in [0, 1] (0: drops do not matter, 1: only kept tokens count)",
                    self.drop_sensitivity
                ),
            ));
        }
        Ok(())
    }

    /// Progress made by an iteration that drops `dropped` of its assignments.
    pub fn progress(&self, dropped: f64) -> f64 {
        1.0 - self.drop_sensitivity * dropped.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_calibration_points() {
        let c = ConvergenceSpec::default();
        for (kept, iterations) in [(0.4490, 618.0), (0.6556, 527.0), (0.7491, 478.0)] {
            let predicted = c.target_iterations / c.progress(1.0 - kept);
            assert!(
                (predicted - iterations).abs() / iterations < 0.02,
                "{kept}: {predicted} vs {iterations}"
            );
        }
        assert!(ConvergenceSpec { drop_sensitivity: 1.5, ..c.clone() }.validate().is_err());
    }
}
