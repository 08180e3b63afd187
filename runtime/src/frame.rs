//! Per-function state (`Frame`) and per-run state (`RunCtx`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::graph::{Control, Failure, StepMeta};
use crate::store::{now_ms, Store};

/// State shared by every function of one run.
pub struct RunCtx {
    pub store: Store,
    pub instance_id: String,
    pub tenant_id: String,
    pub scenario_id: String,
    pub debug_mode: bool,
    /// `RUNTARA_SUSPEND_AFTER_MS`.
    pub suspend_after_ms: u64,
    /// Set once the process is stopping (cancel/pause observed): other threads stop too.
    stopping: AtomicBool,
    stop_reason: std::sync::Mutex<Option<Control>>,
}

fn store_error(msg: String) -> Failure {
    Failure::Control(Control::Fatal(crate::errors::run_error(
        "STORE_ERROR",
        &msg,
        "transient",
    )))
}

impl RunCtx {
    pub fn new(store: Store, instance_id: &str, tenant_id: &str, scenario_id: &str) -> RunCtx {
        RunCtx {
            store,
            instance_id: instance_id.to_string(),
            tenant_id: tenant_id.to_string(),
            scenario_id: scenario_id.to_string(),
            debug_mode: false,
            suspend_after_ms: 30_000,
            stopping: AtomicBool::new(false),
            stop_reason: std::sync::Mutex::new(None),
        }
    }

    /// A context over an in-memory store (tests).
    pub fn for_tests() -> Arc<RunCtx> {
        Arc::new(RunCtx::new(
            Store::memory("test"),
            "test",
            "default",
            "scenario",
        ))
    }

    /// Observe cancel / pause (RUNTIME §6.2).
    pub fn safe_point(&self) -> Result<(), Failure> {
        if self.stopping.load(Ordering::SeqCst) {
            let r = self
                .stop_reason
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            return Err(Failure::Control(r.unwrap_or(Control::Cancelled)));
        }
        let sig = self.store.poll_signal().map_err(store_error)?;
        let stop = match sig.as_deref() {
            Some("cancel") => Control::Cancelled,
            Some("pause") => Control::Paused,
            Some(other) => {
                self.store.ack_signal(other, false).map_err(store_error)?;
                return Ok(());
            }
            None => return Ok(()),
        };
        let kind = if stop == Control::Cancelled {
            "cancel"
        } else {
            "pause"
        };
        self.store.ack_signal(kind, false).map_err(store_error)?;
        *self.stop_reason.lock().unwrap_or_else(|p| p.into_inner()) = Some(stop.clone());
        self.stopping.store(true, Ordering::SeqCst);
        Err(Failure::Control(stop))
    }

    /// In-process sleep that observes signals at least once a second.
    pub fn sleep(&self, ms: u64) -> Result<(), Failure> {
        let end = Instant::now() + Duration::from_millis(ms);
        loop {
            self.safe_point()?;
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            std::thread::sleep((end - now).min(Duration::from_millis(1000)));
        }
    }

    /// Append a `custom` event with the given subtype.
    pub fn custom_event(&self, subtype: &str, payload: &Value) {
        self.store.event(
            "custom",
            Some(subtype),
            Some(crate::json::to_string(payload)),
        );
    }

    /// Read-only checkpoint lookup.
    pub fn lookup(&self, key: &str) -> Result<Option<Value>, Failure> {
        match self.store.lookup(key).map_err(store_error)? {
            Some(text) => crate::json::parse_unbounded(&text)
                .map(Some)
                .map_err(|e| store_error(format!("corrupt checkpoint {key}: {e}"))),
            None => Ok(None),
        }
    }

    /// Get-or-put a checkpoint; returns the stored state.
    pub fn put(&self, key: &str, state: &Value) -> Result<Value, Failure> {
        let text = crate::json::to_string(state);
        let stored = self.store.put(key, &text).map_err(store_error)?;
        if stored == text {
            return Ok(state.clone());
        }
        crate::json::parse_unbounded(&stored)
            .map_err(|e| store_error(format!("corrupt checkpoint {key}: {e}")))
    }

    pub(crate) fn store_failure(msg: String) -> Failure {
        store_error(msg)
    }
}

/// The state of one function (DSL §2.1): data, variables, steps context and extra roots.
pub struct Frame {
    pub data: Value,
    pub variables: Value,
    pub steps: Map<String, Value>,
    /// Split `item` (or the Filter element while a Filter condition is evaluated).
    pub item: Option<Value>,
    /// While `loop` root.
    pub loop_: Option<Value>,
    /// The error exposed by onError selection (`__error`, `error`, `steps.__error`, `steps.error`).
    pub error: Option<Value>,
    /// Checkpoint scope (RUNTIME §5.2), e.g. `root/each[2]`.
    pub scope: String,
    /// Child call path for signal ids (RUNTIME §6.3), e.g. `/call_child[3]`.
    pub call_path: String,
    pub ctx: Arc<RunCtx>,
}

impl Frame {
    pub fn new(ctx: Arc<RunCtx>, data: Value, variables: Value, scope: String) -> Frame {
        Frame {
            data,
            variables,
            steps: Map::new(),
            item: None,
            loop_: None,
            error: None,
            scope,
            call_path: String::new(),
            ctx,
        }
    }

    /// A frame for tests: in-memory store, scope `root`.
    pub fn for_tests(data: Value, variables: Value) -> Frame {
        Frame::new(RunCtx::for_tests(), data, variables, "root".to_string())
    }

    pub fn store_envelope(&mut self, key: &str, envelope: Value) {
        self.steps.insert(key.to_string(), envelope);
    }

    /// `steps` as seen by references (with the error shadowing of DSL §2.2).
    pub fn steps_value(&self) -> Value {
        let mut m = self.steps.clone();
        if let Some(e) = &self.error {
            m.insert("__error".to_string(), e.clone());
            m.insert("error".to_string(), e.clone());
        }
        Value::Object(m)
    }

    /// The whole source object (DSL §2.2), used for templates.
    pub fn source(&self) -> Value {
        let mut m = Map::new();
        m.insert("data".into(), self.data.clone());
        m.insert("variables".into(), self.variables.clone());
        m.insert("steps".into(), self.steps_value());
        m.insert(
            "scenario".into(),
            json!({"inputs": {"data": self.data, "variables": self.variables}}),
        );
        if let Some(i) = &self.item {
            m.insert("item".into(), i.clone());
        }
        if let Some(l) = &self.loop_ {
            m.insert("loop".into(), l.clone());
        }
        if let Some(e) = &self.error {
            m.insert("__error".into(), e.clone());
            m.insert("error".into(), e.clone());
        }
        Value::Object(m)
    }

    /// `variables._loop_indices` (or `[]`).
    pub fn loop_indices(&self) -> Vec<Value> {
        self.variables
            .get("_loop_indices")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn step_event(&self, subtype: &str, payload: Value) {
        self.ctx.custom_event(subtype, &payload);
    }

    pub(crate) fn debug_event(
        &self,
        meta: &StepMeta,
        subtype: &str,
        value: Option<&Value>,
        ms: u64,
    ) {
        let parent = self.scope.rsplit_once('/').map(|(p, _)| p.to_string());
        let mut p = json!({
            "step_id": meta.key, "step_name": meta.name(), "step_type": meta.step_type.as_str(),
            "scope_id": self.scope, "parent_scope_id": parent,
            "loop_indices": self.loop_indices(), "timestamp_ms": now_ms(),
        });
        let truncate = |v: &Value| {
            let t = crate::json::to_string(v);
            if t.len() > 10 * 1024 {
                let preview: String = t.chars().take(200).collect();
                json!({"_truncated": true, "_original_size": t.len(), "_preview": preview})
            } else {
                v.clone()
            }
        };
        if subtype == "step_debug_start" {
            p["inputs"] = Value::Null;
        } else {
            p["outputs"] = truncate(value.unwrap_or(&Value::Null));
            p["duration_ms"] = json!(ms);
        }
        self.ctx.custom_event(subtype, &p);
    }
}
