//! TorchRec's sharding planner (`torchrec/distributed/planner/`, `EmbeddingShardingPlanner`),
//! the `torchrec` system, and with one sharding type allowed (TorchRec's `ParameterConstraints`
//! `sharding_types`) the `table-wise`, `row-wise`, `column-wise`, `data-parallel` and
//! `table-row-wise` variants.
//!
//! - [`enumerator`]: every table's options, one per sharding type and compute kernel, with
//!   their shards' storage and TorchRec's perf estimate ([`crate::estimator`]);
//! - [`proposers`]: grid search (small problems), greedy by depth and by sum, uniform; each
//!   proposal partitioned and rated once, the best kept;
//! - [`scaleup`]: the `EmbeddingOffloadScaleupProposer`, which grows the caches of
//!   `fused_uvm_caching` tables into the free HBM (on by default, `scale_up: false` turns it off);
//! - [`partitioner`]: the `GreedyPerfPartitioner` and the rating (the largest per-GPU perf).
//!
//! Storage is checked against `workload.memory` (the HBM for embeddings and host memory per
//! GPU); TorchRec's 15% heuristic reservation is not taken again, `memory.hbm` already leaves
//! room for the dense model. Every table stores all its rows, used or not.

pub mod enumerator;
pub mod partitioner;
pub mod proposers;
pub mod scaleup;

use crate::config::MissModel;
use crate::estimator::Kernel;
use crate::plan::{Placement, Plan, Scope, Sync};
use crate::systems::PlanCtx;
use simcore::InputError;

use enumerator::{Enumerator, ShardingOption};
use proposers::{Best, Search};

/// TorchRec's sharding types (table-column-wise is not modelled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sharding {
    /// A replica on every GPU, gradients all-reduced.
    DataParallel,
    /// The whole table on one GPU.
    TableWise,
    /// Blocks of columns, each placed like a table-wise shard.
    ColumnWise,
    /// Rows over all GPUs.
    RowWise,
    /// Rows over the GPUs of one node.
    TableRowWise,
}

impl Sharding {
    /// TorchRec's enumeration order of the sharding types.
    pub const ALL: [Sharding; 5] = [
        Sharding::DataParallel,
        Sharding::TableWise,
        Sharding::ColumnWise,
        Sharding::RowWise,
        Sharding::TableRowWise,
    ];

    /// TorchRec's name.
    pub fn name(self) -> &'static str {
        match self {
            Sharding::DataParallel => "data_parallel",
            Sharding::TableWise => "table_wise",
            Sharding::ColumnWise => "column_wise",
            Sharding::RowWise => "row_wise",
            Sharding::TableRowWise => "table_row_wise",
        }
    }
}

/// What the planner may do.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Sharding types offered to every table.
    pub types: Vec<Sharding>,
    /// Columns per column-wise shard.
    pub column_block: u32,
    /// Cache load factor of `fused_uvm_caching` options before scale-up.
    pub cache_load_factor: f64,
    /// Run the scale-up proposer.
    pub scale_up: bool,
}

/// Searches for the best plan; `None` when no proposal partitions.
pub fn search(ctx: &PlanCtx<'_>, params: &Params) -> Result<Option<Best>, InputError> {
    if params.column_block == 0 {
        return Err(InputError::at("params.column_block", "must be at least 1"));
    }
    if !(params.cache_load_factor > 0.0 && params.cache_load_factor <= 1.0) {
        return Err(InputError::at(
            "params.cache_load_factor",
            format!("{} is not in (0, 1]", params.cache_load_factor),
        ));
    }
    let mut en = Enumerator::new(ctx, params.column_block);
    let options: Vec<Vec<ShardingOption>> = (0..ctx.tables.len())
        .map(|j| en.options(j, &params.types, params.cache_load_factor))
        .collect();
    let mut search = Search::new(ctx.tiers);
    proposers::grid(&mut search, &options);
    proposers::greedy(&mut search, &options, true);
    proposers::greedy(&mut search, &options, false);
    proposers::uniform(&mut search, &options, &params.types);
    if params.scale_up {
        scaleup::scale_up(&mut search, &mut en, &options);
    }
    Ok(search.into_best())
}

/// The plan of TorchRec's planner for `system`.
pub fn plan(ctx: &PlanCtx<'_>, params: &Params, system: &str) -> Result<Plan, InputError> {
    match search(ctx, params)? {
        Some(best) => Ok(placements(ctx, &best)),
        None => Err(no_plan(ctx, params, system)),
    }
}

/// The placements of a plan: one per shard; caches as the workload's miss model pays them.
pub fn placements(ctx: &PlanCtx<'_>, best: &Best) -> Plan {
    let mut plan = Plan::default();
    for (o, gpus) in best.options.iter().zip(&best.partition.gpus) {
        let t = &ctx.tables[o.table];
        let (hbm_hit, cache_fills) = match o.kernel {
            Kernel::Fused | Kernel::Dense => (1.0, 0.0),
            Kernel::FusedUvm => (0.0, 0.0),
            Kernel::FusedUvmCaching => match ctx.cache.misses {
                MissModel::Lru => (1.0, o.fetches),
                MissModel::Direct => (o.hit_rate, 0.0),
            },
        };
        let replica = o.shape.replica;
        for &gpu in gpus {
            plan.placements.push(Placement {
                table: o.table,
                gpu,
                scope: if replica { Scope::Local } else { Scope::Global },
                access_share: if replica { 1.0 } else { o.shape.access_share },
                col_share: o.shape.col_share,
                hbm_hit,
                hbm_bytes: o.hbm,
                uvm_bytes: o.ddr,
                partial: o.shape.partial,
                node_reduce: o.shape.node_reduce,
                cache_fills,
            });
        }
        if replica {
            plan.syncs.push(Sync {
                table: o.table,
                group: gpus.clone(),
                bytes: t.bytes() * o.shape.col_share,
            });
        }
    }
    plan
}

/// Why no proposal partitioned: a table that fits no empty GPU in any option, or the tables
/// together.
fn no_plan(ctx: &PlanCtx<'_>, params: &Params, system: &str) -> InputError {
    let tiers = ctx.tiers;
    let mut en = Enumerator::new(ctx, params.column_block);
    let gb = |b: f64| b / 1e9;
    for (j, t) in ctx.tables.iter().enumerate() {
        let options = en.options(j, &params.types, params.cache_load_factor);
        if !options.iter().any(|o| o.hbm <= tiers.hbm_capacity && o.ddr <= tiers.uvm_capacity) {
            let name = if t.spec.name.is_empty() { j.to_string() } else { t.spec.name.clone() };
            return InputError::invalid(
                "tables",
                format!(
                    "table {name} ({:.3} GB) fits nowhere with {system}: per GPU {:.3} GB of HBM and {:.3} GB of host memory; set workload.memory or use more GPUs",
                    gb(t.bytes()),
                    gb(tiers.hbm_capacity),
                    gb(tiers.uvm_capacity)
                ),
            );
        }
    }
    let total: f64 = ctx.tables.iter().map(|t| t.bytes()).sum();
    InputError::invalid(
        "tables",
        format!(
            "the tables ({:.3} GB) do not fit together: every {system} plan fits nowhere on {} GPUs with {:.3} GB of HBM and {:.3} GB of host memory each; set workload.memory or use more GPUs",
            gb(total),
            tiers.gpus,
            gb(tiers.hbm_capacity),
            gb(tiers.uvm_capacity)
        ),
    )
}
