//! Static graph tables (emitted by the generator) and the function driver (DSL §2.5).

use std::sync::OnceLock;
use std::time::Instant;

use serde_json::{json, Value};

use crate::eval::eval_condition;
use crate::frame::Frame;

/// A table of JSON constants, parsed once on first use.
pub struct Consts {
    texts: &'static [&'static str],
    parsed: OnceLock<Vec<Value>>,
}

impl Consts {
    pub const fn new(texts: &'static [&'static str]) -> Consts {
        Consts {
            texts,
            parsed: OnceLock::new(),
        }
    }

    /// The constant at index `i`.
    pub fn get(&'static self, i: usize) -> &'static Value {
        let all = self.parsed.get_or_init(|| {
            self.texts
                .iter()
                .enumerate()
                .map(|(n, t)| {
                    crate::json::parse_unbounded(t)
                        .unwrap_or_else(|e| panic!("invalid JSON constant #{n}: {e}"))
                })
                .collect()
        });
        &all[i]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepType {
    Finish,
    Agent,
    Conditional,
    Switch,
    Split,
    StartScenario,
    While,
    Log,
    Connection,
    Error,
    Filter,
    GroupBy,
    Delay,
    WaitForSignal,
    AiAgent,
}

impl StepType {
    pub fn as_str(self) -> &'static str {
        match self {
            StepType::Finish => "Finish",
            StepType::Agent => "Agent",
            StepType::Conditional => "Conditional",
            StepType::Switch => "Switch",
            StepType::Split => "Split",
            StepType::StartScenario => "StartScenario",
            StepType::While => "While",
            StepType::Log => "Log",
            StepType::Connection => "Connection",
            StepType::Error => "Error",
            StepType::Filter => "Filter",
            StepType::GroupBy => "GroupBy",
            StepType::Delay => "Delay",
            StepType::WaitForSignal => "WaitForSignal",
            StepType::AiAgent => "AiAgent",
        }
    }
}

/// Identity of a step: its key, optional name and type.
#[derive(Debug)]
pub struct StepMeta {
    pub key: &'static str,
    pub name: Option<&'static str>,
    pub step_type: StepType,
}

impl StepMeta {
    /// The `stepName` of envelopes and errors (DSL §2.3 defaults).
    pub fn name(&self) -> &'static str {
        match self.name {
            Some(n) => n,
            None if self.step_type == StepType::Finish => "Finish",
            None => "Unnamed",
        }
    }

    /// The basic envelope `{stepId, stepName, stepType, outputs}`.
    pub fn envelope(&self, outputs: Value) -> Value {
        json!({
            "stepId": self.key,
            "stepName": self.name(),
            "stepType": self.step_type.as_str(),
            "outputs": outputs,
        })
    }
}

/// A selectable onError edge (generator sorts them in selection order).
#[derive(Debug)]
pub struct OnErrorEdge {
    pub condition: Option<usize>,
    pub target: usize,
    pub region: &'static [usize],
}

#[derive(Debug)]
pub struct StepDef {
    pub meta: StepMeta,
    pub next: &'static [usize],
    pub branches: &'static [(&'static str, usize)],
    pub on_error: &'static [OnErrorEdge],
    pub honours_on_error: bool,
}

pub type StepFn = fn(&mut Frame, usize, &'static StepMeta) -> StepResult;

pub struct GraphDef {
    pub consts: &'static Consts,
    pub variables: Option<usize>,
    pub entry: usize,
    pub order: &'static [usize],
    pub steps: &'static [StepDef],
    pub dispatch: StepFn,
}

impl GraphDef {
    /// The declared variable defaults of this graph (an object), if any.
    pub fn defaults(&'static self) -> Option<&'static serde_json::Map<String, Value>> {
        self.variables.and_then(|i| self.consts.get(i).as_object())
    }
}

/// A child workflow reachable from a StartScenario step.
pub struct ChildDef {
    pub scenario_id: &'static str,
    pub graph: &'static GraphDef,
    pub required: &'static [&'static str],
}

/// The children a binary links, by id: filled once by [`crate::main_with_children`].
///
/// Each scenario's generated code is its own rlib that depends only on this crate, so a
/// parent names a child by its id and the tiny generated main crate supplies the table: a
/// child's rlib can change without recompiling any parent.
pub type ChildTable = &'static [(&'static str, &'static ChildDef)];

static CHILDREN: OnceLock<ChildTable> = OnceLock::new();

/// Install the child table (the first call wins; later calls are ignored).
pub fn set_children(table: ChildTable) {
    let _ = CHILDREN.set(table);
}

/// The child with this id, if the binary links it.
pub fn child_by_id(id: &str) -> Option<&'static ChildDef> {
    CHILDREN
        .get()
        .and_then(|t| t.iter().find(|(k, _)| *k == id).map(|(_, c)| *c))
}

/// The compiled top-level scenario.
pub struct ScenarioDef {
    pub scenario_id: &'static str,
    pub graph: &'static GraphDef,
    pub required: &'static [&'static str],
    pub debug_mode: bool,
    pub default_tenant: &'static str,
}

/// A process-level control signal; never an error.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    Cancelled,
    Paused,
    Sleeping {
        wake_at_ms: i64,
    },
    WaitingForSignal {
        signal_id: String,
        wake_at_ms: Option<i64>,
    },
    /// A run-level failure (`STORE_ERROR`, ...): exit 1 with this error object.
    Fatal(Value),
}

/// Why a function or step did not produce a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// An error object (DSL §6.1).
    Error(Value),
    /// Cancel, pause or suspension: stops the whole process.
    Control(Control),
}

impl From<Control> for Failure {
    fn from(c: Control) -> Failure {
        Failure::Control(c)
    }
}

/// What a step helper tells the driver.
#[derive(Debug)]
pub enum StepResult {
    /// Store the envelope; fire all normal edges.
    Next(Value),
    /// Store the envelope; fire the first branch edge with this label.
    Branch(Value, String),
    /// Store the envelope; return the value from the function.
    Finish(Value, Value),
    /// The step failed.
    Fail(Failure),
}

/// Run one function over a graph (DSL §2.5).
pub fn run_graph(f: &mut Frame, g: &'static GraphDef) -> Result<Value, Failure> {
    let n = g.steps.len();
    let mut activated = vec![false; n];
    if g.entry < n {
        activated[g.entry] = true;
    }
    let mut region: Option<Vec<bool>> = None;
    let mut pending: Option<Value> = None;
    for &s in g.order {
        if !activated[s] || region.as_ref().is_some_and(|r| !r[s]) {
            continue;
        }
        f.ctx.safe_point()?;
        let def = &g.steps[s];
        let meta = &def.meta;
        let started = Instant::now();
        f.step_event(
            "step_started",
            json!({"step_id": meta.key, "step_type": meta.step_type.as_str(), "scope": f.scope}),
        );
        if f.ctx.debug_mode {
            f.debug_event(meta, "step_debug_start", None, 0);
        }
        let result = (g.dispatch)(f, s, meta);
        let ms = started.elapsed().as_millis() as u64;
        let (envelope, fired) = match result {
            StepResult::Next(env) => {
                for &t in def.next {
                    activated[t] = true;
                }
                (env, None)
            }
            StepResult::Branch(env, label) => {
                if let Some(&(_, t)) = def.branches.iter().find(|(l, _)| *l == label) {
                    activated[t] = true;
                }
                (env, None)
            }
            StepResult::Finish(env, out) => (env, Some(out)),
            StepResult::Fail(Failure::Control(c)) => return Err(Failure::Control(c)),
            StepResult::Fail(Failure::Error(e)) => {
                f.step_event(
                    "step_failed",
                    json!({"step_id": meta.key, "step_type": meta.step_type.as_str(),
                           "scope": f.scope, "duration_ms": ms, "error": e}),
                );
                if def.honours_on_error && !def.on_error.is_empty() {
                    f.error = Some(e.clone());
                    let selected = def.on_error.iter().find(|edge| match edge.condition {
                        Some(c) => eval_condition(f, g.consts.get(c)),
                        None => true,
                    });
                    if let Some(edge) = selected {
                        if pending.is_none() {
                            pending = Some(e);
                        }
                        let mut r = vec![false; n];
                        for &i in edge.region {
                            r[i] = true;
                        }
                        region = Some(r);
                        activated[edge.target] = true;
                        continue;
                    }
                }
                return Err(Failure::Error(e));
            }
        };
        f.step_event(
            "step_completed",
            json!({"step_id": meta.key, "step_type": meta.step_type.as_str(),
                   "scope": f.scope, "duration_ms": ms}),
        );
        // Connection data is secret: no debug event carries it (DSL §5.9).
        if f.ctx.debug_mode && meta.step_type != StepType::Connection {
            f.debug_event(meta, "step_debug_end", envelope.get("outputs"), ms);
        }
        f.store_envelope(meta.key, envelope);
        if let Some(out) = fired {
            return Ok(out);
        }
    }
    match pending {
        Some(e) => Err(Failure::Error(e)),
        None => Ok(Value::Null),
    }
}
