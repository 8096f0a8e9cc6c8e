//! Expert placement: which class each of the `W x S` expert slots holds.
//!
//! Slots are numbered GPU-major: slot `g * S + j` is slot `j` of GPU `g`.

/// The class of every slot of one MoE layer, and the replica count of every class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Class held by each slot, GPU-major.
    pub slots: Vec<u32>,
    /// Replicas per class.
    pub replicas: Vec<u32>,
    /// Slots per GPU.
    pub slots_per_gpu: u32,
}

impl Placement {
    /// From per-slot classes.
    pub fn from_slots(slots: Vec<u32>, classes: usize, slots_per_gpu: u32) -> Placement {
        let mut replicas = vec![0; classes];
        for &c in &slots {
            replicas[c as usize] += 1;
        }
        Placement { slots, replicas, slots_per_gpu }
    }

    /// Classes laid out contiguously over the global slot list, class 0 first, so replicas of a
    /// class share a GPU where they can.
    pub fn contiguous(counts: &[u32], slots_per_gpu: u32) -> Placement {
        let mut slots = Vec::with_capacity(counts.iter().sum::<u32>() as usize);
        for (c, &n) in counts.iter().enumerate() {
            slots.extend(std::iter::repeat_n(c as u32, n as usize));
        }
        Placement { slots, replicas: counts.to_vec(), slots_per_gpu }
    }

    /// Number of GPUs.
    pub fn gpus(&self) -> usize {
        self.slots.len() / self.slots_per_gpu.max(1) as usize
    }

    /// The GPU of slot `k`.
    pub fn gpu_of(&self, slot: usize) -> usize {
        slot / self.slots_per_gpu as usize
    }

    /// Distinct GPUs holding class `c`, in increasing order.
    pub fn gpus_of(&self, c: u32) -> Vec<u32> {
        let mut g: Vec<u32> = self
            .slots
            .iter()
            .enumerate()
            .filter(|&(_, &x)| x == c)
            .map(|(k, _)| self.gpu_of(k) as u32)
            .collect();
        g.dedup();
        g
    }
}

/// Replica counts proportional to popularity, at least one each, summing to `total`
/// (the SwiftMoE placement rule): `goal_i = pop_i / sum(pop) * total`,
/// `counts_i = floor(max(goal_i, 1))`; while the sum is too large decrement the class with the
/// largest `counts - goal` (never below 1); while too small increment the class with the
/// smallest `counts - goal`. Ties go to the lower class index.
pub fn proportional_counts(popularity: &[f64], total: u32) -> Vec<u32> {
    let e = popularity.len();
    let sum: f64 = popularity.iter().sum();
    let goal: Vec<f64> = popularity
        .iter()
        .map(|&p| if sum > 0.0 { p / sum * f64::from(total) } else { f64::from(total) / e as f64 })
        .collect();
    let mut counts: Vec<u32> = goal.iter().map(|&g| g.max(1.0).floor() as u32).collect();
    let mut current: u32 = counts.iter().sum();
    while current > total {
        let i = (0..e).filter(|&i| counts[i] > 1).max_by(|&a, &b| {
            (f64::from(counts[a]) - goal[a])
                .total_cmp(&(f64::from(counts[b]) - goal[b]))
                .then(b.cmp(&a))
        });
        match i {
            Some(i) => {
                counts[i] -= 1;
                current -= 1;
            }
            None => break, // every class at 1: total < classes, rejected by validation
        }
    }
    while current < total {
        let i = (0..e)
            .min_by(|&a, &b| {
                (f64::from(counts[a]) - goal[a])
                    .total_cmp(&(f64::from(counts[b]) - goal[b]))
                    .then(a.cmp(&b))
            })
            .unwrap_or(0);
        counts[i] += 1;
        current += 1;
    }
    counts
}

/// Equal replica counts (as equal as `total` allows), laid out so replicas of a class land on
/// distinct GPUs when there are at least as many classes as slots per GPU (DeepSpeed's
/// expert-parallel groups): slot `k` holds class `k mod E` when `E` divides `total`.
pub fn uniform(classes: usize, gpus: u32, slots_per_gpu: u32) -> Placement {
    let total = gpus * slots_per_gpu;
    if (total as usize).is_multiple_of(classes) {
        let slots = (0..total).map(|k| k % classes as u32).collect();
        Placement::from_slots(slots, classes, slots_per_gpu)
    } else {
        Placement::contiguous(&proportional_counts(&vec![1.0; classes], total), slots_per_gpu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn uniform_deepspeed_layout() {
        let p = uniform(16, 16, 4);
        assert_eq!(p.replicas, vec![4; 16]);
        assert_eq!(&p.slots[..8], &[0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(p.gpus_of(5), vec![1, 5, 9, 13], "replicas on distinct GPUs");
    }

    #[test]
    fn contiguous_layout_groups_replicas() {
        let p = Placement::contiguous(&[5, 1, 2], 4);
        assert_eq!(p.slots, vec![0, 0, 0, 0, 0, 1, 2, 2]);
        assert_eq!(p.gpus_of(0), vec![0, 1]);
    }

    proptest! {
        /// Every class has a replica, slot counts sum to W x S, and replica counts follow
        /// popularity (a more popular class never has fewer replicas, beyond the rounding of
        /// one slot).
        #[test]
        fn proportional_placement_properties(pop in prop::collection::vec(0.0f64..1e4, 1..64), extra in 0u32..200) {
            let e = pop.len() as u32;
            let total = e + extra;
            let counts = proportional_counts(&pop, total);
            prop_assert_eq!(counts.iter().sum::<u32>(), total);
            prop_assert!(counts.iter().all(|&c| c >= 1));
            for i in 0..pop.len() {
                for j in 0..pop.len() {
                    if pop[i] > pop[j] {
                        prop_assert!(counts[i] + 1 >= counts[j], "pop {} > {} but counts {} < {}", pop[i], pop[j], counts[i], counts[j]);
                    }
                }
            }
            // When no class needs the one-replica floor, counts are the goals rounded.
            let sum: f64 = pop.iter().sum();
            let goals: Vec<f64> = pop.iter().map(|p| p / sum * f64::from(total)).collect();
            if sum > 0.0 && goals.iter().all(|&g| g >= 1.0) {
                for i in 0..pop.len() {
                    prop_assert!((f64::from(counts[i]) - goals[i]).abs() < 1.0 + 1e-9);
                }
            }
        }
    }
}
