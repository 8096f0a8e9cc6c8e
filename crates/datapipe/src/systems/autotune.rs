//! tf.data's AUTOTUNE, as its model and hill-climbing work (Murray et al., VLDB'21; tf.data's
//! `model.cc`): every operator is an asynchronous stage with a parallelism and an output
//! buffer; a stage's producer time per element is the slower of its own (processing time /
//! parallelism) and its input's; a consumer waits P(empty) x producer time per element, with
//! P from an M/M/1/K queue ([`crate::mm1k`]). Starting from parallelism 1 and buffers of 1,
//! hill-climbing first adds threads to the stage with the largest producer time (the one
//! that sets the output time) until it is at the CPU budget (the host's vCPUs: tf.data
//! bounds every `num_parallel_calls` by its thread pool, not their sum) or no stage gains;
//! then it adds buffer slots where they cut the consumers' modelled waits most, while the
//! gain exceeds 1e-4 of the output time and the buffered bytes stay within the
//! RAM budget (half the memory). The model does not see that stages share the CPUs; the
//! simulator does ([`crate::plan::share_cpus`]).

use crate::mm1k::wait_s;

/// Most hill-climbing steps (a guard; budgets end the search first in practice).
pub const MAX_STEPS: usize = 10_000;

/// The tuned parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Tuned {
    /// Parallelism per stage.
    pub parallelism: Vec<u32>,
    /// Output buffer per stage, elements.
    pub buffers: Vec<u32>,
    /// Modelled seconds per element at the output (the bottleneck's producer time).
    pub output_time_s: f64,
}

/// The consumers' modelled waits summed over the buffers, and the bottleneck producer time.
fn model(cost: &[f64], par: &[u32], buf: &[u32], consumer_s: f64) -> (f64, f64) {
    let n = cost.len();
    let mut producer = 0.0f64;
    let mut total = 0.0;
    for i in 0..n {
        producer = producer.max(cost[i] / par[i] as f64);
        let consumer = if i + 1 < n { cost[i + 1] / par[i + 1] as f64 } else { consumer_s };
        total += wait_s(consumer, producer, buf[i]);
    }
    (total, producer)
}

/// Tunes stages of per-element CPU `cost` (s) and element `bytes` under the budgets.
pub fn tune(cost: &[f64], bytes: &[f64], cpus: u32, ram_bytes: f64, consumer_s: f64) -> Tuned {
    let n = cost.len();
    let mut par = vec![1u32; n];
    let mut buf = vec![1u32; n];
    // Parallelism: the stage that sets the output time gets a thread while it can.
    for _ in 0..MAX_STEPS {
        let Some(b) = (0..n).max_by(|&i, &j| {
            (cost[i] / par[i] as f64).total_cmp(&(cost[j] / par[j] as f64)).then(j.cmp(&i))
        }) else {
            break;
        };
        if par[b] >= cpus.max(1) || cost[b] / (par[b] as f64) <= consumer_s {
            break;
        }
        par[b] += 1;
    }
    // Buffers: the slot that cuts the waits most, within the RAM budget.
    let mut ram: f64 = bytes.iter().sum();
    let (mut current, bottleneck) = model(cost, &par, &buf, consumer_s);
    for _ in 0..MAX_STEPS {
        let mut best: Option<(f64, usize)> = None;
        for i in 0..n {
            if ram + bytes[i] > ram_bytes {
                continue;
            }
            buf[i] += 1;
            let (v, _) = model(cost, &par, &buf, consumer_s);
            buf[i] -= 1;
            if best.is_none_or(|(b, _)| v < b) {
                best = Some((v, i));
            }
        }
        match best {
            Some((v, i)) if current - v > 1e-4 * bottleneck.max(consumer_s) => {
                buf[i] += 1;
                ram += bytes[i];
                current = v;
            }
            _ => break,
        }
    }
    Tuned { parallelism: par, buffers: buf, output_time_s: bottleneck.max(consumer_s) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallelism_goes_to_the_bottleneck_up_to_the_cpu_budget() {
        // Stage 1 costs 4x stage 0: it gets the most threads, up to the budget of 4.
        let t = tune(&[1.0, 4.0], &[10.0, 10.0], 4, 1e9, 0.0);
        assert_eq!(t.parallelism[1], 4);
        assert!(t.parallelism[0] >= 1);
        assert!((t.output_time_s - 1.0).abs() < 1e-12);
    }
}
