//! `transform` module (RUNTIME §9.4) — partial.

use serde_json::{json, Map, Value};

use super::{arg, opt, req, AgentError, Capability, Ty};

pub static CAPS: &[Capability] = &[
    Capability {
        id: "from-json-string",
        inputs: &[opt("value", Ty::Str)],
        run: from_json_string,
    },
    Capability {
        id: "to-json-string",
        inputs: &[req("value", Ty::Any)],
        run: to_json_string,
    },
    Capability {
        id: "ensure-array",
        inputs: &[req("value", Ty::Any)],
        run: ensure_array,
    },
    Capability {
        id: "array-length",
        inputs: &[req("value", Ty::Any)],
        run: array_length,
    },
];

fn from_json_string(a: &Map<String, Value>) -> Result<Value, AgentError> {
    let s = arg::str(a, "value");
    if s.is_empty() {
        return Ok(Value::Null);
    }
    crate::json::parse_unbounded(s).map_err(|e| {
        AgentError::new(
            "TRANSFORM_JSON_PARSE_ERROR",
            format!("Failed to parse JSON string: {e}"),
        )
        .attr("parse_error", e)
    })
}

fn to_json_string(a: &Map<String, Value>) -> Result<Value, AgentError> {
    let t = crate::json::to_string(arg::value(a, "value"));
    let n = t.len();
    Ok(json!({"json": t, "length": n}))
}

fn ensure_array(a: &Map<String, Value>) -> Result<Value, AgentError> {
    let (items, was) = match arg::value(a, "value") {
        Value::Array(v) => (v.clone(), true),
        Value::Null => (vec![], false),
        other => (vec![other.clone()], false),
    };
    let n = items.len();
    Ok(json!({"items": items, "count": n, "was_array": was}))
}

fn array_length(a: &Map<String, Value>) -> Result<Value, AgentError> {
    let v = arg::value(a, "value");
    let n = match v {
        Value::Array(x) => x.len(),
        Value::String(s) => s.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    };
    Ok(json!({"length": n, "is_array": v.is_array()}))
}
