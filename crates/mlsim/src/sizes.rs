//! Parsing of `--sizes`: a geometric range `MIN..MAX`, a comma list or one size.

use anyhow::{Context, Result, bail};
use simcore::units::parse_bytes;

/// The sizes in bytes described by `spec`, stepping ranges by `factor`.
pub fn parse_sizes(spec: &str, factor: f64) -> Result<Vec<u64>> {
    if let Some((lo, hi)) = spec.split_once("..") {
        let lo = parse_bytes(lo).with_context(|| format!("bad lower bound in --sizes {spec}"))?;
        let hi = parse_bytes(hi).with_context(|| format!("bad upper bound in --sizes {spec}"))?;
        if lo == 0 || hi < lo {
            bail!("--sizes {spec}: need 0 < MIN <= MAX");
        }
        if !(factor > 1.0 && factor.is_finite()) {
            bail!("--factor must be a number greater than 1, got {factor}");
        }
        let mut out = Vec::new();
        let mut s = lo as f64;
        while s <= hi as f64 * (1.0 + 1e-12) {
            out.push(s.round() as u64);
            s *= factor;
            if out.len() > 10_000 {
                bail!("--sizes {spec} with --factor {factor} gives more than 10000 sizes");
            }
        }
        Ok(out)
    } else {
        spec.split(',')
            .map(|p| parse_bytes(p).with_context(|| format!("bad size `{}` in --sizes", p.trim())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_lists_and_errors() {
        assert_eq!(
            parse_sizes("1MiB..8MiB", 2.0).unwrap(),
            vec![1 << 20, 2 << 20, 4 << 20, 8 << 20]
        );
        assert_eq!(parse_sizes("1kB,1MB", 2.0).unwrap(), vec![1_000, 1_000_000]);
        assert_eq!(parse_sizes("64MiB", 2.0).unwrap(), vec![64 << 20]);
        assert!(parse_sizes("8MiB..1MiB", 2.0).is_err());
        assert!(parse_sizes("1MiB..8MiB", 1.0).is_err());
        let e = format!("{:#}", parse_sizes("1MiB..8Mb", 2.0).unwrap_err());
        assert!(e.contains("upper bound") && e.contains("did you mean MB"), "{e}");
    }
}
