//! The `workload:` and system entries of `kind: agents`.
//!
//! ```yaml
//! workload:
//!   world: { type: generated, agents: 25, start_hour: 12, hours: 1 }   # or recorded, trace
//!   tile: 1                 # copies of the world side by side
//!   radius_p: 4             # perception radius (tiles)
//!   max_vel: 1              # most tiles an agent moves in a step
//!   llm: { model: llama-3-8b, replicas: 8, priority: true, prefix_caching: false }
//! systems:
//!   - { name: metropolis, system: metropolis, params: { workers: 0 } }
//! ```

use cluster::Dtype;
use serde::{Deserialize, Serialize};
use serving::{CostSpec, EngineSpec, RouterPolicy};
use simcore::InputError;

use crate::calls::{CallShape, HourlyCalls};
use crate::generator::TownSpec;

pub use models::ModelRef;

/// The `workload:` of `kind: agents`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsWorkload {
    /// The world: generated, the recorded demo, or a trace file.
    pub world: WorldSpec,
    /// Copies of the world side by side (AI Metropolis scales SmallVille this way); each
    /// generated copy is a day of its own (default 1).
    #[serde(default = "one")]
    pub tile: u32,
    /// Perception radius in tiles (AI Metropolis: 4).
    #[serde(default = "four")]
    pub radius_p: u32,
    /// Most tiles an agent moves in one step (AI Metropolis: 1).
    #[serde(default = "one")]
    pub max_vel: u32,
    /// Shapes of the calls (generated and recorded worlds).
    #[serde(default)]
    pub calls: CallShape,
    /// Calls per hour of the day for 25 agents (generated and recorded worlds).
    #[serde(default)]
    pub hourly_calls: HourlyCalls,
    /// The LLM service.
    pub llm: LlmSpec,
    /// Most samples kept per time series (default 2,000; 0: all).
    #[serde(default = "max_points")]
    pub series_points: u32,
}

fn one() -> u32 {
    1
}
fn four() -> u32 {
    4
}
fn max_points() -> u32 {
    2_000
}
fn day() -> f64 {
    24.0
}
fn residents() -> u32 {
    25
}
fn yes() -> bool {
    true
}
fn bf16() -> Dtype {
    Dtype::Bf16
}

/// Where the world comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum WorldSpec {
    /// A generated SmallVille day ([`crate::generator`]).
    Generated {
        /// Agents: 1 to 25 residents of one SmallVille, or a multiple of 25 (that many
        /// SmallVilles side by side, each its own day).
        #[serde(default = "residents")]
        agents: u32,
        /// Start of the span, hours after midnight (default 0).
        #[serde(default)]
        start_hour: f64,
        /// Length of the span in hours (default 24).
        #[serde(default = "day")]
        hours: f64,
        /// How residents live.
        #[serde(default)]
        town: TownSpec,
    },
    /// The recorded three-agent demo ([`crate::replay`]).
    Recorded {
        /// Start of the span, hours after midnight (default 0).
        #[serde(default)]
        start_hour: f64,
        /// Length of the span in hours (default 24).
        #[serde(default = "day")]
        hours: f64,
    },
    /// A trace written by `mlsim agents-trace` (or by hand): its positions and calls as they
    /// are.
    Trace {
        /// The JSON-lines file (relative paths from the repository root, then the working
        /// directory).
        path: String,
    },
}

/// The LLM service every call goes to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSpec {
    /// The model served.
    pub model: ModelRef,
    /// Element type of weights, activations and KV cache (default bf16).
    #[serde(default = "bf16")]
    pub dtype: Dtype,
    /// Tensor-parallel GPUs per replica (default 1).
    #[serde(default = "one")]
    pub tp: u32,
    /// Data-parallel replicas (default 1).
    #[serde(default = "one")]
    pub replicas: u32,
    /// How calls are spread over replicas (default round-robin, SGLang's data-parallel
    /// default).
    #[serde(default)]
    pub router: RouterPolicy,
    /// Reuse KV across calls with SGLang's radix cache (default off, as in AI Metropolis's
    /// evaluation).
    #[serde(default)]
    pub prefix_caching: bool,
    /// Calls carry their agent's step as priority, smaller first (default on, AI
    /// Metropolis's server).
    #[serde(default = "yes")]
    pub priority: bool,
    /// Engine settings (SGLang's defaults).
    #[serde(default)]
    pub engine: EngineSpec,
    /// Cost-model settings.
    #[serde(default)]
    pub cost: CostSpec,
}

/// A system entry: the engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "system", deny_unknown_fields)]
pub enum SystemSpec {
    /// One agent-step at a time.
    SingleThread,
    /// All agents one step, then a barrier.
    ParallelSync,
    /// AI Metropolis's out-of-order engine.
    Metropolis {
        /// Clusters in flight at most (0: no bound; default 0).
        #[serde(default)]
        workers: u32,
    },
    /// Dependencies mined from the trace.
    Oracle,
    /// Every call at time 0 (a bound).
    NoDependency,
    /// The longest chain of dependent calls at solo latency (a bound).
    CriticalPath,
}

impl SystemSpec {
    /// The names configs use.
    pub const NAMES: [&'static str; 6] = [
        "single-thread",
        "parallel-sync",
        "metropolis",
        "oracle",
        "no-dependency",
        "critical-path",
    ];

    /// Its name.
    pub fn name(&self) -> &'static str {
        match self {
            SystemSpec::SingleThread => "single-thread",
            SystemSpec::ParallelSync => "parallel-sync",
            SystemSpec::Metropolis { .. } => "metropolis",
            SystemSpec::Oracle => "oracle",
            SystemSpec::NoDependency => "no-dependency",
            SystemSpec::CriticalPath => "critical-path",
        }
    }
}

impl AgentsWorkload {
    /// Copies of the world side by side: `tile`, times `agents / 25` for a generated world of
    /// more than 25 agents.
    pub fn copies(&self) -> u32 {
        let per = match self.world {
            WorldSpec::Generated { agents, .. } if agents > 25 => agents / 25,
            _ => 1,
        };
        self.tile.saturating_mul(per)
    }

    /// Checks the values serde cannot; errors name `workload.<field>`.
    pub fn validate(&self) -> Result<(), InputError> {
        if self.tile == 0 {
            return Err(InputError::at("workload.tile", "at least one copy of the world"));
        }
        if self.max_vel == 0 {
            return Err(InputError::at(
                "workload.max_vel",
                "at least 1 tile a step (agents that never move need no out-of-order engine)",
            ));
        }
        self.calls.validate("workload.calls")?;
        self.hourly_calls.validate("workload.hourly_calls")?;
        if let WorldSpec::Generated { agents, town, .. } = &self.world {
            if *agents == 0 || (*agents > 25 && agents % 25 != 0) {
                return Err(InputError::at(
                    "workload.world.agents",
                    format!(
                        "{agents}: SmallVille has 25 residents; give 1 to 25, or a multiple of 25 for that many SmallVilles side by side"
                    ),
                ));
            }
            town.validate("workload.world.town")?;
        }
        if self.llm.replicas == 0 || self.llm.tp == 0 {
            return Err(InputError::at(
                "workload.llm.replicas",
                "at least one replica of at least one GPU",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_workload_reads_with_defaults() {
        let w: AgentsWorkload = serde_json::from_value(serde_json::json!({
            "world": {"type": "generated", "agents": 5, "start_hour": 12, "hours": 0.5},
            "llm": {"model": "llama-3-8b", "replicas": 2}
        }))
        .unwrap();
        assert_eq!((w.tile, w.radius_p, w.max_vel), (1, 4, 1));
        assert!(w.llm.priority && !w.llm.prefix_caching);
        w.validate().unwrap();
        let s: SystemSpec =
            serde_json::from_value(serde_json::json!({"system": "metropolis", "workers": 8}))
                .unwrap();
        assert_eq!(s, SystemSpec::Metropolis { workers: 8 });
    }

    #[test]
    fn bad_values_name_their_field() {
        let mut w: AgentsWorkload = serde_json::from_value(serde_json::json!({
            "world": {"type": "generated", "agents": 30},
            "llm": {"model": "llama-3-8b"}
        }))
        .unwrap();
        let e = w.validate().unwrap_err().to_string();
        assert!(e.contains("workload.world.agents") && e.contains("multiple of 25"), "{e}");
        w.world = WorldSpec::Generated {
            agents: 100,
            start_hour: 0.0,
            hours: 1.0,
            town: Default::default(),
        };
        w.tile = 2;
        assert_eq!(w.copies(), 8);
        w.validate().unwrap();
        w.world = WorldSpec::Recorded { start_hour: 0.0, hours: 1.0 };
        w.max_vel = 0;
        assert!(w.validate().unwrap_err().to_string().contains("workload.max_vel"));
        let e = serde_json::from_value::<SystemSpec>(serde_json::json!({"system": "metropolys"}));
        assert!(e.unwrap_err().to_string().contains("metropolis"));
    }
}
