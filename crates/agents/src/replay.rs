//! The recorded world: Generative Agents' three-agent demo (Isabella, Maria, Klaus; 8,655
//! steps from midnight) replayed as a trace. Positions are the recording's; the LLM calls,
//! which the recording does not keep, come from its events by the same call model as a
//! generated day ([`crate::calls`]):
//! - an activity change (the agent's `description` changes) is an episode of dependent calls
//!   (deciding and decomposing the new action);
//! - a conversation — a run of consecutive steps on which the agent's `chat` is listed — is
//!   the agent's own utterances (half the lines, rounded up) as chained calls at its first
//!   step;
//! - background episodes fill each hour up to the profile scaled to three agents.

use simcore::StreamRng;

use crate::calls::{CallShape, HourlyCalls};
use crate::generator::{Span, fill_calls};
use crate::smallville::{EventKind, Recording};
use crate::trace::{AgentCall, AgentTrace};
use crate::world::{SMALLVILLE_HEIGHT, SMALLVILLE_WIDTH};

/// The recording over `span` (which must lie within its steps) as a trace.
pub fn replay(
    rec: &Recording,
    span: Span,
    shape: &CallShape,
    hourly: &HourlyCalls,
    rng: &mut StreamRng,
) -> AgentTrace {
    let n = rec.names.len();
    // Times span.first ..= span.first + steps; the recording has positions of steps
    // 0..rec.steps, so the last time is clamped to the last recorded step.
    let positions: Vec<_> = (0..=span.steps)
        .map(|k| rec.positions_at((span.first + k).min(rec.steps - 1)).to_vec())
        .collect();
    let mut events: Vec<Vec<Vec<AgentCall>>> = vec![vec![Vec::new(); n]; span.steps as usize];
    // Last step each agent had a chat listed (to find the first step of a conversation).
    let mut last_chat: Vec<Option<u32>> = vec![None; n];
    for e in &rec.events {
        let a = e.agent as usize;
        let in_span = e.step >= span.first && e.step < span.first + span.steps;
        match e.kind {
            EventKind::Activity => {
                if in_span {
                    shape.episode(rng, &mut events[(e.step - span.first) as usize][a]);
                }
            }
            EventKind::Chat { lines } => {
                let starts = last_chat[a].is_none_or(|s| s + 1 < e.step);
                last_chat[a] = Some(e.step);
                if starts && in_span {
                    shape.conversation(
                        rng,
                        lines.div_ceil(2),
                        &mut events[(e.step - span.first) as usize][a],
                    );
                }
            }
        }
    }
    fill_calls(
        SMALLVILLE_WIDTH,
        SMALLVILLE_HEIGHT,
        span,
        &positions,
        events,
        None,
        shape,
        hourly,
        rng,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::copy_stream;
    use crate::smallville::load_demo;
    use crate::world::STEPS_PER_DAY;

    #[test]
    fn the_demo_day_replays_with_its_moves_and_the_scaled_call_count() {
        let rec = load_demo().unwrap();
        let t = replay(
            &rec,
            Span { first: 0, steps: STEPS_PER_DAY },
            &CallShape::default(),
            &HourlyCalls::default(),
            &mut copy_stream(1, 0),
        );
        t.validate(1).unwrap();
        assert_eq!((t.agents(), t.steps()), (3, STEPS_PER_DAY));
        assert_eq!(t.pos(100, 2), rec.position(100, 2));
        // 56,700 x 3/25 = 6,804 calls expected, unless the events alone exceed an hour.
        let total: u64 = t.calls_per_hour().iter().sum();
        assert!((total as f64 - 6_804.0).abs() / 6_804.0 < 0.06, "{total}");
    }
}
