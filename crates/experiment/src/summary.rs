//! `summary.csv`: per point, system and metric, the mean, sample standard deviation and 95%
//! confidence interval of the mean over seeds (Student's t with n-1 degrees of freedom).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use simcore::stats::Summary;

use crate::plan::{Plan, plain};
use crate::store::RunRecord;

/// One line of `summary.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    /// Point index.
    pub point: usize,
    /// The point's swept values.
    pub params: Map<String, Value>,
    /// System.
    pub system: String,
    /// Metric.
    pub metric: String,
    /// Number of seeds.
    pub n: u64,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one seed).
    pub std: f64,
    /// Half-width of the 95% confidence interval of the mean (0 for one seed).
    pub ci95: f64,
}

/// Two-sided 95% quantile of Student's t with `df` degrees of freedom (tabulated for 1-30,
/// interpolated in 1/df beyond, 1.960 in the limit).
pub fn t_975(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    const TAIL: [(f64, f64); 4] = [(30.0, 2.042), (40.0, 2.021), (60.0, 2.000), (120.0, 1.980)];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df as usize - 1],
        _ => {
            let x = df as f64;
            for w in TAIL.windows(2) {
                if x <= w[1].0 {
                    let f = (1.0 / x - 1.0 / w[0].0) / (1.0 / w[1].0 - 1.0 / w[0].0);
                    return w[0].1 + f * (w[1].1 - w[0].1);
                }
            }
            let f = (1.0 / x) / (1.0 / 120.0);
            1.960 + f * (1.980 - 1.960)
        }
    }
}

/// Summary rows in (point, system, metric) order.
pub fn summarize(plan: &Plan, records: &[RunRecord]) -> Vec<SummaryRow> {
    let mut groups: BTreeMap<(usize, usize, String), Summary> = BTreeMap::new();
    let system_index = |name: &str| {
        plan.loaded.config.systems.iter().position(|s| s.name == name).unwrap_or(usize::MAX)
    };
    for r in records {
        let s = system_index(&r.system);
        for (m, &v) in &r.metrics {
            groups.entry((r.point, s, m.clone())).or_default().record(v);
        }
    }
    groups
        .into_iter()
        .map(|((point, s, metric), sum)| {
            let n = sum.count();
            let ci95 = if n > 1 { t_975(n - 1) * sum.std_dev() / (n as f64).sqrt() } else { 0.0 };
            SummaryRow {
                point,
                params: plan.points.get(point).map(|p| p.params.clone()).unwrap_or_default(),
                system: plan
                    .loaded
                    .config
                    .systems
                    .get(s)
                    .map(|x| x.name.clone())
                    .unwrap_or_default(),
                metric,
                n,
                mean: sum.mean(),
                std: sum.std_dev(),
                ci95,
            }
        })
        .collect()
}

/// A CSV field, quoted if it needs to be (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The CSV text: `point,<axes...>,system,metric,n,mean,std,ci95_low,ci95_high`.
pub fn to_csv(plan: &Plan, rows: &[SummaryRow]) -> String {
    let mut out = String::from("point");
    for a in &plan.axes {
        out.push(',');
        out.push_str(&csv_field(a));
    }
    out.push_str(",system,metric,n,mean,std,ci95_low,ci95_high\n");
    for r in rows {
        out.push_str(&r.point.to_string());
        for a in &plan.axes {
            out.push(',');
            out.push_str(&csv_field(&r.params.get(a).map(plain).unwrap_or_default()));
        }
        out.push_str(&format!(
            ",{},{},{},{},{},{},{}\n",
            csv_field(&r.system),
            csv_field(&r.metric),
            r.n,
            r.mean,
            r.std,
            r.mean - r.ci95,
            r.mean + r.ci95
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles() {
        assert_eq!(t_975(1), 12.706);
        assert_eq!(t_975(30), 2.042);
        assert!((t_975(40) - 2.021).abs() < 1e-12);
        assert!(t_975(50) < 2.021 && t_975(50) > 2.000);
        assert!((t_975(1_000_000) - 1.960).abs() < 1e-3);
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
