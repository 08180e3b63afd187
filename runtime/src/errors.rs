//! Error objects (DSL §6.1).

use serde_json::{json, Value};

use crate::graph::StepMeta;

/// A run-level error: step members are `null`.
pub fn run_error(code: &str, message: &str, category: &str) -> Value {
    json!({
        "code": code, "message": message, "category": category, "severity": "error",
        "stepId": null, "stepName": null, "stepType": null,
    })
}

/// A step error with severity `error`.
pub fn step_error(m: &StepMeta, code: &str, message: &str, category: &str) -> Value {
    json!({
        "code": code, "message": message, "category": category, "severity": "error",
        "stepId": m.key, "stepName": m.name(), "stepType": m.step_type.as_str(),
    })
}

/// Whether an error was raised by an Error step (passes through containers unchanged).
pub fn is_error_step(e: &Value) -> bool {
    e.get("stepType").and_then(Value::as_str) == Some("Error")
}

/// The category of an error object (`unknown` if absent).
pub fn category(e: &Value) -> &str {
    e.get("category")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
}

/// `TIMEOUT` (transient).
pub fn timeout(m: &StepMeta, ms: u64) -> Value {
    step_error(
        m,
        "TIMEOUT",
        &format!("Step '{}' timed out after {} ms", m.key, ms),
        "transient",
    )
}
