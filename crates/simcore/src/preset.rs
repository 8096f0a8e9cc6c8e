//! A config value that is either a preset's name or a full spec (`model: gpt3-6.7b` or
//! `model: {layers: 32, hidden: 4096, heads: 32}`), and the error that lists the presets.

use serde::de::{DeserializeOwned, Error};
use serde::{Deserialize, Deserializer, Serialize};

/// A preset's name or a full spec.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PresetOr<T> {
    /// A preset by name.
    Named(String),
    /// A full spec.
    Spec(T),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for PresetOr<T> {
    /// A string is a name; anything else must be a whole spec (its own errors, not an
    /// "untagged enum" one).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => Ok(PresetOr::Named(s)),
            other => serde_json::from_value(other).map(PresetOr::Spec).map_err(D::Error::custom),
        }
    }
}

impl<T: Clone> PresetOr<T> {
    /// The spec: a given one, or the preset `lookup` finds; an unknown name is an error
    /// naming the nearest of `names`, listing them all, and saying what else to give
    /// (`spec_hint`, e.g. "or give layers, hidden, heads").
    pub fn resolve(
        &self,
        what: &str,
        names: &[&str],
        lookup: impl Fn(&str) -> Option<T>,
        spec_hint: &str,
    ) -> Result<T, String> {
        match self {
            PresetOr::Spec(spec) => Ok(spec.clone()),
            PresetOr::Named(n) => lookup(n).ok_or_else(|| {
                format!(
                    "unknown {what} `{n}`{}; presets: {} ({spec_hint})",
                    crate::names::did_you_mean(n, names.iter().copied()),
                    names.join(", ")
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Spec {
        layers: u32,
    }

    fn lookup(n: &str) -> Option<Spec> {
        (n == "small").then_some(Spec { layers: 12 })
    }

    #[test]
    fn names_and_specs_resolve_and_unknown_names_suggest() {
        let named: PresetOr<Spec> = serde_json::from_str("\"small\"").unwrap();
        assert_eq!(named.resolve("model", &["small"], lookup, "").unwrap(), Spec { layers: 12 });
        let spec: PresetOr<Spec> = serde_json::from_str("{\"layers\": 3}").unwrap();
        assert_eq!(spec.resolve("model", &["small"], lookup, "").unwrap(), Spec { layers: 3 });
        let e = serde_json::from_str::<PresetOr<Spec>>("{\"layerz\": 3}").unwrap_err();
        assert!(e.to_string().contains("unknown field `layerz`"), "{e}");
        let typo: PresetOr<Spec> = serde_json::from_str("\"smal\"").unwrap();
        let e = typo.resolve("model", &["small"], lookup, "or give layers").unwrap_err();
        assert!(e.starts_with("unknown model `smal` (did you mean `small`?)"), "{e}");
        assert!(e.ends_with("presets: small (or give layers)"), "{e}");
    }
}
