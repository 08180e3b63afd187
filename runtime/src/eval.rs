//! Mappings (DSL §3), reference paths, type hints and conditions (DSL §4).

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::frame::Frame;

// ---------------------------------------------------------------- paths (§3.3)

/// Convert a reference path to its segments (DSL §3.3).
pub fn path_segments(path: &str) -> Vec<String> {
    // 1. quoted brackets
    let s = path
        .replace("['", ".")
        .replace("[\"", ".")
        .replace("']", "")
        .replace("\"]", "");
    // 2. numeric brackets
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if after[..close].bytes().all(|b| b.is_ascii_digit()) => {
                out.push('.');
                out.push_str(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    // 3. split
    out.split('.').map(str::to_string).collect()
}

fn array_index(seg: &str) -> Option<usize> {
    if seg.is_empty()
        || !seg.bytes().all(|b| b.is_ascii_digit())
        || (seg.len() > 1 && seg.starts_with('0'))
    {
        return None;
    }
    seg.parse().ok()
}

/// Walk `segs` from `v` (object members, strict array indexes).
pub fn walk<'a, S: AsRef<str>>(mut v: &'a Value, segs: &[S]) -> Option<&'a Value> {
    for seg in segs {
        let seg = seg.as_ref();
        v = match v {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(array_index(seg)?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Look up segments in the source object of `f` without building it.
pub fn lookup_segments<'a, S: AsRef<str>>(f: &'a Frame, segs: &[S]) -> Option<Cow<'a, Value>> {
    let (root, rest) = segs.split_first()?;
    let borrowed = |v: Option<&'a Value>, rest: &[S]| walk(v?, rest).map(Cow::Borrowed);
    match root.as_ref() {
        "data" => borrowed(Some(&f.data), rest),
        "variables" => borrowed(Some(&f.variables), rest),
        "item" => borrowed(f.item.as_ref(), rest),
        "loop" => borrowed(f.loop_.as_ref(), rest),
        "__error" | "error" => borrowed(f.error.as_ref(), rest),
        "steps" => match rest.split_first() {
            None => Some(Cow::Owned(f.steps_value())),
            Some((k, more)) => {
                let k = k.as_ref();
                if (k == "__error" || k == "error") && f.error.is_some() {
                    borrowed(f.error.as_ref(), more)
                } else {
                    borrowed(f.steps.get(k), more)
                }
            }
        },
        "scenario" => match rest.first().map(|s| s.as_ref()) {
            Some("inputs") => match rest.get(1).map(|s| s.as_ref()) {
                Some("data") => borrowed(Some(&f.data), &rest[2..]),
                Some("variables") => borrowed(Some(&f.variables), &rest[2..]),
                Some(_) => None,
                None => Some(Cow::Owned(
                    serde_json::json!({"data": f.data, "variables": f.variables}),
                )),
            },
            Some(_) => None,
            None => Some(Cow::Owned(
                serde_json::json!({"inputs": {"data": f.data, "variables": f.variables}}),
            )),
        },
        _ => None,
    }
}

/// Look up a reference path (DSL §3.3) in the source of `f`. Missing → `None`.
pub fn lookup_path(f: &Frame, path: &str) -> Option<Value> {
    lookup_segments(f, &path_segments(path)).map(Cow::into_owned)
}

// ---------------------------------------------------------------- type hints (§3.4)

/// Apply a reference type hint.
pub fn apply_hint(v: Value, hint: Option<&str>) -> Value {
    match hint {
        Some("string") => Value::String(match v {
            Value::String(s) => s,
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            other => crate::json::to_string(&other),
        }),
        Some("integer") => Value::from(match &v {
            Value::String(s) => s.parse::<i64>().unwrap_or(0),
            Value::Number(n) => n
                .as_i64()
                .unwrap_or_else(|| n.as_f64().unwrap_or(0.0) as i64),
            Value::Bool(b) => *b as i64,
            _ => 0,
        }),
        Some("number") => crate::json::float(match &v {
            Value::String(s) => parse_number(s).unwrap_or(0.0),
            Value::Number(n) => n.as_f64().unwrap_or(0.0),
            _ => 0.0,
        }),
        Some("boolean") => Value::Bool(match &v {
            Value::String(s) => s == "true" || s == "1",
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    i != 0
                } else if let Some(u) = n.as_u64() {
                    u != 0
                } else {
                    let x = n.as_f64().unwrap_or(0.0);
                    x.is_finite() && x.fract() == 0.0 && x != 0.0
                }
            }
            Value::Bool(b) => *b,
            Value::Null => false,
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
        }),
        _ => v,
    }
}

// ---------------------------------------------------------------- mappings (§3.1, §3.2)

/// Evaluate one MappingValue.
pub fn eval_value(f: &Frame, mv: &Value) -> Value {
    eval_mv(f, mv, true)
}

fn eval_mv(f: &Frame, mv: &Value, hints: bool) -> Value {
    let value = mv.get("value").unwrap_or(&Value::Null);
    match mv.get("valueType").and_then(Value::as_str) {
        Some("immediate") => value.clone(),
        Some("reference") => {
            let found = value.as_str().and_then(|p| lookup_path(f, p));
            let v = match found {
                Some(v) if !v.is_null() => v,
                _ => mv.get("default").cloned().unwrap_or(Value::Null),
            };
            if hints {
                apply_hint(v, mv.get("type").and_then(Value::as_str))
            } else {
                v
            }
        }
        Some("composite") => match value {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), eval_value(f, v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(|v| eval_value(f, v)).collect()),
            _ => Value::Null,
        },
        Some("template") => Value::String(crate::template::render(value.as_str().unwrap_or(""), f)),
        _ => Value::Null,
    }
}

/// Set a (possibly dotted) destination key in `out` (DSL §3.1).
pub fn set_dotted(out: &mut Map<String, Value>, key: &str, v: Value) {
    if !key.contains('.') {
        out.insert(key.to_string(), v);
        return;
    }
    let segs: Vec<&str> = key.split('.').collect();
    let (last, parents) = segs
        .split_last()
        .expect("split yields at least one segment");
    let mut cur = out;
    for p in parents {
        let entry = cur
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        match entry {
            Value::Object(m) => cur = m,
            _ => return,
        }
    }
    cur.insert(last.to_string(), v);
}

/// Evaluate an InputMapping: an array of `[key, MappingValue]` pairs in document order,
/// or an object (sorted order), or `null` (`{}`).
pub fn eval_mapping(f: &Frame, mapping: &Value) -> Value {
    let mut out = Map::new();
    match mapping {
        Value::Array(pairs) => {
            for p in pairs {
                if let (Some(k), Some(mv)) = (p.get(0).and_then(Value::as_str), p.get(1)) {
                    let v = eval_value(f, mv);
                    set_dotted(&mut out, k, v);
                }
            }
        }
        Value::Object(m) => {
            for (k, mv) in m {
                let v = eval_value(f, mv);
                set_dotted(&mut out, k, v);
            }
        }
        _ => {}
    }
    Value::Object(out)
}

// ---------------------------------------------------------------- helpers (§4.2)

/// truthy(v)
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The float grammar of `to_number` (no trimming).
pub fn parse_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let body = match b.first() {
        Some(b'+') | Some(b'-') => &s[1..],
        _ => s,
    };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" || lower == "nan" {
        return s.parse().ok();
    }
    // digits [. digits] | . digits, then optional exponent
    let bytes = body.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let fs = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - fs;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let es = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    s.parse().ok()
}

/// to_number(v)
pub fn to_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => parse_number(s),
        _ => None,
    }
}

fn num_eq(a: f64, b: f64) -> bool {
    (a - b).abs() < f64::EPSILON
}

/// values_equal(a, b)
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(_), Value::Number(_)) => match (to_number(a), to_number(b)) {
            (Some(x), Some(y)) => num_eq(x, y),
            _ => false,
        },
        (Value::String(x), Value::String(y)) => x == y,
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            match (parse_number(s), n.as_f64()) {
                (Some(x), Some(y)) => num_eq(x, y),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => false,
    }
}

/// length(v)
pub fn length(v: &Value) -> u64 {
    match v {
        Value::Null => 0,
        Value::String(s) => s.len() as u64,
        Value::Array(a) => a.len() as u64,
        Value::Object(o) => o.len() as u64,
        _ => 1,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

// ---------------------------------------------------------------- conditions (§4)

fn is_condition(arg: &Value) -> bool {
    matches!(
        arg.get("type").and_then(Value::as_str),
        Some("operation") | Some("value")
    )
}

fn arg_bool(f: &Frame, arg: &Value) -> bool {
    if is_condition(arg) {
        eval_condition(f, arg)
    } else {
        truthy(&eval_value(f, arg))
    }
}

fn arg_value(f: &Frame, arg: &Value) -> Value {
    if is_condition(arg) {
        if arg.get("type").and_then(Value::as_str) == Some("operation")
            && arg.get("op").and_then(Value::as_str) == Some("LENGTH")
        {
            let args = arg.get("arguments").and_then(Value::as_array);
            return Value::from(match args.and_then(|a| a.first()) {
                Some(a0) => length(&arg_value(f, a0)),
                None => 0,
            });
        }
        Value::Bool(eval_condition(f, arg))
    } else {
        eval_value(f, arg)
    }
}

/// Apply a binary/unary operator to already evaluated values. `args` holds at most the
/// first two values; `n` is the number of arguments given.
pub fn apply_op(op: &str, args: &[Value]) -> bool {
    let a0 = args.first();
    let a1 = args.get(1);
    match op {
        "GT" | "GTE" | "LT" | "LTE" => {
            let (Some(x), Some(y)) = (a0.and_then(to_number), a1.and_then(to_number)) else {
                return false;
            };
            match op {
                "GT" => x > y,
                "GTE" => x >= y,
                "LT" => x < y,
                _ => x <= y,
            }
        }
        "EQ" => matches!((a0, a1), (Some(x), Some(y)) if values_equal(x, y)),
        "NE" => matches!((a0, a1), (Some(x), Some(y)) if !values_equal(x, y)),
        "STARTS_WITH" | "ENDS_WITH" => match (a0, a1) {
            (Some(Value::String(x)), Some(Value::String(y))) => {
                if op == "STARTS_WITH" {
                    x.starts_with(y.as_str())
                } else {
                    x.ends_with(y.as_str())
                }
            }
            _ => false,
        },
        "CONTAINS" => match (a0, a1) {
            (Some(Value::Array(arr)), Some(x)) => arr.iter().any(|e| values_equal(e, x)),
            _ => false,
        },
        "IN" => match (a0, a1) {
            (Some(x), Some(Value::Array(arr))) => arr.iter().any(|e| values_equal(e, x)),
            _ => false,
        },
        "NOT_IN" => match (a0, a1) {
            (Some(x), Some(Value::Array(arr))) => !arr.iter().any(|e| values_equal(e, x)),
            _ => true,
        },
        "LENGTH" => a0.is_some_and(|v| length(v) > 0),
        "IS_DEFINED" => a0.is_some_and(|v| !v.is_null()),
        "IS_EMPTY" => a0.is_none_or(is_empty),
        "IS_NOT_EMPTY" => a0.is_some_and(|v| !is_empty(v)),
        _ => false,
    }
}

/// Evaluate a Condition (DSL §4).
pub fn eval_condition(f: &Frame, cond: &Value) -> bool {
    match cond.get("type").and_then(Value::as_str) {
        Some("value") => truthy(&eval_mv(f, cond, false)),
        Some("operation") => {
            let op = cond.get("op").and_then(Value::as_str).unwrap_or("");
            let empty = Vec::new();
            let args = cond
                .get("arguments")
                .and_then(Value::as_array)
                .unwrap_or(&empty);
            match op {
                "AND" => args.iter().all(|a| arg_bool(f, a)),
                "OR" => args.iter().any(|a| arg_bool(f, a)),
                "NOT" => args.first().is_none_or(|a| !arg_bool(f, a)),
                _ => {
                    let vals: Vec<Value> = args.iter().take(2).map(|a| arg_value(f, a)).collect();
                    apply_op(op, &vals)
                }
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame() -> Frame {
        let mut f = Frame::for_tests(
            json!({"amount": 150, "items": [10, 20, 30], "a": {"b": 1}, "s": "héllo", "z": null,
                   "list": [{"k": "v"}]}),
            json!({"prefix": "ORD", "_tenant_id": "default"}),
        );
        f.store_envelope("step-1", json!({"outputs": {"x": [1, {"y": 2}]}}));
        f
    }

    fn r(path: &str) -> Value {
        eval_value(&frame(), &json!({"valueType": "reference", "value": path}))
    }

    #[test]
    fn segments() {
        assert_eq!(
            path_segments("steps['step-1'].outputs"),
            ["steps", "step-1", "outputs"]
        );
        assert_eq!(path_segments("a[0].b[12]"), ["a", "0", "b", "12"]);
        assert_eq!(path_segments("a[x]"), ["a[x]"]);
        assert_eq!(path_segments("data['a.b']"), ["data", "a", "b"]);
        assert_eq!(path_segments("a[]"), ["a", ""]);
        assert_eq!(path_segments("a..b"), ["a", "", "b"]);
    }

    #[test]
    fn references() {
        assert_eq!(r("data.amount"), json!(150));
        assert_eq!(r("data.items[1]"), json!(20));
        assert_eq!(r("data.items.2"), json!(30));
        assert_eq!(r("data.items[01]"), Value::Null);
        assert_eq!(r("data.items[3]"), Value::Null);
        assert_eq!(r("steps['step-1'].outputs.x[1].y"), json!(2));
        assert_eq!(r("scenario.inputs.variables.prefix"), json!("ORD"));
        assert_eq!(r("scenario.inputs.data.a.b"), json!(1));
        assert_eq!(
            r("variables"),
            json!({"prefix": "ORD", "_tenant_id": "default"})
        );
        assert_eq!(r("nothing.x"), Value::Null);
        assert_eq!(r("data.s.x"), Value::Null);
    }

    #[test]
    fn defaults_and_hints() {
        let f = frame();
        let ev = |v: Value| eval_value(&f, &v);
        assert_eq!(
            ev(json!({"valueType":"reference","value":"data.z","default":5})),
            json!(5)
        );
        assert_eq!(
            ev(json!({"valueType":"reference","value":"data.q","default":"7","type":"integer"})),
            json!(7)
        );
        assert_eq!(
            ev(json!({"valueType":"reference","value":"data.a.b","default":5})),
            json!(1)
        );
    }

    #[test]
    fn type_hints() {
        let h = |v: Value, t: &str| apply_hint(v, Some(t));
        assert_eq!(h(json!(42), "string"), json!("42"));
        assert_eq!(h(json!(3.99), "string"), json!("3.99"));
        assert_eq!(h(json!(12.0), "string"), json!("12.0"));
        assert_eq!(h(json!(true), "string"), json!("true"));
        assert_eq!(h(json!(null), "string"), json!(""));
        assert_eq!(
            h(json!({"b":1,"a":[1]}), "string"),
            json!(r#"{"a":[1],"b":1}"#)
        );
        assert_eq!(h(json!("-12"), "integer"), json!(-12));
        assert_eq!(h(json!("+12"), "integer"), json!(12));
        assert_eq!(h(json!(" 12"), "integer"), json!(0));
        assert_eq!(h(json!("1.5"), "integer"), json!(0));
        assert_eq!(h(json!(12.0), "integer"), json!(12));
        assert_eq!(h(json!(-2.5), "integer"), json!(-2));
        assert_eq!(
            h(json!(18446744073709551615u64), "integer"),
            json!(9223372036854775807i64)
        );
        assert_eq!(h(json!(1e300), "integer"), json!(i64::MAX));
        assert_eq!(h(json!(true), "integer"), json!(1));
        assert_eq!(h(json!([1]), "integer"), json!(0));
        assert_eq!(h(json!("1e3"), "number"), json!(1000.0));
        assert_eq!(h(json!("inf"), "number"), json!(0.0));
        assert_eq!(h(json!("abc"), "number"), json!(0.0));
        assert_eq!(h(json!(5), "number"), json!(5.0));
        assert_eq!(h(json!(true), "number"), json!(0.0));
        assert_eq!(h(json!("true"), "boolean"), json!(true));
        assert_eq!(h(json!("1"), "boolean"), json!(true));
        assert_eq!(h(json!("yes"), "boolean"), json!(false));
        assert_eq!(h(json!(12.0), "boolean"), json!(true));
        assert_eq!(h(json!(1e300), "boolean"), json!(true));
        assert_eq!(h(json!(3.99), "boolean"), json!(false));
        assert_eq!(h(json!(5e-324), "boolean"), json!(false));
        assert_eq!(h(json!(0), "boolean"), json!(false));
        assert_eq!(h(json!([]), "boolean"), json!(false));
        assert_eq!(h(json!({"a":1}), "boolean"), json!(true));
        assert_eq!(h(json!({"a":1}), "json"), json!({"a":1}));
    }

    #[test]
    fn mapping_order_and_dots() {
        let f = frame();
        let im = |v: Value| eval_mapping(&f, &v);
        let imm = |v: Value| json!({"valueType": "immediate", "value": v});
        assert_eq!(
            im(json!([["a.b", imm(json!(1))], ["a", imm(json!(2))]])),
            json!({"a": 2})
        );
        assert_eq!(
            im(json!([["a", imm(json!(2))], ["a.b", imm(json!(1))]])),
            json!({"a": 2})
        );
        assert_eq!(
            im(json!([["a", imm(json!({}))], ["a.b", imm(json!(1))]])),
            json!({"a": {"b": 1}})
        );
        assert_eq!(
            im(json!([["a.x", imm(json!(1))], ["a.y", imm(json!(2))]])),
            json!({"a": {"x": 1, "y": 2}})
        );
        assert_eq!(im(Value::Null), json!({}));
        let comp = json!({"valueType": "composite", "value": {"k.1": imm(json!(1)), "arr": {"valueType": "composite", "value": [imm(json!("x"))]}}});
        assert_eq!(eval_value(&f, &comp), json!({"k.1": 1, "arr": ["x"]}));
    }

    #[test]
    fn numbers_and_equality() {
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number("+1.5"), Some(1.5));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number(" 5"), None);
        assert_eq!(parse_number("1_0"), None);
        assert!(parse_number("-Infinity").unwrap().is_infinite());
        assert!(parse_number("NaN").unwrap().is_nan());
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("."), None);
        assert_eq!(parse_number("1e"), None);
        assert!(values_equal(&json!(42), &json!(42.0)));
        assert!(values_equal(
            &json!(9007199254740992u64),
            &json!(9007199254740993u64)
        ));
        assert!(values_equal(&json!("42"), &json!(42)));
        assert!(!values_equal(&json!(true), &json!("true")));
        assert!(!values_equal(&json!(1), &json!(true)));
        assert!(!values_equal(&json!(null), &json!("")));
        assert!(values_equal(
            &json!({"a": [1, "x"]}),
            &json!({"a": [1.0, "x"]})
        ));
        assert_eq!(length(&json!("héllo")), 6);
        assert_eq!(length(&json!(5)), 1);
        assert!(!truthy(&json!("")));
        assert!(truthy(&json!("0")));
        assert!(!truthy(&json!(0.0)));
    }

    fn op(o: &str, args: Value) -> Value {
        json!({"type": "operation", "op": o, "arguments": args})
    }
    fn imm(v: Value) -> Value {
        json!({"valueType": "immediate", "value": v})
    }

    #[test]
    fn conditions() {
        let f = frame();
        let c = |v: Value| eval_condition(&f, &v);
        assert!(c(op(
            "GT",
            json!([{"valueType":"reference","value":"data.amount"}, imm(json!(100))])
        )));
        assert!(!c(op(
            "GT",
            json!([
                imm(json!(9223372036854775807i64)),
                imm(json!(9223372036854775806i64))
            ])
        )));
        assert!(c(op("GTE", json!([imm(json!("10")), imm(json!(true))]))));
        assert!(!c(op("LT", json!([imm(json!(null)), imm(json!(1))]))));
        assert!(c(op("AND", json!([]))));
        assert!(!c(op("OR", json!([]))));
        assert!(c(op("NOT", json!([]))));
        assert!(!c(op("NE", json!([imm(json!(1))]))));
        assert!(!c(op("EQ", json!([imm(json!(1))]))));
        assert!(!c(op(
            "CONTAINS",
            json!([imm(json!("abc")), imm(json!("b"))])
        )));
        assert!(c(op(
            "CONTAINS",
            json!([imm(json!([1, 2])), imm(json!(2.0))])
        )));
        assert!(c(op("IN", json!([imm(json!("2")), imm(json!([1, 2]))]))));
        assert!(c(op("NOT_IN", json!([imm(json!(1)), imm(json!("x"))]))));
        assert!(c(op("NOT_IN", json!([]))));
        assert!(c(op("IS_EMPTY", json!([]))));
        assert!(!c(op("IS_NOT_EMPTY", json!([]))));
        assert!(c(op("IS_NOT_EMPTY", json!([imm(json!(0))]))));
        assert!(!c(op("IS_EMPTY", json!([imm(json!(false))]))));
        assert!(!c(op(
            "IS_DEFINED",
            json!([{"valueType":"reference","value":"data.z"}])
        )));
        assert!(c(op("LENGTH", json!([imm(json!("x"))]))));
        assert!(!c(op("LENGTH", json!([]))));
        // LENGTH as operand: byte length
        assert!(c(op(
            "EQ",
            json!([
                op(
                    "LENGTH",
                    json!([{"valueType":"reference","value":"data.s"}])
                ),
                imm(json!(6))
            ])
        )));
        // nested value condition as an operand yields a boolean
        assert!(c(op(
            "EQ",
            json!([{"type":"value","valueType":"immediate","value":"x"}, imm(json!(true))])
        )));
        // plain mapping value as boolean operand: truthiness
        assert!(!c(op("AND", json!([imm(json!("a")), imm(json!(0))]))));
        assert!(c(
            json!({"type":"value","valueType":"reference","value":"data.items"})
        ));
        assert!(c(op(
            "STARTS_WITH",
            json!([imm(json!("hello")), imm(json!("he"))])
        )));
        assert!(!c(op("ENDS_WITH", json!([imm(json!(5)), imm(json!("5"))]))));
    }
}
