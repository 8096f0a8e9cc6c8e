//! The trace of a world: where every agent is at every step, and the LLM calls each agent
//! makes in each step. It is what every engine replays, so all engines see the same world.
//!
//! Time `t` is the state after `t` steps; step `s` reads the world at time `s` and moves the
//! agent to its position at time `s + 1`. A trace of `steps` steps therefore holds
//! `steps + 1` positions per agent. The calls of one agent-step are in order; a call with
//! `after_previous` waits for the one before it (a chain of dependent prompts, as one agent's
//! perceive-retrieve-plan-act or a conversation's turns), the others start with the step.
//!
//! The file form (`write_jsonl` / `read_jsonl`) is JSON lines: a header
//! `{"mlsim_agent_trace": 1, "agents", "steps", "first_step", "step_s", "width", "height"}`,
//! then for every time `t` = 0, 1, ... one line `{"t": t, "xy": [x0, y0, x1, y1, ...]}` and,
//! after the positions of time `s`, the calls of step `s`, one a line
//! `{"step", "agent", "in", "out", "fn", "shared", "chain"}`.

use std::fmt::Write as _;

use serde_json::{Map, Value};
use simcore::InputError;

use crate::world::Pos;

/// One LLM call of an agent step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentCall {
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Generated tokens (at least 1).
    pub output_tokens: u32,
    /// Prompt template (agent function); calls of one function share its preamble.
    pub function: u16,
    /// Leading prompt tokens that are the function's fixed preamble (at most `input_tokens`).
    pub shared_tokens: u32,
    /// Waits for the previous call of the same agent-step.
    pub after_previous: bool,
}

/// A world's positions and calls (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct AgentTrace {
    agents: u32,
    steps: u32,
    /// World step of step 0 (the time of day: `first_step * step_s` seconds after midnight
    /// of the first day).
    pub first_step: u32,
    /// Seconds of world time per step.
    pub step_s: f64,
    /// Grid width in tiles.
    pub width: u16,
    /// Grid height in tiles.
    pub height: u16,
    /// `(steps + 1) x agents`, by time.
    positions: Vec<Pos>,
    /// `steps x agents + 1` offsets into `calls`, by step then agent.
    offsets: Vec<u32>,
    calls: Vec<AgentCall>,
}

/// Builds a trace step by step: the positions of time 0, then for each step the calls of
/// every agent (in agent order) and the positions after it.
#[derive(Debug)]
pub struct TraceBuilder {
    trace: AgentTrace,
    /// Agent whose calls come next in the current step.
    next_agent: u32,
}

impl TraceBuilder {
    /// A trace of `agents` agents on a `width x height` grid starting at `start` (time 0).
    pub fn new(width: u16, height: u16, step_s: f64, first_step: u32, start: &[Pos]) -> Self {
        let agents = start.len() as u32;
        Self {
            trace: AgentTrace {
                agents,
                steps: 0,
                first_step,
                step_s,
                width,
                height,
                positions: start.to_vec(),
                offsets: vec![0],
                calls: Vec::new(),
            },
            next_agent: 0,
        }
    }

    /// Steps completed so far.
    pub fn steps(&self) -> u32 {
        self.trace.steps
    }

    /// Adds `calls` as agent `agent`'s calls in the current step; agents come in order, and
    /// one left out makes no call.
    ///
    /// # Panics
    /// If `agent` is out of order.
    pub fn calls(&mut self, agent: u32, calls: &[AgentCall]) {
        assert!(agent >= self.next_agent && agent < self.trace.agents, "agents in order");
        while self.next_agent < agent {
            self.close_agent();
        }
        self.trace.calls.extend_from_slice(calls);
    }

    fn close_agent(&mut self) {
        self.trace.offsets.push(self.trace.calls.len() as u32);
        self.next_agent += 1;
    }

    /// Ends the current step with every agent's position after it.
    ///
    /// # Panics
    /// If `after` does not have one position per agent.
    pub fn end_step(&mut self, after: &[Pos]) {
        assert_eq!(after.len(), self.trace.agents as usize, "one position per agent");
        while self.next_agent < self.trace.agents {
            self.close_agent();
        }
        self.next_agent = 0;
        self.trace.positions.extend_from_slice(after);
        self.trace.steps += 1;
    }

    /// The trace (a step begun but not ended is dropped).
    pub fn finish(mut self) -> AgentTrace {
        let keep = self.trace.steps as usize * self.trace.agents as usize + 1;
        self.trace.offsets.truncate(keep);
        let end = *self.trace.offsets.last().expect("offset 0") as usize;
        self.trace.calls.truncate(end);
        self.trace
    }
}

impl AgentTrace {
    /// Agents.
    pub fn agents(&self) -> u32 {
        self.agents
    }

    /// Steps.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// Agent `a`'s position at time `t` (`0..=steps`).
    #[inline]
    pub fn pos(&self, t: u32, a: u32) -> Pos {
        self.positions[t as usize * self.agents as usize + a as usize]
    }

    /// Every agent's position at time `t`.
    pub fn positions_at(&self, t: u32) -> &[Pos] {
        let n = self.agents as usize;
        &self.positions[t as usize * n..(t as usize + 1) * n]
    }

    /// Index of agent `a`'s first call in step `s` (calls are numbered by step, agent, order).
    #[inline]
    pub fn first_call(&self, s: u32, a: u32) -> u32 {
        self.offsets[s as usize * self.agents as usize + a as usize]
    }

    /// Agent `a`'s calls in step `s`.
    #[inline]
    pub fn calls(&self, s: u32, a: u32) -> &[AgentCall] {
        let i = s as usize * self.agents as usize + a as usize;
        &self.calls[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Call number `i`.
    pub fn call(&self, i: u32) -> &AgentCall {
        &self.calls[i as usize]
    }

    /// Every call, by step, agent and order.
    pub fn all_calls(&self) -> &[AgentCall] {
        &self.calls
    }

    /// Calls in the hour-of-day bins `0..24` (by each step's time of day).
    pub fn calls_per_hour(&self) -> [u64; 24] {
        let mut h = [0u64; 24];
        let per_hour = (3600.0 / self.step_s).round().max(1.0) as u32;
        for s in 0..self.steps {
            let hour = ((self.first_step + s) / per_hour) % 24;
            for a in 0..self.agents {
                h[hour as usize] += self.calls(s, a).len() as u64;
            }
        }
        h
    }

    /// Checks what every engine relies on: positions on the grid and no agent moving more
    /// than `max_vel` tiles a step. The error names the time and agent.
    pub fn validate(&self, max_vel: u32) -> Result<(), String> {
        for t in 0..=self.steps {
            for a in 0..self.agents {
                let p = self.pos(t, a);
                if p.x >= self.width || p.y >= self.height {
                    return Err(format!(
                        "agent {a} at time {t} is at ({}, {}), off the {} x {} grid",
                        p.x, p.y, self.width, self.height
                    ));
                }
                if t > 0 {
                    let d = self.pos(t - 1, a).dist(p);
                    if d > max_vel {
                        return Err(format!(
                            "agent {a} moves {d} tiles in step {} (max_vel is {max_vel})",
                            t - 1
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// `copies` copies side by side along x (copy `k` shifted by `k x width`), as AI Metropolis
    /// scales SmallVille: agents of different copies are `width` tiles apart at least.
    /// `other(k)` gives copy `k`'s trace (`k >= 1`), which must have this one's shape; `None`
    /// repeats this one.
    pub fn tile(
        &self,
        copies: u32,
        mut other: impl FnMut(u32) -> Option<AgentTrace>,
    ) -> Result<AgentTrace, String> {
        if copies <= 1 {
            return Ok(self.clone());
        }
        let width = u32::from(self.width) * copies;
        let width = u16::try_from(width).map_err(|_| {
            format!("{copies} copies of a {}-tile world exceed 65,535 tiles", self.width)
        })?;
        let parts: Vec<AgentTrace> = (0..copies)
            .map(|k| if k == 0 { None } else { other(k) })
            .map(|t| t.unwrap_or_else(|| self.clone()))
            .collect();
        for p in &parts {
            if p.agents != self.agents || p.steps != self.steps || p.width != self.width {
                return Err("tiled copies must have the same agents, steps and width".into());
            }
        }
        let n = self.agents * copies;
        let mut b = TraceBuilder::new(
            width,
            self.height,
            self.step_s,
            self.first_step,
            &shifted(&parts, 0, self.width),
        );
        for s in 0..self.steps {
            for (k, p) in parts.iter().enumerate() {
                for a in 0..self.agents {
                    let c = p.calls(s, a);
                    if !c.is_empty() {
                        b.calls(k as u32 * self.agents + a, c);
                    }
                }
            }
            b.end_step(&shifted(&parts, s + 1, self.width));
        }
        let t = b.finish();
        debug_assert_eq!(t.agents, n);
        Ok(t)
    }

    /// The trace as JSON lines (module docs).
    pub fn write_jsonl(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{{\"mlsim_agent_trace\":1,\"agents\":{},\"steps\":{},\"first_step\":{},\"step_s\":{},\"width\":{},\"height\":{}}}",
            self.agents, self.steps, self.first_step, self.step_s, self.width, self.height
        );
        for t in 0..=self.steps {
            let _ = write!(out, "{{\"t\":{t},\"xy\":[");
            for (i, p) in self.positions_at(t).iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{},{}", p.x, p.y);
            }
            out.push_str("]}\n");
            if t == self.steps {
                break;
            }
            for a in 0..self.agents {
                for c in self.calls(t, a) {
                    let _ = writeln!(
                        out,
                        "{{\"step\":{t},\"agent\":{a},\"in\":{},\"out\":{},\"fn\":{},\"shared\":{},\"chain\":{}}}",
                        c.input_tokens,
                        c.output_tokens,
                        c.function,
                        c.shared_tokens,
                        c.after_previous
                    );
                }
            }
        }
        out
    }

    /// Reads the JSON-lines form of file `name`; every error names the file, line and field.
    pub fn read_jsonl(name: &str, text: &str) -> Result<AgentTrace, InputError> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let (i, head) = lines
            .next()
            .ok_or_else(|| InputError::data(name, 1, "empty file; expected a trace header"))?;
        let h = object(name, i + 1, head)?;
        let line = i + 1;
        if h.get("mlsim_agent_trace").and_then(Value::as_u64) != Some(1) {
            return Err(InputError::data(
                name,
                line,
                "not an agent trace: the first line must have \"mlsim_agent_trace\": 1",
            ));
        }
        let agents = uint(name, line, &h, "agents", 1, 1 << 20)? as u32;
        let steps = uint(name, line, &h, "steps", 0, u64::from(u32::MAX))? as u32;
        let first_step = uint(name, line, &h, "first_step", 0, u64::from(u32::MAX))? as u32;
        let width = uint(name, line, &h, "width", 1, u64::from(u16::MAX))? as u16;
        let height = uint(name, line, &h, "height", 1, u64::from(u16::MAX))? as u16;
        let step_s = h
            .get("step_s")
            .and_then(Value::as_f64)
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or_else(|| {
                InputError::data(name, line, "field `step_s`: a positive number of seconds")
            })?;
        let mut b: Option<TraceBuilder> = None;
        let mut cur_step: Option<u32> = None;
        let mut last_agent = 0u32;
        for (i, l) in lines {
            let line = i + 1;
            let o = object(name, line, l)?;
            if let Some(t) = o.get("t") {
                let t = t.as_u64().ok_or_else(|| {
                    InputError::data(name, line, "field `t`: a whole number (the time)")
                })?;
                let want = b.as_ref().map_or(0, |b| u64::from(b.steps()) + 1);
                if t != want {
                    return Err(InputError::data(
                        name,
                        line,
                        format!(
                            "field `t`: positions of time {want} expected next, found {t} (times go 0, 1, 2, ... without gaps or going back)"
                        ),
                    ));
                }
                let xy = o.get("xy").and_then(Value::as_array).ok_or_else(|| {
                    InputError::data(name, line, "field `xy`: an array [x0, y0, x1, y1, ...]")
                })?;
                if xy.len() != 2 * agents as usize {
                    return Err(InputError::data(
                        name,
                        line,
                        format!(
                            "field `xy`: {} numbers, expected 2 per agent ({})",
                            xy.len(),
                            2 * agents
                        ),
                    ));
                }
                let mut pos = Vec::with_capacity(agents as usize);
                for k in 0..agents as usize {
                    let c = |v: &Value| v.as_u64().filter(|&v| v <= u64::from(u16::MAX));
                    match (c(&xy[2 * k]), c(&xy[2 * k + 1])) {
                        (Some(x), Some(y)) if x < u64::from(width) && y < u64::from(height) => {
                            pos.push(Pos::new(x as u16, y as u16));
                        }
                        _ => {
                            return Err(InputError::data(
                                name,
                                line,
                                format!(
                                    "field `xy`: agent {k}'s position is not a tile of the {width} x {height} grid"
                                ),
                            ));
                        }
                    }
                }
                match b.as_mut() {
                    None => b = Some(TraceBuilder::new(width, height, step_s, first_step, &pos)),
                    Some(b) => b.end_step(&pos),
                }
                cur_step = None;
                last_agent = 0;
            } else if o.contains_key("step") {
                let Some(builder) = b.as_mut() else {
                    return Err(InputError::data(
                        name,
                        line,
                        "a call before the positions of time 0",
                    ));
                };
                let s = uint(name, line, &o, "step", 0, u64::from(u32::MAX))? as u32;
                if s != builder.steps() {
                    return Err(InputError::data(
                        name,
                        line,
                        format!(
                            "field `step`: {s}, but this line follows the positions of time {} (calls of step s come after the positions of time s; steps never go back)",
                            builder.steps()
                        ),
                    ));
                }
                if s >= steps {
                    return Err(InputError::data(
                        name,
                        line,
                        format!("field `step`: {s} is not below the header's {steps} steps"),
                    ));
                }
                let agent = uint(name, line, &o, "agent", 0, u64::from(agents) - 1)? as u32;
                if cur_step == Some(s) && agent < last_agent {
                    return Err(InputError::data(
                        name,
                        line,
                        format!(
                            "field `agent`: {agent} after agent {last_agent}; a step's calls come in agent order"
                        ),
                    ));
                }
                let input_tokens = uint(name, line, &o, "in", 1, u64::from(u32::MAX))? as u32;
                let output_tokens = uint(name, line, &o, "out", 1, u64::from(u32::MAX))? as u32;
                let function = uint(name, line, &o, "fn", 0, u64::from(u16::MAX))? as u16;
                let shared_tokens =
                    uint(name, line, &o, "shared", 0, u64::from(input_tokens))? as u32;
                let after_previous = o
                    .get("chain")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| InputError::data(name, line, "field `chain`: true or false"))?;
                builder.calls(
                    agent,
                    &[AgentCall {
                        input_tokens,
                        output_tokens,
                        function,
                        shared_tokens,
                        after_previous,
                    }],
                );
                cur_step = Some(s);
                last_agent = agent;
            } else {
                return Err(InputError::data(
                    name,
                    line,
                    "neither positions (`t`, `xy`) nor a call (`step`, `agent`, ...)",
                ));
            }
        }
        let b = b.ok_or_else(|| {
            InputError::data(name, 1, "no positions: the trace needs the positions of time 0")
        })?;
        if b.steps() != steps {
            return Err(InputError::data(
                name,
                1,
                format!(
                    "the header says {steps} steps but positions are given for {} (times 0 to {})",
                    b.steps(),
                    b.steps()
                ),
            ));
        }
        Ok(b.finish())
    }
}

fn shifted(parts: &[AgentTrace], t: u32, width: u16) -> Vec<Pos> {
    parts
        .iter()
        .enumerate()
        .flat_map(|(k, p)| {
            p.positions_at(t).iter().map(move |q| Pos::new(q.x + k as u16 * width, q.y))
        })
        .collect()
}

fn object(name: &str, line: usize, text: &str) -> Result<Map<String, Value>, InputError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(InputError::data(name, line, "not a JSON object")),
        Err(e) => Err(InputError::data(name, line, format!("not a JSON object: {e}"))),
    }
}

fn uint(
    name: &str,
    line: usize,
    o: &Map<String, Value>,
    field: &str,
    min: u64,
    max: u64,
) -> Result<u64, InputError> {
    o.get(field).and_then(Value::as_u64).filter(|v| (min..=max).contains(v)).ok_or_else(|| {
        InputError::data(name, line, format!("field `{field}`: a whole number from {min} to {max}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(i: u32, chain: bool) -> AgentCall {
        AgentCall {
            input_tokens: 100 + i,
            output_tokens: 5,
            function: 2,
            shared_tokens: 40,
            after_previous: chain,
        }
    }

    fn small() -> AgentTrace {
        let mut b = TraceBuilder::new(10, 6, 10.0, 4320, &[Pos::new(0, 0), Pos::new(5, 5)]);
        b.calls(1, &[call(0, false), call(1, true)]);
        b.end_step(&[Pos::new(1, 0), Pos::new(5, 4)]);
        b.calls(0, &[call(2, false)]);
        b.end_step(&[Pos::new(1, 1), Pos::new(4, 4)]);
        b.finish()
    }

    #[test]
    fn builder_indexes_calls_by_step_and_agent() {
        let t = small();
        assert_eq!((t.agents(), t.steps()), (2, 2));
        assert!(t.calls(0, 0).is_empty());
        assert_eq!(t.calls(0, 1), &[call(0, false), call(1, true)]);
        assert_eq!(t.calls(1, 0), &[call(2, false)]);
        assert!(t.calls(1, 1).is_empty());
        assert_eq!((t.first_call(1, 0), t.first_call(1, 1)), (2, 3));
        assert_eq!(t.pos(2, 1), Pos::new(4, 4));
        assert_eq!(t.calls_per_hour()[12], 3);
        t.validate(1).unwrap();
    }

    #[test]
    fn jsonl_round_trips() {
        let t = small();
        let text = t.write_jsonl();
        assert_eq!(AgentTrace::read_jsonl("t.jsonl", &text).unwrap(), t);
    }

    #[test]
    fn bad_traces_name_line_and_field() {
        let text = small().write_jsonl();
        let lines: Vec<&str> = text.lines().collect();
        // Swap the calls of step 1 before the positions of time 1: the step goes back.
        let mut back = lines.clone();
        back.swap(4, 5);
        let e = AgentTrace::read_jsonl("t.jsonl", &back.join("\n")).unwrap_err().to_string();
        assert!(e.contains("t.jsonl") && e.contains("step"), "{e}");
        let off = text.replace("\"xy\":[0,0,5,5]", "\"xy\":[0,0,50,5]");
        let e = AgentTrace::read_jsonl("t.jsonl", &off).unwrap_err().to_string();
        assert!(e.contains(":2") && e.contains("agent 1") && e.contains("grid"), "{e}");
        let e = AgentTrace::read_jsonl("t.jsonl", "{\"x\":1}").unwrap_err().to_string();
        assert!(e.contains("mlsim_agent_trace"), "{e}");
        let fast = small();
        assert!(fast.validate(0).unwrap_err().contains("moves 1 tiles in step 0"));
    }

    #[test]
    fn tiles_side_by_side() {
        let t = small();
        let w = t.tile(3, |_| None).unwrap();
        assert_eq!((w.agents(), w.steps(), w.width), (6, 2, 30));
        assert_eq!(w.pos(1, 5), Pos::new(25, 4));
        assert_eq!(w.calls(0, 3), t.calls(0, 1));
        assert_eq!(w.all_calls().len(), 3 * t.all_calls().len());
        w.validate(1).unwrap();
    }
}
