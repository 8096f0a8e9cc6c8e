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
    /// Which model chunk of the GPU (0-based; always 0 without interleaving). Chunk `c` of
    /// GPU `s` of `p` is virtual stage `c p + s`.
    pub chunk: u32,
}

impl Step {
    /// A pass of micro-batch `micro` on the GPU's first (only) chunk.
    pub fn new(pass: Pass, micro: u32) -> Step {
        Step { pass, micro, chunk: 0 }
    }
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
    /// Model chunks (virtual stages) per GPU v: 1 without interleaving.
    pub chunks: u32,
    /// Per stage (GPU), its passes in order: every (pass, micro-batch, chunk) exactly once.
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
        Ok(Schedule { kind, stages: p, micro_batches: m, chunks: 1, order })
    }

    /// The schedule `kind` for `p` stages (GPUs), `m` micro-batches and `v` model chunks per
    /// GPU. `v = 1` is [`Schedule::build`]; `v > 1` is Megatron-LM's interleaved 1F1B
    /// (Narayanan et al., SC'21, §2.2.2), which needs `kind` = 1F1B and `m` a multiple of `p`.
    ///
    /// GPU `r` runs `m v` (micro-batch, chunk) forwards and as many backwards. The `k`-th
    /// forward (0-based) is of micro-batch `(k / (p v)) p + k mod p` on chunk
    /// `(k mod p v) / p`: micro-batches go through the chunks in groups of `p`; the `k`-th
    /// backward is of the same micro-batch on chunk `v - 1 - (k mod p v) / p` (the last chunk
    /// first). Warm-up: `min(2 (p - r - 1) + (v - 1) p, m v)` forwards (all of them when
    /// `m = p`); steady: forward `k + warm-up`, then backward `k`; cool-down: the remaining
    /// backwards. W follows its B (1F1B's fused backward).
    pub fn build_interleaved(
        kind: ScheduleKind,
        p: u32,
        m: u32,
        v: u32,
    ) -> Result<Schedule, InputError> {
        if v == 0 {
            return Err(InputError::invalid(
                "interleave",
                "must be at least 1 (1: no interleaving)",
            ));
        }
        if v == 1 {
            return Schedule::build(kind, p, m);
        }
        if kind != ScheduleKind::OneFOneB {
            return Err(InputError::invalid(
                "interleave",
                format!(
                    "interleave = {v} needs schedule: 1f1b (Megatron-LM's interleaved 1F1B); {} has no interleaved form here: set interleave: 1 or schedule: 1f1b",
                    kind.name()
                ),
            ));
        }
        if p == 0 {
            return Err(InputError::invalid("stages", "must be at least 1"));
        }
        if m == 0 || !m.is_multiple_of(p) {
            let lower = (m / p) * p;
            return Err(InputError::invalid(
                "micro_batches",
                format!(
                    "{m} micro-batches with interleave = {v}: the interleaved schedule needs a multiple of the {p} stages (as Megatron-LM requires), e.g. {}{}",
                    if lower > 0 { format!("{lower} or ") } else { String::new() },
                    lower + p
                ),
            ));
        }
        let order = (0..p).map(|r| interleaved(p, m, v, r)).collect();
        Ok(Schedule { kind, stages: p, micro_batches: m, chunks: v, order })
    }

    /// Peak activation bytes on `stage` when F adds `m_b`, B swaps `m_b` for `m_w` and W frees
    /// `m_w` (per micro-batch).
    pub fn peak_activation(&self, stage: u32, m_b: f64, m_w: f64) -> f64 {
        self.peak_activation_by(stage, |_| (m_b, m_w))
    }

    /// Peak activation bytes on `stage` when the bytes of a step depend on its chunk:
    /// `bytes(chunk)` gives `(m_b, m_w)` for one micro-batch of that chunk. 0 for a stage
    /// the schedule does not have.
    pub fn peak_activation_by(&self, stage: u32, bytes: impl Fn(u32) -> (f64, f64)) -> f64 {
        let (mut now, mut peak) = (0.0f64, 0.0f64);
        let Some(order) = self.order.get(stage as usize) else {
            return 0.0;
        };
        for step in order {
            let (m_b, m_w) = bytes(step.chunk);
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

/// GPU `r`'s order in the interleaved 1F1B schedule (see [`Schedule::build_interleaved`]).
fn interleaved(p: u32, m: u32, v: u32, r: u32) -> Vec<Step> {
    let total = m * v;
    let group = p * v;
    let at = |k: u32, forward: bool| -> (u32, u32) {
        let within = k % group;
        let chunk = within / p;
        let micro = (k / group) * p + within % p;
        (micro, if forward { chunk } else { v - 1 - chunk })
    };
    let warmup = if m == p { total } else { (2 * (p - r - 1) + (v - 1) * p).min(total) };
    let mut order = Vec::with_capacity(3 * total as usize);
    let forward = |order: &mut Vec<Step>, k: u32| {
        let (micro, chunk) = at(k, true);
        order.push(Step { pass: Pass::F, micro, chunk });
    };
    let backward = |order: &mut Vec<Step>, k: u32| {
        let (micro, chunk) = at(k, false);
        order.push(Step { pass: Pass::B, micro, chunk });
        order.push(Step { pass: Pass::W, micro, chunk });
    };
    for k in 0..warmup {
        forward(&mut order, k);
    }
    for k in 0..total - warmup {
        forward(&mut order, k + warmup);
        backward(&mut order, k);
    }
    for k in total - warmup..total {
        backward(&mut order, k);
    }
    order
}

/// One stage's order: `warmup` forwards, then F, B and W's beyond `cap` pending, then the
/// remaining B's with W's beyond `cap`, then the pending W's.
fn three_phase(m: u32, warmup: u32, cap: u32) -> Vec<Step> {
    let mut order = Vec::with_capacity(3 * m as usize);
    let mut pending = VecDeque::new();
    let (mut next_f, mut next_b) = (0u32, 0u32);
    let push = |order: &mut Vec<Step>, pass, micro| order.push(Step::new(pass, micro));
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
                let pos = |pass, j| stage.iter().position(|x| *x == Step::new(pass, j));
                for j in 0..m {
                    for pass in [Pass::F, Pass::B, Pass::W] {
                        let n = stage.iter().filter(|x| **x == Step::new(pass, j)).count();
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
    fn interleaved_order_follows_megatron() {
        // p = 2, v = 2, m = 4: GPU 0 warms up with 2(p - 1) + (v - 1)p = 4 chunk forwards,
        // micro-batches in groups of p through chunk 0 then chunk 1; backwards last chunk first.
        let s = Schedule::build_interleaved(ScheduleKind::OneFOneB, 2, 4, 2).unwrap();
        let names = |st: usize| -> String {
            s.order[st]
                .iter()
                .filter(|x| x.pass != Pass::W)
                .map(|x| format!("{:?}{}c{}", x.pass, x.micro, x.chunk))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            names(0),
            "F0c0 F1c0 F0c1 F1c1 F2c0 B0c1 F3c0 B1c1 F2c1 B0c0 F3c1 B1c0 B2c1 B3c1 B2c0 B3c0"
        );
        // The last GPU warms up with (v - 1)p = 2.
        assert!(names(1).starts_with("F0c0 F1c0 F0c1 B0c1 F1c1 B1c1"), "{}", names(1));
        assert_eq!(s.order[0].len(), 3 * 4 * 2);
        // m not a multiple of p, and a schedule without an interleaved form.
        let e = Schedule::build_interleaved(ScheduleKind::OneFOneB, 4, 6, 2).unwrap_err();
        assert!(e.to_string().starts_with("workload.micro_batches"), "{e}");
        let e = Schedule::build_interleaved(ScheduleKind::ZbH1, 4, 8, 2).unwrap_err();
        assert!(e.to_string().starts_with("workload.interleave"), "{e}");
    }

    #[test]
    fn zero_sizes_are_errors() {
        let e = Schedule::build(ScheduleKind::OneFOneB, 0, 4).unwrap_err().to_string();
        assert!(e.starts_with("workload.stages"), "{e}");
        let e = Schedule::build(ScheduleKind::ZbH2, 4, 0).unwrap_err().to_string();
        assert!(e.starts_with("workload.micro_batches"), "{e}");
    }
}
