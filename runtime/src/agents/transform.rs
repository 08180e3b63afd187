//! `transform` module (RUNTIME §9.4).

use std::cmp::Ordering;

use serde_json::{json, Map, Value};

use super::common::{at_path, at_path_or_null, cap_segments};
use super::{dflt, opt, prepare, req, AgentError, Cap, Module, Ty};

pub static EXTRACT: Cap = Cap {
    id: "extract",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[
        req("value", Ty::Array),
        req("property_path", Ty::Str),
    ],
    output: "`{\"values\": [value at cap path for each element], \"count\": n}`. An empty array or an empty path gives `{\"values\": <the input array, unchanged>, \"count\": <its length>}`.",
};

pub static GET_VALUE_BY_PATH: Cap = Cap {
    id: "get-value-by-path",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[
        opt("value", Ty::Any),
        opt("property_path", Ty::Str),
    ],
    output: "the value at the cap path, or `null` (also when either input is missing or the path is empty)",
};

pub static SET_VALUE_BY_PATH: Cap = Cap {
    id: "set-value-by-path",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[
        opt("target", Ty::Any),
        opt("property_path", Ty::Str),
        opt("value", Ty::Any),
    ],
    output: "`target` with `value` set at the path, intermediate objects created; a non-object target is returned unchanged; no target → `null`",
};

pub static FILTER_NON_VALUES: Cap = Cap {
    id: "filter-non-values",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[
        req("value", Ty::Array),
        opt("property_path", Ty::Str),
        dflt("filter_empty_strings", Ty::Bool, "false"),
        dflt("filter_null_values", Ty::Bool, "false"),
        dflt("filter_blank_strings", Ty::Bool, "false"),
        dflt("filter_zero_values", Ty::Bool, "false"),
    ],
    output: "`{\"items\", \"count\", \"removed_count\"}`. An element is removed when its value (or the value at the path) hits an enabled filter. Zero means number 0 or string `\"0\"`. Blank means empty or only whitespace (Rust's `str::trim`), so `\"\"` is blank too.",
};

pub static SELECT_FIRST: Cap = Cap {
    id: "select-first",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[
        opt("value", Ty::Array),
    ],
    output: "the first element that is not null, not an empty or blank string, not 0 and not false; otherwise `null`",
};

pub static COALESCE: Cap = Cap {
    id: "coalesce",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[
        req("values", Ty::Array),
        dflt("treat_empty_string_as_null", Ty::Bool, "false"),
        dflt("treat_zero_as_null", Ty::Bool, "false"),
    ],
    output: "the first non-null value (the flags also skip `\"\"` and 0), or `null`",
};

pub static FROM_JSON_STRING: Cap = Cap {
    id: "from-json-string",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[
        opt("value", Ty::Str),
    ],
    output: "the parsed value; absent or `\"\"` → `null`. Error `TRANSFORM_JSON_PARSE_ERROR` (attribute `parse_error`).",
};

pub static TO_JSON_STRING: Cap = Cap {
    id: "to-json-string",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[req("value", Ty::Any)],
    output: "`{\"json\": <JSON text>, \"length\": <bytes>}`",
};

pub static FILTER: Cap = Cap {
    id: "filter",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[
        dflt("value", Ty::Array, "[]"),
        req("property_path", Ty::Str),
        req("match_values", Ty::Any),
        req("match_condition", Ty::Str).one_of(&["INCLUDES", "EXCLUDES", "STARTS_WITH", "ENDS_WITH", "CONTAINS"]),
    ],
    output: "`{\"items\", \"count\", \"removed_count\"}`. INCLUDES: the value (or any element of an array value) is JSON-equal to one of the match values; `null` never matches. EXCLUDES is its negation. The string conditions need a string value and string match values; CONTAINS is a substring test.",
};

pub static SORT: Cap = Cap {
    id: "sort",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[
        req("value", Ty::Array),
        opt("property_path", Ty::Str),
        dflt("ascending", Ty::Bool, "true"),
    ],
    output: "`{\"items\", \"count\"}`. A stable sort by the value (or the value at the path). Nulls go last; numbers compare numerically (as doubles), strings bytewise, false before true, and mixed types by JSON text. Descending reverses the whole comparison, so nulls come first; equal values keep their input order in both directions.",
};

pub static MAP_FIELDS: Cap = Cap {
    id: "map-fields",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[
        req("source_data", Ty::Any),
        req("mappings", Ty::Object),
    ],
    output: "`{\"result\": {targetName: value}, \"field_count\": n}`. Source paths are cap paths; null values are omitted.",
};

pub static GROUP_BY: Cap = Cap {
    id: "group-by",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[
        req("value", Ty::Any),
        req("key", Ty::Str),
        dflt("as_map", Ty::Bool, "false"),
    ],
    output: "`{\"groups\", \"group_count\"}`. `groups` is an object key → elements when `as_map`, otherwise an array of arrays in unspecified order. Elements whose key is null are skipped. Key text: a string as itself, number/bool text, other values as JSON text. A value that is not an array → `TRANSFORM_INVALID_INPUT` (attribute `received_type`).",
};

pub static APPEND: Cap = Cap {
    id: "append",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[req("array", Ty::Array), req("item", Ty::Any)],
    output: "`{\"array\": [...array, item], \"length\": n}`",
};

pub static FLAT_MAP: Cap = Cap {
    id: "flat-map",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[
        req("value", Ty::Array),
        req("property_path", Ty::Str),
    ],
    output: "`{\"items\": <concatenation of the arrays at the path>, \"count\": n}`. Non-array values are skipped.",
};

pub static ARRAY_LENGTH: Cap = Cap {
    id: "array-length",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[req("value", Ty::Any)],
    output:
        "`{\"length\", \"is_array\"}`: array size, string byte length, object member count, else 0",
};

pub static ENSURE_ARRAY: Cap = Cap {
    id: "ensure-array",
    section: "9.4",
    available: true,
    side_effects: false,
    inputs: &[
        req("value", Ty::Any),
    ],
    output: "`{\"items\", \"count\", \"was_array\"}`. An array passes through, `null` → `[]`, anything else → `[value]`.",
};

pub static MODULE: Module = Module {
    id: "transform",
    secure: false,
    caps: &[
        (&EXTRACT, Some(extract)),
        (&GET_VALUE_BY_PATH, Some(get_value_by_path)),
        (&SET_VALUE_BY_PATH, Some(set_value_by_path)),
        (&FILTER_NON_VALUES, Some(filter_non_values)),
        (&SELECT_FIRST, Some(select_first)),
        (&COALESCE, Some(coalesce)),
        (&FROM_JSON_STRING, Some(from_json_string)),
        (&TO_JSON_STRING, Some(to_json_string)),
        (&FILTER, Some(filter)),
        (&SORT, Some(sort)),
        (&MAP_FIELDS, Some(map_fields)),
        (&GROUP_BY, Some(group_by)),
        (&APPEND, Some(append)),
        (&FLAT_MAP, Some(flat_map)),
        (&ARRAY_LENGTH, Some(array_length)),
        (&ENSURE_ARRAY, Some(ensure_array)),
    ],
};

// ------------------------------------------------------------------ helpers

fn is_zero(v: &Value) -> bool {
    v.as_f64().is_some_and(|x| x == 0.0)
}

/// JSON equality, with numbers compared by value (`1` = `1.0`).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(p), Some(q), _, _) => p == q,
                (_, _, Some(p), Some(q)) => p == q,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| json_eq(p, q)))
        }
        _ => a == b,
    }
}

fn items_out(items: Vec<Value>, removed: usize) -> Value {
    let n = items.len();
    json!({"items": items, "count": n, "removed_count": removed})
}

// ------------------------------------------------------------------ capabilities

pub fn extract(input: Value) -> Result<Value, AgentError> {
    let mut a = prepare(&EXTRACT, input)?;
    let path = a.str("property_path").to_string();
    let Value::Array(arr) = a.take("value") else {
        return Ok(json!({"values": [], "count": 0}));
    };
    if arr.is_empty() || path.is_empty() {
        let n = arr.len();
        return Ok(json!({"values": arr, "count": n}));
    }
    let values: Vec<Value> = arr.iter().map(|e| at_path_or_null(e, &path)).collect();
    let n = values.len();
    Ok(json!({"values": values, "count": n}))
}

pub fn get_value_by_path(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&GET_VALUE_BY_PATH, input)?;
    match (a.get("value"), a.opt_str("property_path")) {
        (Some(v), Some(p)) if !p.is_empty() => Ok(at_path_or_null(v, p)),
        _ => Ok(Value::Null),
    }
}

fn set_at(target: &mut Value, segs: &[&str], value: Value) {
    let Some((first, rest)) = segs.split_first() else {
        return;
    };
    match target {
        Value::Object(o) => {
            if rest.is_empty() {
                o.insert((*first).to_string(), value);
                return;
            }
            let child = o
                .entry((*first).to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() && !child.is_array() {
                *child = Value::Object(Map::new());
            }
            set_at(child, rest, value);
        }
        Value::Array(arr) => {
            if let Some(slot) = first.parse::<usize>().ok().and_then(|i| arr.get_mut(i)) {
                if rest.is_empty() {
                    *slot = value;
                } else {
                    if !slot.is_object() && !slot.is_array() {
                        *slot = Value::Object(Map::new());
                    }
                    set_at(slot, rest, value);
                }
            }
        }
        _ => {}
    }
}

pub fn set_value_by_path(input: Value) -> Result<Value, AgentError> {
    let mut a = prepare(&SET_VALUE_BY_PATH, input)?;
    let path = a.str("property_path").to_string();
    let value = a.take("value");
    let mut target = a.take("target");
    if target.is_object() {
        let segs = cap_segments(&path);
        set_at(&mut target, &segs, value);
    }
    Ok(target)
}

pub fn filter_non_values(input: Value) -> Result<Value, AgentError> {
    let mut a = prepare(&FILTER_NON_VALUES, input)?;
    let path = a.opt_str("property_path").map(str::to_string);
    let (fe, fnull, fb, fz) = (
        a.bool("filter_empty_strings"),
        a.bool("filter_null_values"),
        a.bool("filter_blank_strings"),
        a.bool("filter_zero_values"),
    );
    let Value::Array(arr) = a.take("value") else {
        return Ok(items_out(vec![], 0));
    };
    let total = arr.len();
    let items: Vec<Value> = arr
        .into_iter()
        .filter(|e| {
            let v = match &path {
                Some(p) => at_path(e, p).unwrap_or(&Value::Null),
                None => e,
            };
            let hit = (fnull && v.is_null())
                || (fe && v.as_str() == Some(""))
                || (fb && v.as_str().is_some_and(|s| s.trim().is_empty()))
                || (fz && (is_zero(v) || v.as_str() == Some("0")));
            !hit
        })
        .collect();
    let removed = total - items.len();
    Ok(items_out(items, removed))
}

pub fn select_first(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&SELECT_FIRST, input)?;
    let empty = Vec::new();
    let arr = a.get("value").and_then(Value::as_array).unwrap_or(&empty);
    Ok(arr
        .iter()
        .find(|v| match v {
            Value::Null | Value::Bool(false) => false,
            Value::String(s) => !s.trim().is_empty(),
            Value::Number(_) => !is_zero(v),
            _ => true,
        })
        .cloned()
        .unwrap_or(Value::Null))
}

pub fn coalesce(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&COALESCE, input)?;
    let (es, zs) = (
        a.bool("treat_empty_string_as_null"),
        a.bool("treat_zero_as_null"),
    );
    let empty = Vec::new();
    let arr = a.get("values").and_then(Value::as_array).unwrap_or(&empty);
    Ok(arr
        .iter()
        .find(|v| {
            !(v.is_null() || (es && v.as_str() == Some("")) || (zs && v.is_number() && is_zero(v)))
        })
        .cloned()
        .unwrap_or(Value::Null))
}

pub fn from_json_string(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FROM_JSON_STRING, input)?;
    let s = a.str("value");
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

pub fn to_json_string(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&TO_JSON_STRING, input)?;
    let t = crate::json::to_string(a.value("value"));
    let n = t.len();
    Ok(json!({"json": t, "length": n}))
}

fn includes(v: &Value, matches: &[Value]) -> bool {
    match v {
        Value::Null => false,
        Value::Array(a) => a
            .iter()
            .any(|e| !e.is_null() && matches.iter().any(|m| json_eq(e, m))),
        _ => matches.iter().any(|m| json_eq(v, m)),
    }
}

pub fn filter(input: Value) -> Result<Value, AgentError> {
    let mut a = prepare(&FILTER, input)?;
    let path = a.str("property_path").to_string();
    let cond = a.str("match_condition").to_string();
    let matches = match a.take("match_values") {
        Value::Array(m) => m,
        other => vec![other],
    };
    let arr = match a.take("value") {
        Value::Array(x) => x,
        _ => Vec::new(),
    };
    let total = arr.len();
    let strs: Vec<&str> = matches.iter().filter_map(Value::as_str).collect();
    let items: Vec<Value> = arr
        .into_iter()
        .filter(|e| {
            let v = if path.is_empty() || path == "$" {
                e
            } else {
                at_path(e, &path).unwrap_or(&Value::Null)
            };
            match cond.as_str() {
                "INCLUDES" => includes(v, &matches),
                "EXCLUDES" => !includes(v, &matches),
                c => match v.as_str() {
                    Some(s) => strs.iter().any(|m| match c {
                        "STARTS_WITH" => s.starts_with(m),
                        "ENDS_WITH" => s.ends_with(m),
                        _ => s.contains(m),
                    }),
                    None => false,
                },
            }
        })
        .collect();
    let removed = total - items.len();
    Ok(items_out(items, removed))
}

/// The `sort` comparison (ascending).
fn sort_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => crate::json::to_string(a).cmp(&crate::json::to_string(b)),
    }
}

pub fn sort(input: Value) -> Result<Value, AgentError> {
    let mut a = prepare(&SORT, input)?;
    let path = a.opt_str("property_path").unwrap_or("").to_string();
    let asc = a.opt_bool("ascending").unwrap_or(true);
    let mut arr = match a.take("value") {
        Value::Array(x) => x,
        _ => Vec::new(),
    };
    let key = |e: &Value| -> Value { at_path_or_null(e, &path) };
    arr.sort_by(|x, y| {
        let o = sort_cmp(&key(x), &key(y));
        if asc {
            o
        } else {
            o.reverse()
        }
    });
    let n = arr.len();
    Ok(json!({"items": arr, "count": n}))
}

pub fn map_fields(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&MAP_FIELDS, input)?;
    let src = a.value("source_data");
    let mut result = Map::new();
    if let Some(m) = a.get("mappings").and_then(Value::as_object) {
        for (source, target) in m {
            let Some(t) = target.as_str() else { continue };
            match at_path(src, source) {
                None | Some(Value::Null) => {}
                Some(v) => {
                    result.insert(t.to_string(), v.clone());
                }
            }
        }
    }
    let n = result.len();
    Ok(json!({"result": result, "field_count": n}))
}

fn key_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => crate::json::to_string(other),
    }
}

pub fn group_by(input: Value) -> Result<Value, AgentError> {
    let mut a = prepare(&GROUP_BY, input)?;
    let key = a.str("key").to_string();
    let as_map = a.bool("as_map");
    let arr = match a.take("value") {
        Value::Array(x) => x,
        other => {
            let t = crate::json::type_name(&other);
            return Err(AgentError::new(
                "TRANSFORM_INVALID_INPUT",
                format!("group-by expects an array, got {t}"),
            )
            .attr("received_type", t));
        }
    };
    let mut order: Vec<String> = Vec::new();
    let mut groups: Map<String, Value> = Map::new();
    for e in arr {
        let k = match at_path(&e, &key) {
            None | Some(Value::Null) => continue,
            Some(v) => key_text(v),
        };
        if !groups.contains_key(&k) {
            order.push(k.clone());
            groups.insert(k.clone(), json!([]));
        }
        if let Some(Value::Array(g)) = groups.get_mut(&k) {
            g.push(e);
        }
    }
    let n = groups.len();
    if as_map {
        Ok(json!({"groups": groups, "group_count": n}))
    } else {
        let list: Vec<Value> = order.iter().filter_map(|k| groups.remove(k)).collect();
        Ok(json!({"groups": list, "group_count": n}))
    }
}

pub fn append(input: Value) -> Result<Value, AgentError> {
    let mut a = prepare(&APPEND, input)?;
    let item = a.take("item");
    let mut arr = match a.take("array") {
        Value::Array(x) => x,
        _ => Vec::new(),
    };
    arr.push(item);
    let n = arr.len();
    Ok(json!({"array": arr, "length": n}))
}

pub fn flat_map(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FLAT_MAP, input)?;
    let path = a.str("property_path");
    let mut items = Vec::new();
    if let Some(arr) = a.get("value").and_then(Value::as_array) {
        for e in arr {
            if let Some(Value::Array(x)) = at_path(e, path) {
                items.extend(x.iter().cloned());
            }
        }
    }
    let n = items.len();
    Ok(json!({"items": items, "count": n}))
}

pub fn array_length(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&ARRAY_LENGTH, input)?;
    let v = a.value("value");
    let n = match v {
        Value::Array(x) => x.len(),
        Value::String(s) => s.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    };
    Ok(json!({"length": n, "is_array": v.is_array()}))
}

pub fn ensure_array(input: Value) -> Result<Value, AgentError> {
    let mut a = prepare(&ENSURE_ARRAY, input)?;
    let (items, was) = match a.take("value") {
        Value::Array(v) => (v, true),
        Value::Null => (vec![], false),
        other => (vec![other], false),
    };
    let n = items.len();
    Ok(json!({"items": items, "count": n, "was_array": was}))
}
