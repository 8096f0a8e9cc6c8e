//! Component description files: one Markdown file per service, as an operator would write
//! it, read by Atlas's synthesis step (both backends).
//!
//! A file `<service>.md` opens with a `# <service>` heading and has plain-prose sections;
//! two of them hold the statements the synthesis reads and the coverage knob removes or
//! misstates:
//!
//! - `## Interactions`: one bullet per statement about another component, phrased "It
//!   calls X to ...", "It depends on the X database ...", "It is called by Y ...", and one
//!   saying whether it retries failed calls;
//! - `## Metrics`: one bullet per metric, opening with the metric's name in backticks
//!   (`` `cartservice.cpu` ``) and saying in words what it measures.
//!
//! Other sections (`## What it does`, `## Storage`, ...) are prose for the reader (and the
//! LLM) and name no other component. No front matter is needed. The built-in systems' files
//! are in `crates/rca/systems/<system>/components/` and compiled in; another system's come
//! from a folder ([`ComponentDocs::from_dir`]); a service without a file gets a stub made
//! from its spec's `description` and `stores` fields, with a warning.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use crate::sources::SourceError;
use crate::sources::atlas::builtin_docs::builtin_component_docs;
use crate::system::System;

/// One component's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentDoc {
    /// The service it describes.
    pub component: String,
    /// Where it came from (a file path, or `built-in <system>/<service>.md`).
    pub origin: String,
    /// The Markdown text.
    pub text: String,
}

/// Which section a statement is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SectionKind {
    /// `## Interactions`.
    Interactions,
    /// `## Metrics`.
    Metrics,
}

/// One bullet of the Interactions or Metrics section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Its section.
    pub section: SectionKind,
    /// Its text, continuation lines joined by spaces, without the leading `- `.
    pub text: String,
    /// Its lines in the document (0-based, end exclusive).
    pub lines: Range<usize>,
}

impl ComponentDoc {
    /// The bullets of the Interactions and Metrics sections, in document order.
    pub fn statements(&self) -> Vec<Statement> {
        let lines: Vec<&str> = self.text.lines().collect();
        let mut out: Vec<Statement> = Vec::new();
        let mut section = None;
        for (i, line) in lines.iter().enumerate() {
            if let Some(title) = line.strip_prefix("## ") {
                let t = title.trim().to_ascii_lowercase();
                section = if t.starts_with("interactions") {
                    Some(SectionKind::Interactions)
                } else if t.starts_with("metrics") {
                    Some(SectionKind::Metrics)
                } else {
                    None
                };
                continue;
            }
            let Some(kind) = section else { continue };
            if let Some(rest) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
                out.push(Statement {
                    section: kind,
                    text: rest.trim().to_string(),
                    lines: i..i + 1,
                });
            } else if line.starts_with("  ") && !line.trim().is_empty() {
                // A continuation line of the previous bullet.
                if let Some(last) = out.last_mut().filter(|s| s.lines.end == i) {
                    last.text.push(' ');
                    last.text.push_str(line.trim());
                    last.lines.end = i + 1;
                }
            }
        }
        out
    }

    /// The text with `edits` applied: each `(lines, replacement)` replaces those lines
    /// (`None` removes them). Ranges must not overlap.
    pub fn edited(&self, edits: &[(Range<usize>, Option<String>)]) -> ComponentDoc {
        let lines: Vec<&str> = self.text.lines().collect();
        let mut out = String::with_capacity(self.text.len());
        let mut i = 0;
        while i < lines.len() {
            if let Some((r, rep)) = edits.iter().find(|(r, _)| r.start == i && r.end > i) {
                if let Some(rep) = rep {
                    out.push_str(rep);
                    out.push('\n');
                }
                i = r.end;
                continue;
            }
            out.push_str(lines[i]);
            out.push('\n');
            i += 1;
        }
        ComponentDoc { component: self.component.clone(), origin: self.origin.clone(), text: out }
    }

    fn check(&self) -> Result<(), SourceError> {
        let heading = self.text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let title = heading.strip_prefix("# ").map(str::trim);
        if title != Some(self.component.as_str()) {
            return Err(SourceError::Docs {
                file: self.origin.clone(),
                message: format!(
                    "the first line must be the heading `# {}`, found `{heading}`",
                    self.component
                ),
            });
        }
        Ok(())
    }

    /// A stub from the spec's `description` and `stores` fields (no interactions, no
    /// metrics: the synthesis can only say what the data-driven step adds).
    fn stub(system: &System, service: usize) -> ComponentDoc {
        let spec = &system.spec().services[service];
        let name = &system.services()[service].name;
        let stores =
            if spec.stores.trim().is_empty() { "nothing".to_string() } else { spec.stores.clone() };
        ComponentDoc {
            component: name.clone(),
            origin: format!("spec of {}/{}", system.name(), name),
            text: format!(
                "# {name}\n\n## What it does\n\n{}\n\n## Storage\n\nIt stores {stores}.\n",
                spec.description.trim()
            ),
        }
    }
}

/// The description of every component of a system, in the system's service order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentDocs {
    docs: Vec<ComponentDoc>,
    /// Services without a file (stubbed), files for unknown services, ...
    pub warnings: Vec<String>,
}

impl ComponentDocs {
    /// Docs from a list (one per service of `system`, any order; missing ones stubbed).
    pub fn from_list(system: &System, list: Vec<ComponentDoc>) -> Result<Self, SourceError> {
        let services: Vec<&str> = system.services().iter().map(|s| s.name.as_str()).collect();
        let mut warnings = Vec::new();
        let mut by_name = Self::index(&services, system.name(), list, &mut warnings)?;
        let mut docs = Vec::new();
        for (i, s) in system.services().iter().enumerate() {
            match by_name.remove(&s.name) {
                Some(d) => docs.push(d),
                None => {
                    warnings.push(format!(
                        "no description file for `{}`; using its spec's description",
                        s.name
                    ));
                    docs.push(ComponentDoc::stub(system, i));
                }
            }
        }
        Ok(ComponentDocs { docs, warnings })
    }

    /// Docs for the components `names` of a system that has no simulator spec (real
    /// telemetry such as PetShop's), in that order: files for other components are left
    /// out silently (a description set may cover several deployments), and a component
    /// without a file gets an empty stub (`# <name>` only) and a warning.
    pub fn for_components(
        system: &str,
        names: &[&str],
        list: Vec<ComponentDoc>,
    ) -> Result<Self, SourceError> {
        let mut warnings = Vec::new();
        let list = list.into_iter().filter(|d| names.contains(&d.component.as_str())).collect();
        let mut by_name = Self::index(names, system, list, &mut warnings)?;
        let mut docs = Vec::new();
        for &name in names {
            match by_name.remove(name) {
                Some(d) => docs.push(d),
                None => {
                    warnings.push(format!("no description file for `{name}`; it has none"));
                    docs.push(ComponentDoc {
                        component: name.to_string(),
                        origin: format!("stub of {system}/{name}"),
                        text: format!("# {name}\n"),
                    });
                }
            }
        }
        Ok(ComponentDocs { docs, warnings })
    }

    /// `list` by component, checked; docs for components not in `names` are warnings.
    fn index(
        names: &[&str],
        system: &str,
        list: Vec<ComponentDoc>,
        warnings: &mut Vec<String>,
    ) -> Result<BTreeMap<String, ComponentDoc>, SourceError> {
        let mut by_name: BTreeMap<String, ComponentDoc> = BTreeMap::new();
        for d in list {
            if !names.contains(&d.component.as_str()) {
                warnings.push(format!(
                    "{}: `{}` is not a service of `{system}`; ignored{}",
                    d.origin,
                    d.component,
                    simcore::names::did_you_mean(&d.component, names.iter().copied())
                ));
                continue;
            }
            d.check()?;
            if let Some(prev) = by_name.get(&d.component) {
                return Err(SourceError::Docs {
                    file: d.origin.clone(),
                    message: format!("`{}` is also described by {}", d.component, prev.origin),
                });
            }
            by_name.insert(d.component.clone(), d);
        }
        Ok(by_name)
    }

    /// The compiled-in files of a built-in system, or `None` for another system.
    pub fn builtin(system: &System) -> Result<Option<Self>, SourceError> {
        let Some(files) = builtin_component_docs(system.name()) else { return Ok(None) };
        let list = files
            .iter()
            .map(|(service, text)| ComponentDoc {
                component: (*service).to_string(),
                origin: format!("built-in {}/components/{service}.md", system.name()),
                text: (*text).to_string(),
            })
            .collect();
        Self::from_list(system, list).map(Some)
    }

    /// `<dir>/<service>.md` for each service (every `.md` file in `dir` is read; one for an
    /// unknown service is a warning).
    pub fn from_dir(system: &System, dir: &Path) -> Result<Self, SourceError> {
        let err = |file: &Path, e: std::io::Error| SourceError::Docs {
            file: file.display().to_string(),
            message: e.to_string(),
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| err(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        paths.sort();
        let mut list = Vec::new();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|e| err(&p, e))?;
            let component =
                p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            list.push(ComponentDoc { component, origin: p.display().to_string(), text });
        }
        Self::from_list(system, list)
    }

    /// Stubs from the spec for every service.
    pub fn from_spec(system: &System) -> Self {
        let docs = (0..system.services().len()).map(|i| ComponentDoc::stub(system, i)).collect();
        ComponentDocs {
            docs,
            warnings: vec![format!(
                "no description files for `{}`; using the spec's descriptions",
                system.name()
            )],
        }
    }

    /// `dir`'s files when given, else the built-in files, else stubs from the spec.
    pub fn for_system(system: &System, dir: Option<&Path>) -> Result<Self, SourceError> {
        match dir {
            Some(d) => Self::from_dir(system, d),
            None => Ok(Self::builtin(system)?.unwrap_or_else(|| Self::from_spec(system))),
        }
    }

    /// The docs, in service order.
    pub fn docs(&self) -> &[ComponentDoc] {
        &self.docs
    }

    /// The doc of `component`.
    pub fn get(&self, component: &str) -> Option<&ComponentDoc> {
        self.docs.iter().find(|d| d.component == component)
    }

    /// The same set with the docs replaced (same order).
    pub(crate) fn with_docs(&self, docs: Vec<ComponentDoc>) -> Self {
        ComponentDocs { docs, warnings: self.warnings.clone() }
    }
}

/// Whether `hay[at..at + len]` is a whole word: no name character (letter, digit, `-`,
/// `_`) right before or after it.
fn whole_word(hay: &str, at: usize, len: usize) -> bool {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let before = hay[..at].chars().next_back();
    let after = hay[at + len..].chars().next();
    !before.is_some_and(is_name) && !after.is_some_and(is_name)
}

/// The component names of `names` that `text` mentions as whole words, in order of first
/// mention, each once. A match inside a longer name's match is not a mention of the shorter
/// name (`amazon.com_remote` inside `www.amazon.com_remote`, `f_AWS::Lambda` inside
/// `f_AWS::Lambda::Function`).
pub fn mentioned<'a>(text: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let names: Vec<&str> = names.into_iter().filter(|n| !n.is_empty()).collect();
    // Every whole-word occurrence of every name: (start, end, name).
    let mut spans: Vec<(usize, usize, &str)> = Vec::new();
    for &name in &names {
        let mut from = 0;
        while let Some(k) = text[from..].find(name) {
            let at = from + k;
            if whole_word(text, at, name.len()) {
                spans.push((at, at + name.len(), name));
            }
            from = at + name.len();
        }
    }
    let inside_longer = |&(a, b, n): &(usize, usize, &str)| {
        spans.iter().any(|&(c, d, m)| m.len() > n.len() && c <= a && b <= d)
    };
    let mut found: Vec<(usize, String)> = Vec::new();
    for span in spans.iter().filter(|s| !inside_longer(s)) {
        match found.iter_mut().find(|(_, n)| n == span.2) {
            Some(f) => f.0 = f.0.min(span.0),
            None => found.push((span.0, span.2.to_string())),
        }
    }
    found.sort();
    found.into_iter().map(|(_, n)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::builtin::builtin;

    #[test]
    fn statements_and_edits() {
        let doc = ComponentDoc {
            component: "a".into(),
            origin: "a.md".into(),
            text: "# a\n\n## Interactions\n\n- It calls b to\n  fetch things.\n- It is called by c.\n\n## Metrics\n\n- `a.cpu`: busy share.\n".into(),
        };
        let st = doc.statements();
        assert_eq!(st.len(), 3);
        assert_eq!(st[0].text, "It calls b to fetch things.");
        assert_eq!(st[0].lines, 4..6);
        assert_eq!(st[2].section, SectionKind::Metrics);
        let e = doc.edited(&[(4..6, None), (6..7, Some("- It is called by d.".into()))]);
        assert!(!e.text.contains("calls b") && e.text.contains("called by d"));
    }

    #[test]
    fn mentions_are_whole_words() {
        let names = ["ts-order-service", "ts-order-other-service", "redis-cart", "cart"];
        let m = mentioned("It calls ts-order-other-service and redis-cart.", names);
        assert_eq!(m, vec!["ts-order-other-service", "redis-cart"]);
        assert_eq!(mentioned("the `cart.cpu` metric", ["cart"]), vec!["cart"]);
        let aws = [
            "f_AWS::Lambda",
            "f_AWS::Lambda::Function",
            "amazon.com_remote",
            "www.amazon.com_remote",
        ];
        let m = mentioned("It calls f_AWS::Lambda::Function and www.amazon.com_remote.", aws);
        assert_eq!(m, vec!["f_AWS::Lambda::Function", "www.amazon.com_remote"]);
        let m = mentioned("It is called by f_AWS::Lambda, which calls amazon.com_remote.", aws);
        assert_eq!(m, vec!["f_AWS::Lambda", "amazon.com_remote"]);
    }

    #[test]
    fn builtin_docs_cover_every_service_and_stubs_otherwise() {
        let sys = builtin("online-boutique").unwrap();
        let docs = ComponentDocs::builtin(&sys).unwrap().unwrap();
        assert_eq!(docs.docs().len(), 11);
        assert!(docs.warnings.is_empty(), "{:?}", docs.warnings);
        let stub = ComponentDocs::from_spec(&sys);
        assert!(stub.get("cartservice").unwrap().text.contains("Redis"));
        let bad = ComponentDoc {
            component: "frontend".into(),
            origin: "x.md".into(),
            text: "# nope\n".into(),
        };
        let e = ComponentDocs::from_list(&sys, vec![bad]).unwrap_err().to_string();
        assert!(e.contains("x.md") && e.contains("# frontend"), "{e}");
    }
}
