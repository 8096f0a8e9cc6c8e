//! Exact cases of the schedules on the executor: with free communication the iteration times
//! are the closed forms of the reference (GPipe, 1F1B, ZB-H1, ZB-H2), and updates wait for
//! every weight gradient and the all-reduce.

use cluster::{Cluster, Dtype};
use pipeline::iteration::{BuildOptions, Program, StageWork, build, gpu_of};
use pipeline::{Schedule, ScheduleKind};
use simcore::SimTime;
use taskgraph::{ExecConfig, execute};

fn cluster() -> Cluster {
    Cluster::preset("dgx-h100", 2).unwrap()
}

/// Period of the steady state for `kind` with per-pass FLOPs, free hand-offs, one pipeline, no
/// optimizer; and the three pass times.
fn period(
    kind: ScheduleKind,
    p: u32,
    m: u32,
    flops: [f64; 3],
    staggered: bool,
) -> (SimTime, [SimTime; 3], f64) {
    let c = cluster();
    let sched = Schedule::build(kind, p, m).unwrap();
    let work = StageWork {
        f_flops: flops[0],
        b_flops: flops[1],
        w_flops: flops[2],
        pass_bytes: 0.0,
        params: 1e6,
        tp: None,
        ..StageWork::default()
    };
    let stages = vec![work; p as usize];
    let opts = BuildOptions {
        boundary_bytes: 0.0,
        dtype: Dtype::Bf16,
        grad_bytes_per_param: 2.0,
        optimizer_bytes_per_param: 0.0,
        staggered,
        iterations: 3,
        tp: 1,
        ..BuildOptions::default()
    };
    let it = build(&Program::healthy(&sched, 1, &stages), &opts).unwrap();
    let run = execute(&it.graph, &c, &ExecConfig::default()).unwrap();
    let t = |f: f64| c.compute().kernel_time(f, 0.0, Dtype::Bf16).unwrap();
    let timing = it.timing(&run);
    (timing.period, [t(flops[0]), t(flops[1]), t(flops[2])], timing.bubble_frac)
}

const SIZES: [(u32, u32); 5] = [(2, 4), (4, 8), (4, 12), (8, 16), (6, 24)];

#[test]
fn one_f_one_b_and_gpipe_bubbles_are_exact() {
    for (p, m) in SIZES {
        for flops in [[1e12, 1e12, 1e12], [2e12, 3e12, 1e12]] {
            for kind in [ScheduleKind::OneFOneB, ScheduleKind::Gpipe] {
                let (per, [f, b, w], bubble) = period(kind, p, m, flops, false);
                assert_eq!(
                    per.as_nanos(),
                    u64::from(m + p - 1) * (f + b + w).as_nanos(),
                    "{kind:?} p={p} m={m}"
                );
                if flops[0] == flops[1] {
                    // (p - 1) / (m + p - 1) of the iteration when T_F = T_B = T_W.
                    let expected = f64::from(p - 1) / f64::from(m + p - 1);
                    assert!((bubble - expected).abs() < 1e-9, "{kind:?}: {bubble} vs {expected}");
                }
            }
        }
    }
}

#[test]
fn zb_h1_bubble_is_exact() {
    for (p, m) in SIZES {
        for flops in [[1e12, 1e12, 1e12], [2e12, 3e12, 1e12]] {
            let (per, [f, b, w], _) = period(ScheduleKind::ZbH1, p, m, flops, false);
            let (f, b, w) = (f.as_nanos(), b.as_nanos(), w.as_nanos());
            assert_eq!(
                per.as_nanos(),
                u64::from(m) * (f + b + w) + u64::from(p - 1) * (f + b - w),
                "p={p} m={m}"
            );
        }
    }
}

#[test]
fn zb_h2_with_staggered_steps_is_exact() {
    for (p, m) in SIZES {
        if m < 2 * p - 1 {
            continue;
        }
        for flops in [[1e12, 1e12, 1e12], [2e12, 3e12, 1e12]] {
            let (per, [f, b, w], bubble) = period(ScheduleKind::ZbH2, p, m, flops, true);
            let (f, b, w) = (f.as_nanos(), b.as_nanos(), w.as_nanos());
            assert_eq!(
                per.as_nanos(),
                u64::from(m) * (f + b + w) + u64::from(p - 1) * (f + b - 2 * w),
                "p={p} m={m}"
            );
            if flops[0] == flops[1] {
                assert!(bubble.abs() < 1e-12, "zero bubble: {bubble}");
            }
        }
    }
}

#[test]
fn updates_wait_for_every_weight_gradient_and_the_all_reduce() {
    let c = cluster();
    let (p, m, dp) = (4u32, 8u32, 4u32);
    for kind in ScheduleKind::ALL {
        let sched = Schedule::build(kind, p, m).unwrap();
        let work = StageWork {
            f_flops: 2e12,
            b_flops: 3e12,
            w_flops: 1e12,
            pass_bytes: 1e9,
            params: 3e8,
            tp: None,
            ..StageWork::default()
        };
        let stages = vec![work; p as usize];
        let opts = BuildOptions {
            boundary_bytes: 8e6,
            dtype: Dtype::Bf16,
            grad_bytes_per_param: 2.0,
            optimizer_bytes_per_param: 28.0,
            staggered: kind.staggered_by_default(),
            iterations: 2,
            tp: 1,
            ..BuildOptions::default()
        };
        let it = build(&Program::healthy(&sched, dp, &stages), &opts).unwrap();
        let run = execute(&it.graph, &c, &ExecConfig::default()).unwrap();
        for k in 0..2 {
            for s in 0..p {
                let ar = it.all_reduce[k][s as usize].unwrap();
                for d in 0..dp {
                    let gpu = gpu_of(d, s, p).0 as usize;
                    let step = it.stepped[k][gpu];
                    assert_eq!(it.steps[k][s as usize][d as usize], step);
                    assert!(run.end(ar) <= run.start(step));
                    for &(_, op) in &it.tasks[k][gpu] {
                        assert!(
                            run.end(op) <= run.start(ar),
                            "{kind:?}: a pass after the all-reduce"
                        );
                    }
                    // The next iteration's passes start after this GPU's update.
                    if k == 0 {
                        let first = it.tasks[1][gpu][0].1;
                        assert!(run.start(first) >= run.end(step));
                    }
                }
            }
        }
        let t = it.timing(&run);
        assert!(t.period > t.busy && t.bubble_frac > 0.0 && t.bubble_frac < 1.0, "{kind:?} {t:?}");
    }
}
