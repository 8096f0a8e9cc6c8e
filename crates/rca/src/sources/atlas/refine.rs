//! Atlas's data-driven refinement: the documentation-built graph is checked against the
//! normal period's telemetry with Fisher-z conditional-independence tests. Atlas refines
//! its LLM-built graph with Markov-blanket discovery and a data-driven validation step
//! (arXiv 2407.08694; only its summaries were available): the two rules below are this
//! project's reading of that, not its published algorithm.
//!
//! Metrics Fisher-z cannot test (constant or linearly dependent, [`crate::sources::clean`])
//! keep whatever edges the documentation gave them: the data say nothing about them.
//!
//! 1. **Prune.** For each proposed edge `a -> b` (an undirected `a - b` is tested alike),
//!    with S = the other proposed parents of b (of either end, for an undirected edge)
//!    that can be tested: if `a ⟂ b | S` has p > `alpha`, the edge goes. Every test is run
//!    against the proposed graph (not one already pruned), so the result does not depend
//!    on the order of the edges. A test that cannot run (too few samples for S) keeps the
//!    edge and counts as untested.
//! 2. **Add.** Candidates are the pairs of testable metrics that are not adjacent after
//!    pruning and belong to one component, or to two components that call one another in
//!    the *traces* (the system's call graph, which an operator has from tracing, not from
//!    the documentation). A candidate is oriented `u -> v` by the domain rules' flow (within
//!    a component by role: load, cpu, latency, tail, memory, errors; across a call, from the
//!    caller when the caller's metric is a load, else from the callee); pairs whose roles
//!    cannot be told, or are equal within one component, are left out. If u is not already
//!    in v's Markov blanket in the pruned graph (parents, children, children's other
//!    parents) and `u ⟂ v | MB(v)` has p < `add_alpha` (a much stricter level: "strongly
//!    supported"), `u -> v` is added — unless it would close a directed cycle. Candidates
//!    are visited in index order; the tests use the pruned graph's blankets, the cycle check
//!    the graph as it grows.

use crate::ci::CiTest;
use crate::data::DataMatrix;
use crate::error::RcaError;
use crate::fisher_z::FisherZ;
use crate::graph::{CausalGraph, Edge};
use crate::sources::SourceError;
use crate::sources::atlas::rules::{Role, role_of_name};
use crate::sources::clean::{Cleaned, clean};

/// What the refinement did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RefineReport {
    /// Edges removed (cause, effect) as the documentation gave them.
    pub pruned: Vec<(String, String)>,
    /// Edges added (cause, effect).
    pub added: Vec<(String, String)>,
    /// Proposed edges kept without a test (an end untestable, or too few samples).
    pub untested: usize,
    /// Tests run.
    pub tests: usize,
    /// Additions skipped because they would close a directed cycle.
    pub cycles_avoided: usize,
}

struct Tester {
    cleaned: Cleaned,
    fz: Option<FisherZ>,
    samples: usize,
    tests: usize,
}

impl Tester {
    /// The p-value of `a ⟂ b | s` over original column indices; `None` when it cannot be
    /// run (an untestable variable, too few samples, a singular submatrix).
    fn p(&mut self, a: usize, b: usize, s: &[usize]) -> Result<Option<f64>, RcaError> {
        let (Some(fz), Some(x), Some(y)) =
            (self.fz.as_mut(), self.cleaned.position(a), self.cleaned.position(b))
        else {
            return Ok(None);
        };
        let cond: Vec<usize> = s.iter().filter_map(|&j| self.cleaned.position(j)).collect();
        if self.samples <= cond.len() + 3 {
            return Ok(None);
        }
        self.tests += 1;
        match fz.p_value(x, y, &cond) {
            Ok(p) => Ok(Some(p)),
            Err(RcaError::SingularCorrelation { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn component(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(c, _)| c)
}

/// How two metrics' components relate in the traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Same,
    CallerToCallee,
    CalleeToCaller,
}

/// Whether the domain rules ([`super::rules`]) have an edge of this kind.
fn rule_allows(cause: Role, effect: Role, rel: Relation) -> bool {
    use Role::*;
    match rel {
        Relation::Same => matches!(
            (cause, effect),
            (Load, Cpu)
                | (Cpu, Latency)
                | (Cpu, Tail)
                | (Load, Memory)
                | (Latency, Memory)
                | (Memory, Errors)
                | (Tail, Errors)
        ),
        Relation::CallerToCallee => (cause, effect) == (Load, Load),
        Relation::CalleeToCaller => matches!(
            (cause, effect),
            (Latency, Latency) | (Latency, Tail) | (Tail, Tail) | (Errors, Errors) | (Errors, Tail)
        ),
    }
}

/// Orients a candidate pair (see the module docs); `None` leaves it out.
fn orient(
    names: &[String],
    calls: &[(String, String)],
    u: usize,
    v: usize,
    typed: bool,
) -> Option<(usize, usize)> {
    let (cu, cv) = (component(&names[u]), component(&names[v]));
    let (ru, rv) = (role_of_name(&names[u])?, role_of_name(&names[v])?);
    let relation = |a: &str, b: &str| {
        if a == b {
            Some(Relation::Same)
        } else if calls.iter().any(|(c, s)| c == a && s == b) {
            Some(Relation::CallerToCallee)
        } else if calls.iter().any(|(c, s)| c == b && s == a) {
            Some(Relation::CalleeToCaller)
        } else {
            None
        }
    };
    let rel_uv = relation(cu, cv)?;
    if typed {
        let rel_vu = relation(cv, cu)?;
        return if rule_allows(ru, rv, rel_uv) {
            Some((u, v))
        } else if rule_allows(rv, ru, rel_vu) {
            Some((v, u))
        } else {
            None
        };
    }
    match rel_uv {
        Relation::Same => match ru.rank().cmp(&rv.rank()) {
            std::cmp::Ordering::Less => Some((u, v)),
            std::cmp::Ordering::Greater => Some((v, u)),
            std::cmp::Ordering::Equal => None,
        },
        // From the caller when its metric is a load, else from the callee.
        Relation::CallerToCallee => Some(if ru == Role::Load { (u, v) } else { (v, u) }),
        Relation::CalleeToCaller => Some(if rv == Role::Load { (v, u) } else { (u, v) }),
    }
}

fn blanket(g: &CausalGraph, v: usize) -> Vec<usize> {
    let mut mb: Vec<usize> = g.adjacent(v);
    for c in g.children(v) {
        mb.extend(g.parents(c));
    }
    mb.retain(|&x| x != v);
    mb.sort_unstable();
    mb.dedup();
    mb
}

/// Refines `proposed` (over `data`'s names) with the telemetry `data` (see the module docs);
/// `calls` are the traces' (caller, callee) component pairs.
pub fn refine(
    proposed: &CausalGraph,
    data: &DataMatrix,
    calls: &[(String, String)],
    alpha: f64,
    add_alpha: f64,
    typed: bool,
) -> Result<(CausalGraph, RefineReport), SourceError> {
    let names = data.names().to_vec();
    let cleaned = clean(data)?;
    let fz = match &cleaned.data {
        Some(d) => Some(FisherZ::new(d)?),
        None => None,
    };
    let mut t = Tester { cleaned, fz, samples: data.samples(), tests: 0 };
    let mut report = RefineReport::default();
    let mut g = proposed.clone();
    for e in proposed.edges() {
        let (a, b, mut s) = match e {
            Edge::Directed { from, to } => (from, to, proposed.parents(to)),
            Edge::Undirected { a, b } => {
                let mut s = proposed.parents(a);
                s.extend(proposed.parents(b));
                (a, b, s)
            }
        };
        s.retain(|&x| x != a && x != b);
        s.sort_unstable();
        s.dedup();
        match t.p(a, b, &s)? {
            Some(p) if p > alpha => {
                g.remove_edge(a, b)?;
                report.pruned.push((names[a].clone(), names[b].clone()));
            }
            Some(_) => {}
            None => report.untested += 1,
        }
    }
    let pruned = g.clone();
    let related = |u: usize, v: usize| {
        let (cu, cv) = (component(&names[u]), component(&names[v]));
        cu == cv || calls.iter().any(|(c, s)| (c == cu && s == cv) || (c == cv && s == cu))
    };
    let n = names.len();
    for u in 0..n {
        for v in (u + 1)..n {
            if pruned.is_adjacent(u, v) || !related(u, v) {
                continue;
            }
            let Some((cause, effect)) = orient(&names, calls, u, v, typed) else { continue };
            let mb = blanket(&pruned, effect);
            if mb.contains(&cause) {
                continue;
            }
            if let Some(p) = t.p(cause, effect, &mb)?
                && p < add_alpha
            {
                if g.descendants(effect).contains(&cause) {
                    report.cycles_avoided += 1;
                    continue;
                }
                g.add_directed(cause, effect)?;
                report.added.push((names[cause].clone(), names[effect].clone()));
            }
        }
    }
    report.tests = t.tests;
    Ok((g, report))
}
