//! Built-in agents (RUNTIME §9): registry, input coercion (DSL §8) and structured errors.

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::{json, Map, Value};

mod transform;
mod utils;

/// A capability failure.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentError {
    pub code: String,
    pub message: String,
    pub category: &'static str,
    pub severity: &'static str,
    pub attributes: Map<String, Value>,
    pub retry_after_ms: Option<u64>,
}

impl AgentError {
    /// A structured capability error (permanent, severity `error`).
    pub fn new(code: &str, message: impl Into<String>) -> AgentError {
        AgentError {
            code: code.to_string(),
            message: message.into(),
            category: "permanent",
            severity: "error",
            attributes: Map::new(),
            retry_after_ms: None,
        }
    }

    /// A plain message: `CAPABILITY_ERROR` (permanent).
    pub fn plain(message: impl Into<String>) -> AgentError {
        AgentError::new("CAPABILITY_ERROR", message)
    }

    pub fn transient(mut self) -> AgentError {
        self.category = "transient";
        self
    }

    pub fn attr(mut self, k: &str, v: impl Into<String>) -> AgentError {
        self.attributes
            .insert(k.to_string(), Value::String(v.into()));
        self
    }

    /// The error object members (DSL §6.1) without the step members.
    pub fn to_value(&self) -> Value {
        let mut o = json!({
            "code": self.code, "message": self.message,
            "category": self.category, "severity": self.severity,
        });
        if !self.attributes.is_empty() {
            o["attributes"] = Value::Object(self.attributes.clone());
        }
        if let Some(ms) = self.retry_after_ms {
            o["retryAfterMs"] = json!(ms);
        }
        o
    }
}

/// Declared input types (RUNTIME §9.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ty {
    Str,
    Char,
    Bool,
    Number,
    Int,
    UInt,
    Array,
    Object,
    Any,
}

/// A declared capability input.
pub struct Input {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub ty: Ty,
    pub required: bool,
    /// Default as JSON text.
    pub default: Option<&'static str>,
    pub allowed: &'static [&'static str],
}

pub const fn req(name: &'static str, ty: Ty) -> Input {
    Input {
        name,
        aliases: &[],
        ty,
        required: true,
        default: None,
        allowed: &[],
    }
}

pub const fn opt(name: &'static str, ty: Ty) -> Input {
    Input {
        name,
        aliases: &[],
        ty,
        required: false,
        default: None,
        allowed: &[],
    }
}

pub const fn dflt(name: &'static str, ty: Ty, default: &'static str) -> Input {
    Input {
        name,
        aliases: &[],
        ty,
        required: false,
        default: Some(default),
        allowed: &[],
    }
}

pub type Run = fn(&Map<String, Value>) -> Result<Value, AgentError>;

/// A capability: its declared inputs and implementation.
pub struct Capability {
    pub id: &'static str,
    pub inputs: &'static [Input],
    pub run: Run,
}

/// The capabilities of a module, or `None` for an unknown module.
pub fn module(id: &str) -> Option<&'static [Capability]> {
    match id {
        "utils" => Some(utils::CAPS),
        "transform" => Some(transform::CAPS),
        _ => None,
    }
}

/// Find a capability.
pub fn find(module_id: &str, cap: &str) -> Option<&'static Capability> {
    module(module_id)?.iter().find(|c| c.id == cap)
}

fn coerce(ty: Ty, v: Value) -> Value {
    match (ty, v) {
        (Ty::Number, Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => json!(x),
            _ => Value::String(s),
        },
        (Ty::Int, Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(x) => json!(x),
            _ => Value::String(s),
        },
        (Ty::UInt, Value::String(s)) => match s.trim().parse::<u64>() {
            Ok(x) => json!(x),
            _ => Value::String(s),
        },
        (Ty::Str | Ty::Char, Value::Number(n)) => Value::String(n.to_string()),
        (Ty::Str | Ty::Char, Value::Bool(b)) => Value::String(b.to_string()),
        (Ty::Bool, Value::String(s)) => {
            let l = s.trim().to_lowercase();
            Value::Bool(l == "true" || l == "1" || l == "yes")
        }
        (Ty::Bool, Value::Number(n)) => Value::Bool(n.as_f64().is_some_and(|x| x != 0.0)),
        (_, v) => v,
    }
}

fn type_ok(ty: Ty, v: &Value) -> bool {
    match ty {
        Ty::Str => v.is_string(),
        Ty::Char => v.as_str().is_some_and(|s| s.chars().count() == 1),
        Ty::Bool => v.is_boolean(),
        Ty::Number => v.is_number(),
        Ty::Int => v.is_i64(),
        Ty::UInt => v.is_u64(),
        Ty::Array => v.is_array(),
        Ty::Object => v.is_object(),
        Ty::Any => true,
    }
}

fn ty_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Str => "a string",
        Ty::Char => "a character",
        Ty::Bool => "a boolean",
        Ty::Number => "f64",
        Ty::Int => "i64",
        Ty::UInt => "u64",
        Ty::Array => "a sequence",
        Ty::Object => "a map",
        Ty::Any => "any value",
    }
}

fn deser_error(msg: String) -> AgentError {
    AgentError::new("INPUT_DESERIALIZATION_ERROR", msg)
}

/// Aliases, null removal, coercion, type checks and defaults (DSL §8).
pub fn prepare(cap: &Capability, input: Value) -> Result<Map<String, Value>, AgentError> {
    let mut obj = match input {
        Value::Object(o) => o,
        Value::Null => Map::new(),
        other => {
            return Err(deser_error(format!(
                "invalid type: {}, expected a map",
                crate::json::type_name(&other)
            )))
        }
    };
    for inp in cap.inputs {
        for a in inp.aliases {
            if let Some(v) = obj.remove(*a) {
                obj.entry(inp.name.to_string()).or_insert(v);
            }
        }
        if !inp.required && obj.get(inp.name).is_some_and(Value::is_null) {
            obj.remove(inp.name);
        }
        if let Some(v) = obj.remove(inp.name) {
            let v = if v.is_null() { v } else { coerce(inp.ty, v) };
            if !type_ok(inp.ty, &v) {
                return Err(deser_error(format!(
                    "invalid type for field `{}`: {}, expected {}",
                    inp.name,
                    crate::json::type_name(&v),
                    ty_name(inp.ty)
                )));
            }
            if !inp.allowed.is_empty() && !inp.allowed.iter().any(|a| v.as_str() == Some(a)) {
                return Err(deser_error(format!(
                    "unknown variant `{}` for field `{}`, expected one of {}",
                    v.as_str().unwrap_or(""),
                    inp.name,
                    inp.allowed.join(", ")
                )));
            }
            obj.insert(inp.name.to_string(), v);
        } else if inp.required {
            return Err(deser_error(format!("missing field `{}`", inp.name)));
        } else if let Some(d) = inp.default {
            obj.insert(
                inp.name.to_string(),
                serde_json::from_str(d).unwrap_or(Value::Null),
            );
        }
    }
    Ok(obj)
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "capability panicked".to_string()
    }
}

/// Eight random bytes from /dev/urandom.
pub fn random_bytes() -> [u8; 8] {
    utils::random_u64().to_le_bytes()
}

/// Call a capability: `module` lower-case, `capability` kebab-case.
pub fn call(module_id: &str, capability: &str, input: Value) -> Result<Value, AgentError> {
    let Some(cap) = find(module_id, capability) else {
        return Err(AgentError::plain(format!(
            "Unknown capability: {module_id}/{capability}"
        )));
    };
    let args = prepare(cap, input)?;
    match catch_unwind(AssertUnwindSafe(|| (cap.run)(&args))) {
        Ok(r) => r,
        Err(p) => Err(AgentError::plain(panic_message(p.as_ref()))),
    }
}

/// Helpers for capability implementations.
pub(crate) mod arg {
    use super::AgentError;
    use serde_json::{Map, Value};

    pub fn str<'a>(a: &'a Map<String, Value>, k: &str) -> &'a str {
        a.get(k).and_then(Value::as_str).unwrap_or("")
    }
    pub fn i64(a: &Map<String, Value>, k: &str) -> i64 {
        a.get(k).and_then(Value::as_i64).unwrap_or(0)
    }
    pub fn bool(a: &Map<String, Value>, k: &str) -> bool {
        a.get(k).and_then(Value::as_bool).unwrap_or(false)
    }
    pub fn value<'a>(a: &'a Map<String, Value>, k: &str) -> &'a Value {
        a.get(k).unwrap_or(&Value::Null)
    }
    pub fn fail<T>(msg: impl Into<String>) -> Result<T, AgentError> {
        Err(AgentError::plain(msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_coercion() {
        let e = call("utils", "nope", json!({})).unwrap_err();
        assert_eq!(e.code, "CAPABILITY_ERROR");
        let e = call("nomod", "x", json!({})).unwrap_err();
        assert_eq!(e.code, "CAPABILITY_ERROR");
        let e = call("utils", "return-input-string", json!({})).unwrap_err();
        assert_eq!(e.code, "INPUT_DESERIALIZATION_ERROR");
        assert_eq!(
            call("utils", "return-input-string", json!({"value": 12})).unwrap(),
            json!("12")
        );
        assert_eq!(
            call("utils", "return-input-string", json!({"value": true})).unwrap(),
            json!("true")
        );
        let e = call("utils", "return-input-string", json!({"value": [1]})).unwrap_err();
        assert_eq!(e.code, "INPUT_DESERIALIZATION_ERROR");
        assert_eq!(
            call("utils", "random-array", json!({"size": " 3 "}))
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            3
        );
        let e = call("utils", "random-array", json!({"size": -1})).unwrap_err();
        assert_eq!(e.code, "CAPABILITY_ERROR");
        let e = call(
            "utils",
            "country-name-to-iso-code",
            json!({"country_name": "France", "code_type": "x"}),
        )
        .unwrap_err();
        assert_eq!(e.code, "INPUT_DESERIALIZATION_ERROR");
    }

    #[test]
    fn panics_become_capability_errors() {
        static CAP: Capability = Capability {
            id: "boom",
            inputs: &[],
            run: |_| panic!("kaboom"),
        };
        let r = catch_unwind(AssertUnwindSafe(|| (CAP.run)(&Map::new())));
        assert!(r.is_err());
        let e = AgentError::plain(panic_message(r.unwrap_err().as_ref()));
        assert_eq!(e.message, "kaboom");
    }

    #[test]
    fn structured_error_shape() {
        let e = call(
            "transform",
            "from-json-string",
            json!({"value": "{not json"}),
        )
        .unwrap_err();
        let v = e.to_value();
        assert_eq!(v["code"], "TRANSFORM_JSON_PARSE_ERROR");
        assert_eq!(v["category"], "permanent");
        assert!(v["attributes"]["parse_error"].is_string());
    }
}
