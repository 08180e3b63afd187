//! JSON text (DSL "conventions") and input parsing with the 256-level guard.

use serde::Deserialize;
use serde_json::Value;

/// Maximum nesting of arrays and objects in an input document (RUNTIME §2.2).
pub const MAX_DEPTH: usize = 256;

/// Canonical compact JSON text: sorted members, shortest round-trip floats
/// (`12.0`, `1e+16`, `1e-6`), integers without a fraction.
pub fn to_string(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}

/// Nesting depth of a JSON text (arrays and objects), computed without parsing,
/// so an over-deep document is rejected before any recursion happens.
pub fn text_depth(text: &str) -> usize {
    let mut depth = 0usize;
    let mut max = 0usize;
    let mut in_str = false;
    let mut esc = false;
    for b in text.bytes() {
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Parse JSON text without serde_json's recursion limit.
pub fn parse_unbounded(text: &str) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let v = Value::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(v)
}

/// Parse a document with at most `MAX_DEPTH` levels of nesting.
pub fn parse_limited(text: &str) -> Result<Value, String> {
    let d = text_depth(text);
    if d > MAX_DEPTH {
        return Err(format!(
            "document nests {d} levels of arrays and objects; the limit is {MAX_DEPTH}"
        ));
    }
    parse_unbounded(text)
}

/// The JSON type name used in messages: object, array, string, number, boolean, null.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A float as a JSON value (non-finite becomes `0`, as type hints require).
pub fn float(x: f64) -> Value {
    if x.is_finite() {
        Value::from(x)
    } else {
        Value::from(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> String {
        to_string(&parse_unbounded(text).unwrap())
    }

    #[test]
    fn number_conventions() {
        assert_eq!(t("12.0"), "12.0");
        assert_eq!(t("12"), "12");
        assert_eq!(t("1e16"), "1e+16");
        assert_eq!(t("1e15"), "1000000000000000.0");
        assert_eq!(t("0.000001"), "1e-6");
        assert_eq!(t("0.00001"), "0.00001");
        assert_eq!(t("-0"), "-0.0");
        assert_eq!(t("2.5"), "2.5");
        assert_eq!(t("0.1"), "0.1");
        assert_eq!(t("1e2"), "100.0");
        assert_eq!(t("18446744073709551615"), "18446744073709551615");
        assert_eq!(t("18446744073709551616"), "1.8446744073709552e+19");
        assert_eq!(t("-9223372036854775808"), "-9223372036854775808");
        assert_eq!(t("1.9999999999999998"), "1.9999999999999998");
    }

    #[test]
    fn sorted_members_and_escapes() {
        assert_eq!(
            t(r#"{"b":1,"a":[true,null],"é":"x\u0001"}"#),
            r#"{"a":[true,null],"b":1,"é":"x\u0001"}"#
        );
    }

    #[test]
    fn depth_guard() {
        let ok = "[".repeat(256) + &"]".repeat(256);
        assert!(parse_limited(&ok).is_ok());
        let bad = "[".repeat(257) + &"]".repeat(257);
        assert!(parse_limited(&bad).is_err());
        assert_eq!(text_depth(r#"{"a":"[[[[","b":[{}]}"#), 3);
        assert_eq!(text_depth(r#"["\"[[["]"#), 1);
    }
}
