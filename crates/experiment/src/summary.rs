//! `summary.csv`: per point, system and metric, the mean, sample standard deviation and 95%
//! confidence interval of the mean over seeds (Student's t with n-1 degrees of freedom); and
//! the same numbers as a table to read ([`wide_table`]): one row per point and system, a
//! column per metric, each cell `mean ± CI` with both numbers to the same decimal place.

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
    /// The caveats of the point's and system's runs (e.g. a contention-free network).
    pub caveats: Vec<String>,
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
    let mut caveats: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
    let system_index = |name: &str| {
        plan.loaded.config.systems.iter().position(|s| s.name == name).unwrap_or(usize::MAX)
    };
    for r in records {
        let s = system_index(&r.system);
        for (m, &v) in &r.metrics {
            groups.entry((r.point, s, m.clone())).or_default().record(v);
        }
        let list = caveats.entry((r.point, s)).or_default();
        for c in &r.caveats {
            if !list.contains(c) {
                list.push(c.clone());
            }
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
                caveats: caveats.get(&(point, s)).cloned().unwrap_or_default(),
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

/// The CSV text: `point,<axes...>,system,metric,n,mean,std,ci95_low,ci95_high,caveats` (the
/// last column empty unless the runs carry caveats, joined by `; `).
pub fn to_csv(plan: &Plan, rows: &[SummaryRow]) -> String {
    let mut out = String::from("point");
    for a in &plan.axes {
        out.push(',');
        out.push_str(&csv_field(a));
    }
    out.push_str(",system,metric,n,mean,std,ci95_low,ci95_high,caveats\n");
    for r in rows {
        out.push_str(&r.point.to_string());
        for a in &plan.axes {
            out.push(',');
            out.push_str(&csv_field(&r.params.get(a).map(plain).unwrap_or_default()));
        }
        out.push_str(&format!(
            ",{},{},{},{},{},{},{},{}\n",
            csv_field(&r.system),
            csv_field(&r.metric),
            r.n,
            r.mean,
            r.std,
            r.mean - r.ci95,
            r.mean + r.ci95,
            csv_field(&r.caveats.join("; "))
        ));
    }
    out
}

/// A number to four significant digits (trailing zeros dropped), in scientific notation
/// outside 0.001..100000.
pub fn number_text(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{x:.3e}");
    }
    let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// `mean ± ci` for `n` seeds, both to the same decimal place: the CI to two significant
/// digits and the mean to that place (at most three digits finer than its own fourth
/// significant one). Outside 0.001..100000 both share one power of ten: `(1.5000 ± 0.0020)e9`.
/// One seed (or no spread) prints the mean alone.
pub fn mean_ci_text(mean: f64, ci: f64, n: u64) -> String {
    if n <= 1 || !mean.is_finite() || !ci.is_finite() || ci <= 0.0 {
        return number_text(mean);
    }
    let big = mean.abs().max(ci);
    let exp = big.log10().floor() as i32;
    let scale = if (-3..5).contains(&exp) { 0 } else { exp };
    let (m, c) = (mean / 10f64.powi(scale), ci / 10f64.powi(scale));
    let d_ci = 1 - c.log10().floor() as i32;
    let d_mean = if m == 0.0 { d_ci } else { 3 - m.abs().log10().floor() as i32 };
    let d = d_ci.min(d_mean + 3);
    let round = |x: f64| {
        if d >= 0 {
            x
        } else {
            let q = 10f64.powi(-d);
            (x / q).round() * q
        }
    };
    let places = d.max(0) as usize;
    let body = format!("{:.places$} ± {:.places$}", round(m), round(c));
    if scale == 0 { body } else { format!("({body})e{scale}") }
}

/// Caveats in short: the part of each before ` — ` (`network: contention-free`).
pub fn short_caveats(caveats: &[String]) -> String {
    let short: Vec<&str> = caveats.iter().map(|c| c.split(" — ").next().unwrap_or(c)).collect();
    short.join("; ")
}

/// The summary as a table to read: `header` (the sweep axes, `system`, `seeds`, then one
/// column per metric in the kind's order) and one row per point and system.
#[derive(Clone, Debug, PartialEq)]
pub struct WideTable {
    /// Column names.
    pub header: Vec<String>,
    /// How many leading columns label a row (axes, system, seeds); the rest are metrics.
    pub label_columns: usize,
    /// The metrics of the metric columns, in order.
    pub metrics: Vec<String>,
    /// Rows in (point, system) order.
    pub rows: Vec<Vec<String>>,
    /// The point of each row.
    pub points: Vec<usize>,
}

/// One row per (point, system) of `rows`, one column per metric of `metrics` that occurs
/// (metrics not listed come last, by name); a missing value is `-`.
pub fn wide_table(plan: &Plan, rows: &[SummaryRow], metrics: &[&str]) -> WideTable {
    let mut present: Vec<String> = Vec::new();
    for m in metrics {
        if rows.iter().any(|r| r.metric == *m) {
            present.push(m.to_string());
        }
    }
    let mut extra: Vec<String> =
        rows.iter().map(|r| r.metric.clone()).filter(|m| !metrics.contains(&m.as_str())).collect();
    extra.sort();
    extra.dedup();
    present.extend(extra);
    let mut header: Vec<String> = plan.axes.clone();
    header.extend(["system".to_string(), "seeds".to_string()]);
    let label_columns = header.len();
    header.extend(present.iter().cloned());
    let noted = rows.iter().any(|r| !r.caveats.is_empty());
    if noted {
        header.push("caveats".into());
    }
    let mut groups: Vec<((usize, &str), Vec<&SummaryRow>)> = Vec::new();
    for r in rows {
        let key = (r.point, r.system.as_str());
        match groups.last_mut() {
            Some((k, g)) if *k == key => g.push(r),
            _ => groups.push((key, vec![r])),
        }
    }
    let points = groups.iter().map(|((p, _), _)| *p).collect();
    let table = groups
        .into_iter()
        .map(|((_, system), group)| {
            let first = group[0];
            let mut row: Vec<String> = plan
                .axes
                .iter()
                .map(|a| first.params.get(a).map(plain).unwrap_or_default())
                .collect();
            row.push(system.to_string());
            row.push(group.iter().map(|r| r.n).max().unwrap_or(0).to_string());
            for m in &present {
                row.push(match group.iter().find(|r| &r.metric == m) {
                    Some(r) => mean_ci_text(r.mean, r.ci95, r.n),
                    None => "-".into(),
                });
            }
            if noted {
                row.push(short_caveats(&first.caveats));
            }
            row
        })
        .collect();
    WideTable { header, label_columns, metrics: present, rows: table, points }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_interval_share_their_decimal_place() {
        assert_eq!(mean_ci_text(0.0014, 2.613e-6, 3), "0.0014000 ± 0.0000026");
        assert_eq!(mean_ci_text(1.234, 0.5, 3), "1.23 ± 0.50");
        assert_eq!(mean_ci_text(1234.5, 120.0, 3), "1230 ± 120");
        assert_eq!(mean_ci_text(1.5e9, 2.0e6, 3), "(1.5000 ± 0.0020)e9");
        assert_eq!(mean_ci_text(2.5e-5, 1.0e-6, 5), "(2.50 ± 0.10)e-5");
        // No spread, or one seed: the mean alone.
        assert_eq!(mean_ci_text(370.5, 0.0, 3), "370.5");
        assert_eq!(mean_ci_text(0.0014, 0.0, 1), "0.0014");
        // A spread far below the mean's precision is not printed to twenty places.
        assert_eq!(mean_ci_text(1000.0, 1e-9, 3), "1000.000 ± 0.000");
        assert_eq!(number_text(1.5e9), "1.500e9");
        assert_eq!(number_text(12.0), "12");
        assert_eq!(number_text(0.00123456), "0.001235");
    }

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
