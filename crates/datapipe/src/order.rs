//! Reordering: which operator orders the constraints allow, and the cheapest of them.
//!
//! Constraints (cedar's): a `fixed` operator keeps its position (the source always does); an
//! operator that `depends_on` a tag stays downstream of the operator carrying that tag.
//! Movable operators move only within the segment between two fixed operators. An order's
//! cost is the sum of its operators' costs, each scaled by the input size the operators
//! before it leave (`Pipeline::costs`).

use simcore::InputError;

use crate::pipeline::Pipeline;

/// Most orders [`cheapest_order`] visits before it settles for the best found so far.
pub const MAX_ORDERS_VISITED: usize = 200_000;

/// Checks tags and dependencies: known tags, no cycles, and the given order obeys them.
pub fn check_constraints(p: &Pipeline, source: &str) -> Result<(), InputError> {
    let n = p.ops.len();
    let mut tag_of = std::collections::BTreeMap::new();
    for (i, op) in p.ops.iter().enumerate() {
        if let Some(t) = &op.tag
            && tag_of.insert(t.as_str(), i).is_some()
        {
            return Err(InputError::at(
                format!("{source}[{i}] ({})", op.name),
                format!("tag `{t}` is used by two operators; tags must be unique"),
            ));
        }
    }
    // deps[i]: operators i must follow.
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, op) in p.ops.iter().enumerate() {
        for t in &op.depends_on {
            match tag_of.get(t.as_str()) {
                Some(&j) if j == i => {
                    return Err(InputError::at(
                        format!("{source}[{i}] ({})", op.name),
                        format!("depends on its own tag `{t}`"),
                    ));
                }
                Some(&j) => deps[i].push(j),
                None => {
                    let tags: Vec<&str> = tag_of.keys().copied().collect();
                    return Err(InputError::at(
                        format!("{source}[{i}] ({})", op.name),
                        format!(
                            "depends_on `{t}`, which no operator carries; tags: {}",
                            if tags.is_empty() { "none".to_string() } else { tags.join(", ") }
                        ),
                    ));
                }
            }
        }
    }
    // Cycle check (depth-first, colours).
    let mut state = vec![0u8; n];
    fn visit(i: usize, deps: &[Vec<usize>], state: &mut [u8], path: &mut Vec<usize>) -> bool {
        state[i] = 1;
        path.push(i);
        for &j in &deps[i] {
            if state[j] == 1 || (state[j] == 0 && visit(j, deps, state, path)) {
                if state[j] == 1 {
                    path.push(j);
                }
                return true;
            }
        }
        path.pop();
        state[i] = 2;
        false
    }
    for i in 0..n {
        let mut path = Vec::new();
        if state[i] == 0 && visit(i, &deps, &mut state, &mut path) {
            let names: Vec<&str> = path.iter().map(|&k| p.ops[k].name.as_str()).collect();
            return Err(InputError::at(
                source.to_string(),
                format!("the depends_on constraints form a cycle: {}", names.join(" -> ")),
            ));
        }
    }
    for (i, d) in deps.iter().enumerate() {
        for &j in d {
            if j > i {
                return Err(InputError::at(
                    format!("{source}[{i}] ({})", p.ops[i].name),
                    format!(
                        "depends on `{}` but comes before it; put it after that operator",
                        p.ops[j].name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Whether `order` (a permutation of the operators) obeys the constraints.
pub fn is_valid(p: &Pipeline, order: &[usize]) -> bool {
    let n = p.ops.len();
    if order.len() != n {
        return false;
    }
    let mut pos = vec![usize::MAX; n];
    for (k, &i) in order.iter().enumerate() {
        if i >= n || pos[i] != usize::MAX {
            return false;
        }
        pos[i] = k;
    }
    for (i, op) in p.ops.iter().enumerate() {
        if op.fixed && pos[i] != i {
            return false;
        }
        for t in &op.depends_on {
            if let Some(j) = p.ops.iter().position(|o| o.tag.as_deref() == Some(t.as_str()))
                && pos[j] > pos[i]
            {
                return false;
            }
        }
    }
    // Movable operators stay within their segment between fixed operators.
    let segment = |k: usize| p.ops[..=k].iter().filter(|o| o.fixed).count();
    order.iter().enumerate().all(|(k, &i)| segment(k) == segment(i))
}

/// The cheapest valid order (ties: the one found first, which prefers the given order's
/// operators earlier), with how many complete orders were compared. Branch and bound:
/// costs are never negative, so a prefix that already costs more than the best is dropped.
pub fn cheapest_order(p: &Pipeline) -> (Vec<usize>, usize) {
    let n = p.ops.len();
    let mut search = Search {
        p,
        deps: dependency_lists(p),
        best: p.given_order(),
        best_cost: p.total_cost(&p.given_order()),
        visited: 0,
        placed: vec![false; n],
        order: Vec::with_capacity(n),
    };
    search.extend(0.0, 0.0);
    (search.best, search.visited.max(1))
}

/// Every valid order, up to `limit` of them (for tests and small pipelines).
pub fn valid_orders(p: &Pipeline, limit: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let deps = dependency_lists(p);
    let mut order = Vec::new();
    let mut placed = vec![false; p.ops.len()];
    fn rec(
        p: &Pipeline,
        deps: &[Vec<usize>],
        order: &mut Vec<usize>,
        placed: &mut [bool],
        out: &mut Vec<Vec<usize>>,
        limit: usize,
    ) {
        if out.len() >= limit {
            return;
        }
        let k = order.len();
        if k == p.ops.len() {
            out.push(order.clone());
            return;
        }
        for i in candidates(p, deps, placed, k) {
            placed[i] = true;
            order.push(i);
            rec(p, deps, order, placed, out, limit);
            order.pop();
            placed[i] = false;
        }
    }
    rec(p, &deps, &mut order, &mut placed, &mut out, limit);
    out
}

fn dependency_lists(p: &Pipeline) -> Vec<Vec<usize>> {
    p.ops
        .iter()
        .map(|op| {
            op.depends_on
                .iter()
                .filter_map(|t| p.ops.iter().position(|o| o.tag.as_deref() == Some(t.as_str())))
                .collect()
        })
        .collect()
}

/// Operators that may go at position `k` given what is placed.
fn candidates(p: &Pipeline, deps: &[Vec<usize>], placed: &[bool], k: usize) -> Vec<usize> {
    if p.ops[k].fixed {
        // A fixed operator's slot: only it (its dependencies are upstream, checked at load).
        return if deps[k].iter().all(|&j| placed[j]) { vec![k] } else { Vec::new() };
    }
    // Segment of slot k: operators between the fixed one before k and the fixed one after.
    let lo = (0..k).rev().find(|&j| p.ops[j].fixed).map_or(0, |j| j + 1);
    let hi = (k..p.ops.len()).find(|&j| p.ops[j].fixed).unwrap_or(p.ops.len());
    (lo..hi).filter(|&i| !placed[i] && deps[i].iter().all(|&j| placed[j])).collect()
}

struct Search<'a> {
    p: &'a Pipeline,
    deps: Vec<Vec<usize>>,
    best: Vec<usize>,
    best_cost: f64,
    visited: usize,
    placed: Vec<bool>,
    order: Vec<usize>,
}

impl Search<'_> {
    fn extend(&mut self, cost: f64, bytes: f64) {
        if self.visited >= MAX_ORDERS_VISITED {
            return;
        }
        let k = self.order.len();
        if k == self.p.ops.len() {
            self.visited += 1;
            if cost < self.best_cost * (1.0 - 1e-12) {
                self.best_cost = cost;
                self.best = self.order.clone();
            }
            return;
        }
        for i in candidates(self.p, &self.deps, &self.placed, k) {
            let op = &self.p.ops[i];
            let c = cost + op.cost_at(bytes);
            if c >= self.best_cost * (1.0 - 1e-12) && k + 1 < self.p.ops.len() {
                continue;
            }
            self.placed[i] = true;
            self.order.push(i);
            self.extend(c, op.out_at(bytes));
            self.order.pop();
            self.placed[i] = false;
        }
    }
}
