//! Runtime library linked into every workflow binary built by `runtara-build`.
//!
//! Generated code calls the API documented in `runtime/API.md`: a table of JSON
//! constants ([`Consts`]), table-driven graphs ([`GraphDef`], [`run_graph`]), one helper
//! per step type ([`steps`]) and the binary entry point ([`main`]).

pub mod agents;
pub mod connection;
mod durable;
pub mod errors;
pub mod eval;
mod frame;
mod graph;
pub mod json;
mod run;
mod sqlmem;
pub mod steps;
mod store;
pub mod template;

pub use serde_json::{Map, Value};

pub use durable::{checkpoint_key, pct};
pub use eval::{eval_condition, eval_mapping, eval_value};
pub use frame::{Frame, RunCtx};
pub use graph::{
    child_by_id, run_graph, set_children, ChildDef, ChildTable, Consts, Control, Failure, GraphDef,
    OnErrorEdge, ScenarioDef, StepDef, StepFn, StepMeta, StepResult, StepType,
};
pub use run::{main, main_with_children};
pub use store::Store;
#[cfg(test)]
mod tests;

/// dlmalloc instead of musl's mallocng for Rust's allocations too (SQLite's: `sqlmem`):
/// mallocng returns each emptied group of slots to the kernel, so a step paid for mmap,
/// page faults and munmap. With both, a 1,000-step run does ~60 mmap calls instead of
/// ~1,200 and half the page faults (docs/STORE.md).
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;
