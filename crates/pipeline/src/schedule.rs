//! Pipeline schedules: the order in which each stage runs the forward (F), input-gradient (B)
//! and weight-gradient (W) passes of the iteration's micro-batches.
//!
//! A schedule is a fixed per-stage order, as in Megatron-LM and the zero-bubble implementation:
//! the executor runs it with the real op times. Every schedule here has the same three-phase
//! shape on stage `s` (0-based) of `p`, with `m` micro-batches:
//!
//! 1. **warm-up**: `warmup(s)` forwards (at most `m`);
//! 2. **steady**: for each remaining forward, F then B, then W's (oldest first) while more than
//!    `cap(s)` weight gradients are pending;
//! 3. **cool-down**: for each remaining B, B then W's while more than `cap(s)` are pending; then
//!    the pending W's.
//!
//! | Schedule | `warmup(s)` | `cap(s)` | Shape from |
//! |---|---|---|---|
//! | `gpipe` | `m` (all forwards first) | 0 | Huang et al. 2019 |
//! | `1f1b` | `p - s - 1` | 0 (W right after B) | Narayanan et al. 2021 (PipeDream-Flush) |
//! | `zb-h1` | `p - s - 1` | `s` | Qi et al. 2024, ZB-H1 |
//! | `zb-h2` | `2(p - s) - 2` | `2s` | Qi et al. 2024, ZB-H2 |
//!
//! At most `warmup(s) + 1` micro-batches have run F but not B and at most `cap(s)` have run B
//! but not W, which gives the ZB paper's peak activation memory (its Table 2).
//! With uniform times and free communication the resulting iterations have exactly the closed
//! forms (tested): 1F1B and GPipe `(m + p - 1)(T_F + T_B + T_W)`; ZB-H1 a bubble of
//! `(p - 1)(T_F + T_B - T_W)`; ZB-H2 with staggered optimizer steps `(p - 1)(T_F + T_B - 2T_W)`
//! per iteration when `m >= 2p - 1`; and the peak activation memory of the ZB paper's Table 2.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use simcore::InputError;

/// Which schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScheduleKind {
    /// All forwards, then all backwards.
    #[serde(rename = "gpipe")]
    Gpipe,
    /// One forward, one backward (PipeDream-Flush), W right after B.
    #[serde(rename = "1f1b")]
    OneFOneB,
    /// Zero-bubble H1: 1F1B's memory, W deferred into bubbles.
    #[serde(rename = "zb-h1")]
    ZbH1,
    /// Zero-bubble H2: more warm-up forwards, W deferred; no bubble with staggered steps.
    #[serde(rename = "zb-h2")]
    ZbH2,
}

impl ScheduleKind {
    /// Every schedule, for listings.
    pub const ALL: [ScheduleKind; 4] =
        [ScheduleKind::Gpipe, ScheduleKind::OneFOneB, ScheduleKind::ZbH1, ScheduleKind::ZbH2];

    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            ScheduleKind::Gpipe => "gpipe",
            ScheduleKind::OneFOneB => "1f1b",
            ScheduleKind::ZbH1 => "zb-h1",
            ScheduleKind::ZbH2 => "zb-h2",
        }
    }

    /// Whether B and W are one backward pass (GPipe, 1F1B): the input gradient leaves the
    /// stage only when the weight gradient is done too.
    pub fn fused_backward(self) -> bool {
        matches!(self, ScheduleKind::Gpipe | ScheduleKind::OneFOneB)
    }

    /// Whether this schedule is meant to run with staggered optimizer steps (ZB-H2 needs the
    /// ZB paper's post-validation to reach zero bubble).
    pub fn staggered_by_default(self) -> bool {
        self == ScheduleKind::ZbH2
    }
}

/// One of the three passes of a micro-batch on a stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pass {
    /// Forward.
    F,
    /// Backward for the input gradient (on the critical path).
    B,
    /// Backward for the weight gradient (deferrable).
    W,
}

/// A pass of one micro-batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Step {
    /// Which pass.
    pub pass: Pass,
    /// Which micro-batch (0-based).
    pub micro: u32,
}

/// A per-stage order of the passes of one iteration.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// Which schedule.
    pub kind: ScheduleKind,
    /// Stages p.
    pub stages: u32,
    /// Micro-batches m per iteration.
    pub micro_batches: u32,
    /// Per stage, its passes in order: every (pass, micro-batch) exactly once.
    pub order: Vec<Vec<Step>>,
}

impl Schedule {
    /// The schedule `kind` for `p` stages and `m` micro-batches.
    pub fn build(kind: ScheduleKind, p: u32, m: u32) -> Result<Schedule, InputError> {
        if p == 0 {
            return Err(InputError::invalid("stages", "must be at least 1"));
        }
        if m == 0 {
            return Err(InputError::invalid("micro_batches", "must be at least 1"));
        }
        let order = match kind {
            ScheduleKind::Gpipe => (0..p).map(|_| three_phase(m, m, 0)).collect(),
            ScheduleKind::OneFOneB => (0..p).map(|s| three_phase(m, p - s - 1, 0)).collect(),
            ScheduleKind::ZbH1 => (0..p).map(|s| three_phase(m, p - s - 1, s)).collect(),
            ScheduleKind::ZbH2 => (0..p).map(|s| three_phase(m, 2 * (p - s) - 2, 2 * s)).collect(),
        };
        Ok(Schedule { kind, stages: p, micro_batches: m, order })
    }

    /// Peak activation bytes on `stage` when F adds `m_b`, B swaps `m_b` for `m_w` and W frees
    /// `m_w` (per micro-batch).
    pub fn peak_activation(&self, stage: u32, m_b: f64, m_w: f64) -> f64 {
        let (mut now, mut peak) = (0.0f64, 0.0f64);
        for step in &self.order[stage as usize] {
            match step.pass {
                Pass::F => now += m_b,
                Pass::B => now += m_w - m_b,
                Pass::W => now -= m_w,
            }
            peak = peak.max(now);
        }
        peak
    }
}

/// One stage's order: `warmup` forwards, then F, B and W's beyond `cap` pending, then the
/// remaining B's with W's beyond `cap`, then the pending W's.
fn three_phase(m: u32, warmup: u32, cap: u32) -> Vec<Step> {
    let mut order = Vec::with_capacity(3 * m as usize);
    let mut pending = VecDeque::new();
    let (mut next_f, mut next_b) = (0u32, 0u32);
    let push = |order: &mut Vec<Step>, pass, micro| order.push(Step { pass, micro });
    while next_f < warmup.min(m) {
        push(&mut order, Pass::F, next_f);
        next_f += 1;
    }
    while next_b < m {
        if next_f < m {
            push(&mut order, Pass::F, next_f);
            next_f += 1;
        }
        push(&mut order, Pass::B, next_b);
        pending.push_back(next_b);
        next_b += 1;
        while pending.len() > cap as usize {
            if let Some(j) = pending.pop_front() {
                push(&mut order, Pass::W, j);
            }
        }
    }
    for j in pending {
        push(&mut order, Pass::W, j);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_f_one_b_has_the_textbook_shape() {
        let s = Schedule::build(ScheduleKind::OneFOneB, 4, 8).unwrap();
        let names = |st: u32| -> String {
            s.order[st as usize]
                .iter()
                .map(|x| format!("{:?}{}", x.pass, x.micro))
                .collect::<Vec<_>>()
                .join(" ")
        };
        // Stage 0: p = 4 warm-up forwards, then alternate, then drain.
        assert!(names(0).starts_with("F0 F1 F2 F3 B0 W0 F4 B1 W1 F5"), "{}", names(0));
        // The last stage alternates from the start.
        assert!(names(3).starts_with("F0 B0 W0 F1 B1 W1"), "{}", names(3));
    }

    proptest::proptest! {
        #[test]
        fn every_pass_appears_once_per_stage_in_a_valid_order(p in 1u32..12, m in 1u32..40, k in 0usize..4) {
            let kind = ScheduleKind::ALL[k];
            let s = Schedule::build(kind, p, m).unwrap();
            for (st, stage) in s.order.iter().enumerate() {
                proptest::prop_assert_eq!(stage.len(), 3 * m as usize);
                let pos = |pass, j| stage.iter().position(|x| *x == Step { pass, micro: j });
                for j in 0..m {
                    for pass in [Pass::F, Pass::B, Pass::W] {
                        let n = stage.iter().filter(|x| **x == Step { pass, micro: j }).count();
                        proptest::prop_assert_eq!(n, 1, "{:?} stage {} {:?}{}", kind, st, pass, j);
                    }
                    // F before B before W, and micro-batches in order within a pass.
                    proptest::prop_assert!(pos(Pass::F, j) < pos(Pass::B, j));
                    proptest::prop_assert!(pos(Pass::B, j) < pos(Pass::W, j));
                    if j > 0 {
                        proptest::prop_assert!(pos(Pass::B, j - 1) < pos(Pass::B, j));
                    }
                }
            }
        }
    }

    #[test]
    fn peak_activation_matches_the_zero_bubble_paper() {
        // Table 2 of the ZB paper, worker i (1-based): 1F1B (p - i + 1) M_B; ZB-H1
        // (p - i + 1) M_B + (i - 1) M_W; ZB-H2 (2p - 2i + 1) M_B + (2i - 2) M_W.
        let (mb, mw) = (10.0, 3.0);
        let (p, m) = (6u32, 24u32);
        for (kind, expected) in [
            (
                ScheduleKind::OneFOneB,
                Box::new(|i: f64, p: f64| (p - i + 1.0) * mb) as Box<dyn Fn(f64, f64) -> f64>,
            ),
            (ScheduleKind::ZbH1, Box::new(|i: f64, p: f64| (p - i + 1.0) * mb + (i - 1.0) * mw)),
            (
                ScheduleKind::ZbH2,
                Box::new(|i: f64, p: f64| (2.0 * p - 2.0 * i + 1.0) * mb + (2.0 * i - 2.0) * mw),
            ),
        ] {
            let s = Schedule::build(kind, p, m).unwrap();
            for st in 0..p {
                let i = f64::from(st + 1);
                assert_eq!(
                    s.peak_activation(st, mb, mw),
                    expected(i, f64::from(p)),
                    "{kind:?} stage {st}"
                );
            }
        }
        // GPipe holds every micro-batch.
        let g = Schedule::build(ScheduleKind::Gpipe, p, m).unwrap();
        assert_eq!(g.peak_activation(0, mb, mw), f64::from(m) * mb);
    }

    #[test]
    fn zero_sizes_are_errors() {
        let e = Schedule::build(ScheduleKind::OneFOneB, 0, 4).unwrap_err().to_string();
        assert!(e.starts_with("workload.stages"), "{e}");
        let e = Schedule::build(ScheduleKind::ZbH2, 4, 0).unwrap_err().to_string();
        assert!(e.starts_with("workload.micro_batches"), "{e}");
    }
}
