//! A seeded generator of SmallVille days: where each resident walks, when two meet and talk,
//! and the LLM calls of every agent-step, calibrated to the published call counts
//! ([`crate::calls`]).
//!
//! Movement (assumptions, each a [`TownSpec`] value): resident `i` of SmallVille's 25 starts
//! and sleeps on its recorded start tile (its bed); it wakes at a uniform time in
//! `wake_hour` and goes to bed at a uniform time in `sleep_hour`. Awake, it walks to a place
//! (an arena of the map, [`SmallvilleMap::places`]) at one tile a step in a straight line
//! (Chebyshev steps; walls are not routed around), stays a uniform `dwell_min` minutes, and
//! picks the next place; in the 12-1 pm hour a share `noon_gathering` of choices go to Hobbs
//! Cafe, SmallVille's lunch place, so the busy hour is also the crowded one. Two awake agents
//! within `radius_p` tiles start a conversation with probability `conversation_prob` per step
//! unless either talked in the last `conversation_cooldown_min` minutes; the conversation's
//! lines are chained calls in the initiator's step.
//!
//! Calls: every agent-step gets its world events' calls (the day's plan when the agent wakes
//! up, conversations; activity changes and chats in a replay, [`crate::replay`]) and then,
//! if the agent is awake, with probability `p_h` a background episode, where `p_h` makes the
//! hour's expected calls equal the profile: `p_h = max(0, target_h - event calls_h) /
//! (chain_mean x awake agent-steps_h)` ([`fill_calls`]; an hour with nobody awake spreads its
//! calls over all agents).

use serde::{Deserialize, Serialize};
use simcore::{InputError, RandomStreams, StreamRng};

use crate::calls::{CallShape, HourlyCalls, PROFILE_AGENTS};
use crate::smallville::{Persona, Place, SmallvilleMap};
use crate::trace::{AgentCall, AgentTrace, TraceBuilder};
use crate::world::{Pos, STEP_SECS, STEPS_PER_DAY};

/// Steps per hour.
pub const STEPS_PER_HOUR: u32 = 360;

/// How the generated residents live (module docs; all assumptions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TownSpec {
    /// Waking time, hours after midnight: uniform in `[from, to)`.
    pub wake_hour: [f64; 2],
    /// Bed time, hours after midnight (past 24: after midnight of the next day, so the
    /// agent is awake at the start of the day too).
    pub sleep_hour: [f64; 2],
    /// Minutes spent at a place: uniform in `[from, to)`.
    pub dwell_min: [f64; 2],
    /// Share of place choices in the 12-1 pm hour that go to Hobbs Cafe.
    pub noon_gathering: f64,
    /// Share of other place choices that are a room of the agent's own home (its
    /// `living_area`'s sector); the rest are public places.
    pub home_share: f64,
    /// SmallVille's public buildings (sectors of the map); every arena in them is a public
    /// place.
    pub public_places: Vec<String>,
    /// Chance per step that two awake agents in perception range start talking.
    pub conversation_prob: f64,
    /// Minutes after a conversation before either agent starts another.
    pub conversation_cooldown_min: f64,
}

impl Default for TownSpec {
    fn default() -> Self {
        Self {
            wake_hour: [5.5, 8.5],
            sleep_hour: [22.0, 24.5],
            dwell_min: [30.0, 120.0],
            noon_gathering: 0.5,
            home_share: 0.35,
            public_places: [
                "Hobbs Cafe",
                "Johnson Park",
                "Harvey Oak Supply Store",
                "Oak Hill College",
                "The Rose and Crown Pub",
                "The Willows Market and Pharmacy",
            ]
            .map(String::from)
            .to_vec(),
            conversation_prob: 0.02,
            conversation_cooldown_min: 60.0,
        }
    }
}

impl TownSpec {
    /// Checks every value; errors name `field.<name>`.
    pub fn validate(&self, field: &str) -> Result<(), InputError> {
        let bad = |n: &str, what: &str| InputError::at(format!("{field}.{n}"), what.to_string());
        let range = |r: [f64; 2], lo: f64, hi: f64| {
            r[0].is_finite() && r[1].is_finite() && lo <= r[0] && r[0] <= r[1] && r[1] <= hi
        };
        if !range(self.wake_hour, 0.0, 24.0) {
            return Err(bad("wake_hour", "[from, to] hours with 0 <= from <= to <= 24"));
        }
        if !range(self.sleep_hour, 0.0, 48.0) || self.sleep_hour[0] < self.wake_hour[1] {
            return Err(bad(
                "sleep_hour",
                "[from, to] hours after the latest waking time, at most 48",
            ));
        }
        if !range(self.dwell_min, 0.0, 1440.0) || self.dwell_min[1] <= 0.0 {
            return Err(bad("dwell_min", "[from, to] minutes, 0 <= from <= to <= 1440, to > 0"));
        }
        for (n, v) in [
            ("noon_gathering", self.noon_gathering),
            ("home_share", self.home_share),
            ("conversation_prob", self.conversation_prob),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(bad(n, "a probability from 0 to 1"));
            }
        }
        if !(self.conversation_cooldown_min >= 0.0 && self.conversation_cooldown_min.is_finite()) {
            return Err(bad("conversation_cooldown_min", "a non-negative number of minutes"));
        }
        Ok(())
    }
}

/// The span of a day to simulate: `hours` hours from `start_hour`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    /// First step (steps after midnight).
    pub first: u32,
    /// Steps.
    pub steps: u32,
}

impl Span {
    /// `hours` from `start_hour`, within one day; errors name `field`.
    pub fn of_hours(start_hour: f64, hours: f64, field: &str) -> Result<Self, InputError> {
        let ok = start_hour.is_finite()
            && hours.is_finite()
            && start_hour >= 0.0
            && hours > 0.0
            && start_hour + hours <= 24.0 + 1e-9;
        if !ok {
            return Err(InputError::at(
                field,
                format!(
                    "start_hour {start_hour} and hours {hours}: a span of at least one step within one day (0 <= start_hour, start_hour + hours <= 24)"
                ),
            ));
        }
        let first = (start_hour * f64::from(STEPS_PER_HOUR)).round() as u32;
        let steps =
            ((hours * f64::from(STEPS_PER_HOUR)).round() as u32).max(1).min(STEPS_PER_DAY - first);
        Ok(Self { first, steps })
    }
}

/// What a resident is doing.
#[derive(Clone, Copy, Debug)]
enum Doing {
    Asleep,
    Walking(Pos),
    Staying(u32),
}

struct Resident {
    home: Pos,
    pos: Pos,
    wake: u32,
    sleep: u32,
    doing: Doing,
    free_from: u32,
}

/// One generated day of `personas.len()` residents over `span`; conversations use
/// `radius_p`. Returns the positions of times `span.first ..= span.first + span.steps` and
/// the event calls (conversations) of each agent-step, by step then agent.
fn walk_day(
    town: &TownSpec,
    shape: &CallShape,
    map: &SmallvilleMap,
    personas: &[Persona],
    radius_p: u32,
    span: Span,
    rng: &mut StreamRng,
) -> Day {
    let places: Vec<Place> = map.places();
    let sector = |name: &str| name.split(':').next().unwrap_or("").trim().to_string();
    let public: Vec<usize> = (0..places.len())
        .filter(|&i| town.public_places.iter().any(|p| sector(&places[i].name) == *p))
        .collect();
    let public = if public.is_empty() { (0..places.len()).collect() } else { public };
    let cafe = places
        .iter()
        .position(|p| p.name.to_lowercase().contains("hobbs cafe"))
        .unwrap_or(public[0]);
    // Each resident's home rooms: the arenas of its living area's sector.
    let homes: Vec<Vec<usize>> = personas
        .iter()
        .map(|p| {
            let own = p.home_place().map(|h| sector(&h)).unwrap_or_default();
            (0..places.len()).filter(|&i| sector(&places[i].name) == own).collect()
        })
        .collect();
    let hour_steps = |h: f64| (h * f64::from(STEPS_PER_HOUR)).round() as u32;
    let uniform = |rng: &mut StreamRng, r: [f64; 2]| r[0] + (r[1] - r[0]) * rng.next_f64();
    let mut people: Vec<Resident> = personas
        .iter()
        .map(|p| {
            let wake = hour_steps(uniform(rng, town.wake_hour));
            let sleep = hour_steps(uniform(rng, town.sleep_hour));
            Resident { home: p.home, pos: p.home, wake, sleep, doing: Doing::Asleep, free_from: 0 }
        })
        .collect();
    let cooldown = (town.conversation_cooldown_min * 60.0 / STEP_SECS).round() as u32;
    let end = span.first + span.steps;
    let mut positions = Vec::with_capacity(span.steps as usize + 1);
    let mut events: Vec<Vec<Vec<AgentCall>>> = Vec::with_capacity(span.steps as usize);
    let mut awake: Vec<Vec<bool>> = Vec::with_capacity(span.steps as usize);
    for t in 0..end {
        if t >= span.first {
            if t == span.first {
                positions.push(people.iter().map(|r| r.pos).collect());
            }
            awake.push(people.iter().map(|r| r.awake_at(t)).collect());
            let mut calls: Vec<Vec<AgentCall>> = vec![Vec::new(); people.len()];
            // Waking up: the day's plan, one chain (Generative Agents' long-term planning).
            for (i, r) in people.iter().enumerate() {
                if matches!(r.doing, Doing::Asleep) && r.awake_at(t) {
                    shape.plan(rng, &mut calls[i]);
                }
            }
            for i in 0..people.len() {
                for j in i + 1..people.len() {
                    let (a, b) = (&people[i], &people[j]);
                    let awake = |r: &Resident| !matches!(r.doing, Doing::Asleep);
                    if awake(a)
                        && awake(b)
                        && a.free_from <= t
                        && b.free_from <= t
                        && a.pos.dist(b.pos) <= radius_p
                        && rng.next_f64() < town.conversation_prob
                    {
                        let lines = shape.conversation_lines(rng);
                        shape.conversation(rng, lines, &mut calls[i]);
                        people[i].free_from = t + cooldown;
                        people[j].free_from = t + cooldown;
                    }
                }
            }
            events.push(calls);
        }
        // Step t: every resident moves to its position at time t + 1.
        let hour = t / STEPS_PER_HOUR;
        for (i, r) in people.iter_mut().enumerate() {
            if !r.awake_at(t) {
                if r.pos == r.home {
                    r.doing = Doing::Asleep;
                } else {
                    r.pos = toward(r.pos, r.home);
                    r.doing = Doing::Walking(r.home);
                }
                continue;
            }
            r.doing = match r.doing {
                Doing::Staying(until) if t < until => Doing::Staying(until),
                Doing::Walking(target) if r.pos != target => {
                    r.pos = toward(r.pos, target);
                    Doing::Walking(target)
                }
                Doing::Walking(_) => {
                    let dwell = uniform(rng, town.dwell_min) * 60.0 / STEP_SECS;
                    Doing::Staying(t + dwell.round().max(1.0) as u32)
                }
                Doing::Asleep | Doing::Staying(_) => {
                    let p = if hour == 12 && rng.next_f64() < town.noon_gathering {
                        cafe
                    } else if !homes[i].is_empty() && rng.next_f64() < town.home_share {
                        homes[i][rng.below(homes[i].len() as u64) as usize]
                    } else {
                        public[rng.below(public.len() as u64) as usize]
                    };
                    let tiles = &places[p].tiles;
                    let target = tiles[rng.below(tiles.len() as u64) as usize];
                    Doing::Walking(target)
                }
            };
        }
        if t >= span.first {
            positions.push(people.iter().map(|r| r.pos).collect());
        }
    }
    Day { positions, events, awake }
}

/// What [`walk_day`] gives: positions of times `span.first ..=`, each agent-step's event
/// calls, and whether each agent is awake in each step.
struct Day {
    positions: Vec<Vec<Pos>>,
    events: Vec<Vec<Vec<AgentCall>>>,
    awake: Vec<Vec<bool>>,
}

impl Resident {
    /// Whether it is up during step `t` (a bed time past midnight keeps it up at the start
    /// of the day too).
    fn awake_at(&self, t: u32) -> bool {
        if self.sleep >= STEPS_PER_DAY {
            t >= self.wake || t < self.sleep - STEPS_PER_DAY
        } else {
            t >= self.wake && t < self.sleep
        }
    }
}

/// One tile from `from` toward `to` (diagonal when both coordinates differ).
fn toward(from: Pos, to: Pos) -> Pos {
    let step = |a: u16, b: u16| match a.cmp(&b) {
        std::cmp::Ordering::Less => a + 1,
        std::cmp::Ordering::Greater => a - 1,
        std::cmp::Ordering::Equal => a,
    };
    Pos::new(step(from.x, to.x), step(from.y, to.y))
}

/// Builds the trace from positions (times `span.first ..=`) and each agent-step's event
/// calls, adding background episodes so each hour's expected calls meet `hourly` (scaled to
/// the agent count). Episodes fall on the agent-steps `active` marks (awake agents), or on
/// every agent-step of an hour in which none is marked or when `active` is `None`.
#[allow(clippy::too_many_arguments)]
pub fn fill_calls(
    width: u16,
    height: u16,
    span: Span,
    positions: &[Vec<Pos>],
    mut events: Vec<Vec<Vec<AgentCall>>>,
    active: Option<&[Vec<bool>]>,
    shape: &CallShape,
    hourly: &HourlyCalls,
    rng: &mut StreamRng,
) -> AgentTrace {
    let agents = positions[0].len();
    let scale = agents as f64 / PROFILE_AGENTS;
    let hour_of = |k: usize| ((span.first + k as u32) / STEPS_PER_HOUR % 24) as usize;
    let on = |k: usize, a: usize| active.is_none_or(|m| m[k][a]);
    // Agent-steps (all, and active ones) and event calls per hour of the span.
    let mut agent_steps = [0f64; 24];
    let mut active_steps = [0f64; 24];
    let mut event_calls = [0f64; 24];
    for (k, step) in events.iter().enumerate() {
        let h = hour_of(k);
        agent_steps[h] += agents as f64;
        active_steps[h] += (0..agents).filter(|&a| on(k, a)).count() as f64;
        event_calls[h] += step.iter().map(|c| c.len() as f64).sum::<f64>();
    }
    let every = |h: usize| active_steps[h] == 0.0;
    let p: Vec<f64> = (0..24)
        .map(|h| {
            // Only the part of the hour inside the span.
            let share = agent_steps[h] / (agents as f64 * f64::from(STEPS_PER_HOUR));
            let want = hourly.0[h] * scale * share - event_calls[h];
            let over = if every(h) { agent_steps[h] } else { active_steps[h] };
            if over == 0.0 { 0.0 } else { (want.max(0.0) / (shape.chain_mean * over)).min(1.0) }
        })
        .collect();
    let mut b = TraceBuilder::new(width, height, STEP_SECS, span.first, &positions[0]);
    for (k, step) in events.iter_mut().enumerate() {
        let h = hour_of(k);
        for (a, calls) in step.iter_mut().enumerate() {
            if (every(h) || on(k, a)) && rng.next_f64() < p[h] {
                shape.episode(rng, calls);
            }
            if !calls.is_empty() {
                b.calls(a as u32, calls);
            }
        }
        b.end_step(&positions[k + 1]);
    }
    b.finish()
}

/// A generated SmallVille day of the first `agents` residents over `span`, seeded by `rng`.
#[allow(clippy::too_many_arguments)]
pub fn generate(
    agents: u32,
    town: &TownSpec,
    shape: &CallShape,
    hourly: &HourlyCalls,
    radius_p: u32,
    span: Span,
    map: &SmallvilleMap,
    personas: &[Persona],
    rng: &mut StreamRng,
) -> AgentTrace {
    let people = &personas[..(agents as usize).min(personas.len())];
    let day = walk_day(town, shape, map, people, radius_p, span, rng);
    fill_calls(
        map.width,
        map.height,
        span,
        &day.positions,
        day.events,
        Some(&day.awake),
        shape,
        hourly,
        rng,
    )
}

/// The stream of generated copy `copy` for `seed`.
pub fn copy_stream(seed: u64, copy: u32) -> StreamRng {
    RandomStreams::new(seed).indexed_stream("agents.world", u64::from(copy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smallville::personas;

    fn day(seed: u64, span: Span) -> AgentTrace {
        let map = SmallvilleMap::load().unwrap();
        let people = personas().unwrap();
        generate(
            25,
            &TownSpec::default(),
            &CallShape::default(),
            &HourlyCalls::default(),
            4,
            span,
            &map,
            &people,
            &mut copy_stream(seed, 0),
        )
    }

    #[test]
    fn a_generated_day_meets_the_published_counts() {
        let t = day(1, Span { first: 0, steps: STEPS_PER_DAY });
        t.validate(1).unwrap();
        let per_hour = t.calls_per_hour();
        let total: u64 = per_hour.iter().sum();
        // 56,700 expected; the draw's spread is about 1%.
        assert!((total as f64 - 56_700.0).abs() / 56_700.0 < 0.03, "{total}");
        assert!((per_hour[12] as f64 - 5_000.0).abs() < 400.0, "{per_hour:?}");
        assert!((per_hour[6] as f64 - 800.0).abs() < 150.0, "{per_hour:?}");
        let c = t.all_calls();
        let inp = c.iter().map(|c| f64::from(c.input_tokens)).sum::<f64>() / c.len() as f64;
        let out = c.iter().map(|c| f64::from(c.output_tokens)).sum::<f64>() / c.len() as f64;
        assert!(
            (inp - 642.6).abs() / 642.6 < 0.03 && (out - 21.9).abs() / 21.9 < 0.05,
            "{inp} {out}"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_day_and_a_span_is_a_slice_of_it() {
        let noon = Span { first: 12 * STEPS_PER_HOUR, steps: 60 };
        assert_eq!(day(3, noon), day(3, noon));
        assert_ne!(day(3, noon), day(4, noon));
        let t = day(3, noon);
        assert_eq!((t.steps(), t.first_step), (60, 4320));
    }

    #[test]
    fn spans_are_checked() {
        assert!(Span::of_hours(23.0, 2.0, "workload.world").is_err());
        assert_eq!(Span::of_hours(12.0, 1.0, "w").unwrap(), Span { first: 4320, steps: 360 });
        let e =
            TownSpec { noon_gathering: 2.0, ..TownSpec::default() }.validate("workload.world.town");
        assert!(e.unwrap_err().to_string().contains("workload.world.town.noon_gathering"));
    }
}
