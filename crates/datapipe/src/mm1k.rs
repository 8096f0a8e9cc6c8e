//! tf.data AUTOTUNE's buffer model: each buffer is an M/M/1/K queue, and the time a consumer
//! waits per element is the probability that the buffer is empty times the producer's time
//! per element (Murray et al., VLDB'21; tf.data's `model.cc`).

/// Probability that a buffer of `k` elements is empty when its producer takes `producer_s`
/// and its consumer `consumer_s` per element: with r = consumer / producer... in tf.data's
/// form, x = consumer time, y = producer time, P = (1 - x/y) / (1 - (x/y)^(k+1)); at x = y,
/// 1 / (k + 1). A consumer that takes no time (x = 0) always finds it empty (P = 1).
pub fn p_empty(consumer_s: f64, producer_s: f64, k: u32) -> f64 {
    if producer_s <= 0.0 {
        return 0.0;
    }
    let r = consumer_s / producer_s;
    if (r - 1.0).abs() < 1e-9 {
        return 1.0 / (k as f64 + 1.0);
    }
    let rk = r.powi(k as i32 + 1);
    if !rk.is_finite() {
        return 0.0;
    }
    ((1.0 - r) / (1.0 - rk)).clamp(0.0, 1.0)
}

/// Seconds a consumer waits per element: P(empty) x producer time.
pub fn wait_s(consumer_s: f64, producer_s: f64, k: u32) -> f64 {
    p_empty(consumer_s, producer_s, k) * producer_s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_values() {
        // x = 1, y = 2, K = 1: (1 - 0.5) / (1 - 0.25) = 2/3.
        assert!((p_empty(1.0, 2.0, 1) - 2.0 / 3.0).abs() < 1e-12);
        // x = 2, y = 1, K = 2: (1 - 2) / (1 - 8) = 1/7.
        assert!((p_empty(2.0, 1.0, 2) - 1.0 / 7.0).abs() < 1e-12);
        // x = y: 1 / (K + 1).
        assert!((p_empty(1.0, 1.0, 3) - 0.25).abs() < 1e-12);
        // An instant consumer always waits for the producer.
        assert_eq!(p_empty(0.0, 1.0, 10), 1.0);
        assert_eq!(wait_s(0.0, 0.5, 10), 0.5);
    }
}
