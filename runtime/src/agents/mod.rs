//! Built-in agents (RUNTIME §9): capability metadata, input coercion (DSL §8), structured
//! errors, and one public function per capability.
//!
//! Every capability is `pub fn(Value) -> Result<Value, AgentError>` at
//! `rt::agents::<module>::<capability_id with '-' -> '_'>` (API.md §3.1). Generated code names
//! those functions directly, so a binary links only the capabilities it calls (and their
//! crates). The string dispatcher [`call`] and the catalogue ([`catalogue_json`]) reference
//! every capability; only tests and the catalogue example use them.

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::{json, Map, Value};

pub mod compression;
pub mod crypto;
pub mod csv;
pub mod datetime;
pub mod file;
pub mod http;
pub mod text;
pub mod transform;
pub mod unavailable;
pub mod utils;
pub mod xml;

pub(crate) mod common;

// ------------------------------------------------------------------ errors

/// A capability failure (DSL §6.1 members without the step members).
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

    /// Mark transient (severity `warning`).
    pub fn transient(mut self) -> AgentError {
        self.category = "transient";
        self.severity = "warning";
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

// ------------------------------------------------------------------ metadata

/// Declared input types (RUNTIME §9.1, §9.15).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ty {
    Str,
    /// A string of exactly one character (`format: char`).
    Char,
    Bool,
    Number,
    Int,
    /// `integer ≥ 0` (`minimum: 0`).
    UInt,
    Array,
    Object,
    Any,
    /// *binary input* (`format: binary`).
    Binary,
    /// *file data* (`format: file_data`).
    FileData,
    /// A connection object (`format: connection`).
    Connection,
    /// Several JSON types; not checked before the capability runs.
    Types(&'static [&'static str]),
}

/// A declared capability input.
#[derive(Debug, Clone, Copy)]
pub struct Input {
    /// The wire name.
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub ty: Ty,
    /// **req**
    pub required: bool,
    /// **rt**: optional for validation, needed at run time.
    pub runtime_required: bool,
    /// Default as JSON text.
    pub default: Option<&'static str>,
    /// Enumeration (empty = none).
    pub allowed: &'static [&'static str],
    /// Element type of an array.
    pub items: Option<&'static str>,
    /// Member value type of an object.
    pub values: Option<&'static str>,
}

const fn input(name: &'static str, ty: Ty, required: bool, default: Option<&'static str>) -> Input {
    Input {
        name,
        aliases: &[],
        ty,
        required,
        runtime_required: false,
        default,
        allowed: &[],
        items: None,
        values: None,
    }
}

/// A required input.
pub const fn req(name: &'static str, ty: Ty) -> Input {
    input(name, ty, true, None)
}

/// An optional input without default.
pub const fn opt(name: &'static str, ty: Ty) -> Input {
    input(name, ty, false, None)
}

/// An optional input with a default (JSON text).
pub const fn dflt(name: &'static str, ty: Ty, default: &'static str) -> Input {
    input(name, ty, false, Some(default))
}

impl Input {
    pub const fn rt(mut self) -> Input {
        self.runtime_required = true;
        self
    }
    pub const fn alias(mut self, a: &'static [&'static str]) -> Input {
        self.aliases = a;
        self
    }
    pub const fn one_of(mut self, e: &'static [&'static str]) -> Input {
        self.allowed = e;
        self
    }
    pub const fn items(mut self, t: &'static str) -> Input {
        self.items = Some(t);
        self
    }
    pub const fn values(mut self, t: &'static str) -> Input {
        self.values = Some(t);
        self
    }
}

/// Metadata of a capability (one row of RUNTIME §9.3–§9.14).
#[derive(Debug)]
pub struct Cap {
    pub id: &'static str,
    pub section: &'static str,
    pub available: bool,
    pub side_effects: bool,
    pub inputs: &'static [Input],
    /// The Output cell as written in the spec.
    pub output: &'static str,
}

/// The uniform capability signature.
pub type CapFn = fn(Value) -> Result<Value, AgentError>;

/// A module: its id, secure flag and capabilities (`None` = not available, `E121`).
pub struct Module {
    pub id: &'static str,
    pub secure: bool,
    pub caps: &'static [(&'static Cap, Option<CapFn>)],
}

/// Every module, in the order of RUNTIME §9.13.
pub static MODULES: &[&Module] = &[
    &utils::MODULE,
    &transform::MODULE,
    &text::MODULE,
    &datetime::MODULE,
    &csv::MODULE,
    &crypto::MODULE,
    &http::MODULE,
    &xml::MODULE,
    &file::MODULE,
    &compression::MODULE,
    &unavailable::SFTP,
    &unavailable::XLSX,
    &unavailable::OBJECT_MODEL,
];

/// Find a module.
pub fn module(id: &str) -> Option<&'static Module> {
    MODULES.iter().copied().find(|m| m.id == id)
}

/// Find a capability's metadata and function.
pub fn find(module_id: &str, cap: &str) -> Option<(&'static Cap, Option<CapFn>)> {
    module(module_id)?
        .caps
        .iter()
        .find(|(c, _)| c.id == cap)
        .copied()
}

// ------------------------------------------------------------------ coercion

fn coerce_scalar(ty: Ty, v: Value) -> Value {
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

fn elem_ty(t: &str) -> Ty {
    match t {
        "string" => Ty::Str,
        "boolean" => Ty::Bool,
        "number" => Ty::Number,
        "integer" => Ty::Int,
        "array" => Ty::Array,
        "object" => Ty::Object,
        _ => Ty::Any,
    }
}

fn coerce(inp: &Input, v: Value) -> Value {
    match coerce_scalar(inp.ty, v) {
        Value::Array(a) if inp.items.is_some() => {
            let t = elem_ty(inp.items.unwrap_or(""));
            Value::Array(a.into_iter().map(|x| coerce_scalar(t, x)).collect())
        }
        Value::Object(o) if inp.values.is_some() => {
            let t = elem_ty(inp.values.unwrap_or(""));
            Value::Object(
                o.into_iter()
                    .map(|(k, x)| (k, coerce_scalar(t, x)))
                    .collect(),
            )
        }
        other => other,
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
        Ty::Object | Ty::Connection => v.is_object(),
        Ty::Any | Ty::Binary | Ty::FileData | Ty::Types(_) => true,
    }
}

fn elem_ok(t: Option<&str>, v: &Value) -> bool {
    match t {
        None => true,
        Some(t) => match elem_ty(t) {
            Ty::Any => true,
            ty => type_ok(ty, v),
        },
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
        Ty::Object | Ty::Connection => "a map",
        _ => "any value",
    }
}

fn deser_error(msg: String) -> AgentError {
    AgentError::new("INPUT_DESERIALIZATION_ERROR", msg)
}

/// Prepared capability arguments: wire names, coerced, defaults applied.
#[derive(Debug, Default)]
pub struct Args(pub Map<String, Value>);

/// Aliases, null removal, coercion, type checks and defaults (RUNTIME §9.1, DSL §8).
pub fn prepare(cap: &Cap, input: Value) -> Result<Args, AgentError> {
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
                let wire_absent = obj.get(inp.name).is_none_or(Value::is_null);
                if wire_absent {
                    obj.insert(inp.name.to_string(), v);
                }
            }
        }
        if !inp.required && obj.get(inp.name).is_some_and(Value::is_null) {
            obj.remove(inp.name);
        }
        if let Some(v) = obj.remove(inp.name) {
            let v = if v.is_null() { v } else { coerce(inp, v) };
            if !type_ok(inp.ty, &v) {
                return Err(deser_error(format!(
                    "invalid type for field `{}`: {}, expected {}",
                    inp.name,
                    crate::json::type_name(&v),
                    ty_name(inp.ty)
                )));
            }
            let bad_elem = match &v {
                Value::Array(a) => a.iter().find(|x| !elem_ok(inp.items, x)),
                Value::Object(o) => o.values().find(|x| !elem_ok(inp.values, x)),
                _ => None,
            };
            if let Some(x) = bad_elem {
                return Err(deser_error(format!(
                    "invalid type in field `{}`: {}, expected {}",
                    inp.name,
                    crate::json::type_name(x),
                    inp.items.or(inp.values).unwrap_or("any")
                )));
            }
            if !inp.allowed.is_empty() && !inp.allowed.iter().any(|a| v.as_str() == Some(a)) {
                return Err(deser_error(format!(
                    "unknown variant `{}` for field `{}`, expected one of {}",
                    v.as_str().unwrap_or(&crate::json::to_string(&v)),
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
    Ok(Args(obj))
}

impl Args {
    /// A present, non-null value.
    pub fn get(&self, k: &str) -> Option<&Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }
    pub fn value(&self, k: &str) -> &Value {
        self.0.get(k).unwrap_or(&Value::Null)
    }
    pub fn take(&mut self, k: &str) -> Value {
        self.0.remove(k).unwrap_or(Value::Null)
    }
    pub fn opt_str(&self, k: &str) -> Option<&str> {
        self.0.get(k).and_then(Value::as_str)
    }
    /// The string, or `""` when absent.
    pub fn str(&self, k: &str) -> &str {
        self.opt_str(k).unwrap_or("")
    }
    pub fn bool(&self, k: &str) -> bool {
        self.0.get(k).and_then(Value::as_bool).unwrap_or(false)
    }
    pub fn opt_bool(&self, k: &str) -> Option<bool> {
        self.0.get(k).and_then(Value::as_bool)
    }
    pub fn i64(&self, k: &str) -> i64 {
        self.opt_i64(k).unwrap_or(0)
    }
    pub fn opt_i64(&self, k: &str) -> Option<i64> {
        self.0.get(k).and_then(Value::as_i64)
    }
    pub fn opt_u64(&self, k: &str) -> Option<u64> {
        self.0.get(k).and_then(Value::as_u64)
    }
    pub fn u64(&self, k: &str) -> u64 {
        self.opt_u64(k).unwrap_or(0)
    }
    /// A `usize` (saturating).
    pub fn usize(&self, k: &str) -> usize {
        usize::try_from(self.u64(k)).unwrap_or(usize::MAX)
    }
    pub fn opt_usize(&self, k: &str) -> Option<usize> {
        self.opt_u64(k)
            .map(|x| usize::try_from(x).unwrap_or(usize::MAX))
    }
    /// A **rt** string input: `CAPABILITY_ERROR` when missing.
    pub fn rt_str(&self, k: &str) -> Result<&str, AgentError> {
        self.opt_str(k)
            .ok_or_else(|| AgentError::plain(format!("Missing required input: {k}")))
    }
}

pub(crate) fn fail<T>(msg: impl Into<String>) -> Result<T, AgentError> {
    Err(AgentError::plain(msg))
}

pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "capability panicked".to_string()
    }
}

/// Run a capability function, turning a panic into `CAPABILITY_ERROR`.
pub fn run_guarded(cap: CapFn, input: Value) -> Result<Value, AgentError> {
    match catch_unwind(AssertUnwindSafe(|| cap(input))) {
        Ok(r) => r,
        Err(p) => Err(AgentError::plain(panic_message(p.as_ref()))),
    }
}

/// Eight random bytes from /dev/urandom.
pub fn random_bytes() -> [u8; 8] {
    utils::random_u64().to_le_bytes()
}

/// Call a capability by name (string dispatch; links every capability):
/// `module` lower-case, `capability` kebab-case.
pub fn call(module_id: &str, capability: &str, input: Value) -> Result<Value, AgentError> {
    match find(module_id, capability) {
        Some((_, Some(f))) => run_guarded(f, input),
        Some((_, None)) => Err(AgentError::plain(format!(
            "Capability not available in this runtime: {module_id}/{capability}"
        ))),
        None => Err(AgentError::plain(format!(
            "Unknown capability: {module_id}/{capability}"
        ))),
    }
}

// ------------------------------------------------------------------ catalogue (§9.15)

enum J {
    Obj(Vec<(&'static str, J)>),
    Arr(Vec<J>),
    V(Value),
}

fn write_json(out: &mut String, j: &J, level: usize) {
    let pad = |out: &mut String, n: usize| {
        out.push('\n');
        out.push_str(&" ".repeat(n));
    };
    match j {
        J::V(v) => out.push_str(&serde_json::to_string(v).unwrap_or_default()),
        J::Arr(a) if a.is_empty() => out.push_str("[]"),
        J::Obj(o) if o.is_empty() => out.push_str("{}"),
        J::Arr(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, level + 1);
                write_json(out, x, level + 1);
            }
            pad(out, level);
            out.push(']');
        }
        J::Obj(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, level + 1);
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push_str(": ");
                write_json(out, x, level + 1);
            }
            pad(out, level);
            out.push('}');
        }
    }
}

fn v(x: impl Into<Value>) -> J {
    J::V(x.into())
}

fn input_json(i: &Input) -> J {
    let mut o: Vec<(&'static str, J)> = vec![
        ("name", v(i.name)),
        ("aliases", J::Arr(i.aliases.iter().map(|a| v(*a)).collect())),
    ];
    let (ty, format): (Value, Option<&str>) = match i.ty {
        Ty::Str => (json!("string"), None),
        Ty::Char => (json!("string"), Some("char")),
        Ty::Bool => (json!("boolean"), None),
        Ty::Number => (json!("number"), None),
        Ty::Int | Ty::UInt => (json!("integer"), None),
        Ty::Array => (json!("array"), None),
        Ty::Object => (json!("object"), None),
        Ty::Any => (json!("any"), None),
        Ty::Binary => (json!(["object", "string", "array"]), Some("binary")),
        Ty::FileData => (json!(["string", "object", "array"]), Some("file_data")),
        Ty::Connection => (json!("object"), Some("connection")),
        Ty::Types(t) => (json!(t), None),
    };
    let ty = match ty {
        Value::Array(a) => J::Arr(a.into_iter().map(J::V).collect()),
        other => J::V(other),
    };
    o.push(("type", ty));
    if let Some(t) = i.values {
        o.push(("values", v(t)));
    }
    if let Some(t) = i.items {
        o.push(("items", v(t)));
    }
    if i.ty == Ty::UInt {
        o.push(("minimum", v(0)));
    }
    if let Some(f) = format {
        o.push(("format", v(f)));
    }
    o.push(("required", v(i.required)));
    o.push(("runtime_required", v(i.runtime_required)));
    if let Some(d) = i.default {
        o.push((
            "default",
            J::V(serde_json::from_str(d).unwrap_or(Value::Null)),
        ));
    }
    if !i.allowed.is_empty() {
        o.push(("enum", J::Arr(i.allowed.iter().map(|a| v(*a)).collect())));
    }
    J::Obj(o)
}

fn cap_json(c: &Cap) -> J {
    J::Obj(vec![
        ("id", v(c.id)),
        ("section", v(c.section)),
        ("available", v(c.available)),
        ("side_effects", v(c.side_effects)),
        ("inputs", J::Arr(c.inputs.iter().map(input_json).collect())),
        ("output", v(c.output)),
    ])
}

/// The whole catalogue in the `agents.json` format (RUNTIME §9.15), pretty-printed with a
/// one-space indent (like Python's `json.dumps(indent=1, ensure_ascii=False)`) and a
/// trailing newline.
pub fn catalogue_json() -> String {
    let modules = MODULES
        .iter()
        .map(|m| {
            J::Obj(vec![
                ("id", v(m.id)),
                ("secure", v(m.secure)),
                (
                    "capabilities",
                    J::Arr(m.caps.iter().map(|(c, _)| cap_json(c)).collect()),
                ),
            ])
        })
        .collect();
    let root = J::Obj(vec![("version", v(1)), ("modules", J::Arr(modules))]);
    let mut out = String::new();
    write_json(&mut out, &root, 0);
    out.push('\n');
    out
}

#[cfg(test)]
pub(crate) mod test_server;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_http;
