//! Helpers shared by several modules: cap paths, FileData, binary inputs, MIME types.

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::AgentError;

/// Standard base64 (with padding).
pub fn b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Standard base64 (with padding), strict.
pub fn b64_decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    base64::engine::general_purpose::STANDARD.decode(s)
}

/// The segments of a cap path (RUNTIME §9.1): `$.` removed, split on `.`; `""` → none.
pub fn cap_segments(path: &str) -> Vec<&str> {
    let p = path.strip_prefix("$.").unwrap_or(path);
    if p.is_empty() {
        Vec::new()
    } else {
        p.split('.').collect()
    }
}

/// The value at a cap path, or `None` when missing.
pub fn at_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for seg in cap_segments(path) {
        cur = match cur {
            Value::Object(o) => o.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The value at a cap path, `null` when missing.
pub fn at_path_or_null(v: &Value, path: &str) -> Value {
    at_path(v, path).cloned().unwrap_or(Value::Null)
}

/// MIME type by extension (RUNTIME §9.1).
pub fn mime_by_ext(name: &str) -> &'static str {
    let ext = match name.rsplit_once('.') {
        Some((_, e)) => e.to_lowercase(),
        None => return "application/octet-stream",
    };
    match ext.as_str() {
        "csv" => "text/csv",
        "json" => "application/json",
        "xml" => "application/xml",
        "txt" => "text/plain",
        "html" | "htm" => "text/html",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "zip" => "application/zip",
        "tar" => "application/x-tar",
        "gz" | "gzip" => "application/gzip",
        "md" => "text/markdown",
        "yaml" | "yml" => "application/x-yaml",
        "toml" => "application/toml",
        _ => "application/octet-stream",
    }
}

/// A FileData object.
pub fn file_data(bytes: &[u8], filename: Option<&str>, mime: Option<&str>) -> Value {
    let mut o = Map::new();
    o.insert("content".into(), json!(b64_encode(bytes)));
    if let Some(f) = filename {
        o.insert("filename".into(), json!(f));
    }
    if let Some(m) = mime {
        o.insert("mimeType".into(), json!(m));
    }
    Value::Object(o)
}

/// Bytes of a byte array; `Err((code suffix, message))`.
pub fn byte_array(a: &[Value]) -> Result<Vec<u8>, (&'static str, String)> {
    let mut out = Vec::with_capacity(a.len());
    for (i, x) in a.iter().enumerate() {
        match x {
            Value::Number(n) if n.is_i64() || n.is_u64() => match n.as_u64() {
                Some(b) if b <= 255 => out.push(b as u8),
                _ => {
                    return Err((
                        "BYTE_OUT_OF_RANGE",
                        format!("Byte value at index {i} is out of range (0-255): {n}"),
                    ))
                }
            },
            other => {
                return Err((
                    "INVALID_BYTE_ARRAY",
                    format!(
                        "Invalid byte array: element at index {i} is not an integer: {}",
                        crate::json::to_string(other)
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// A *binary input* (RUNTIME §9.1): FileData, base64 string or byte array.
/// Errors use the `FILE_*` codes.
pub fn binary_input(v: &Value) -> Result<Vec<u8>, AgentError> {
    match v {
        Value::String(s) => b64_decode(s.trim()).map_err(|e| {
            AgentError::new(
                "FILE_BASE64_DECODE_ERROR",
                format!("Failed to decode base64 content: {e}"),
            )
        }),
        Value::Object(o) => match o.get("content") {
            Some(Value::String(s)) => b64_decode(s.trim()).map_err(|e| {
                AgentError::new(
                    "FILE_BASE64_DECODE_ERROR",
                    format!("Failed to decode base64 content: {e}"),
                )
            }),
            _ => Err(AgentError::new(
                "FILE_INVALID_STRUCTURE",
                "Invalid file data: expected an object with a base64 'content' string",
            )),
        },
        Value::Array(a) => byte_array(a).map_err(|(c, m)| AgentError::new(&format!("FILE_{c}"), m)),
        other => Err(AgentError::new(
            "FILE_INVALID_INPUT_TYPE",
            format!(
                "Invalid input type: expected a FileData object, a base64 string or a byte array, got {}",
                crate::json::type_name(other)
            ),
        )),
    }
}

/// A binary input whose errors are re-coded for a module (`code`, keeping the message).
pub fn binary_input_as(v: &Value, code: &str) -> Result<Vec<u8>, AgentError> {
    binary_input(v).map_err(|e| AgentError::new(code, e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let v = json!({"a": {"b": [10, {"c": 3}]}});
        assert_eq!(at_path(&v, "a.b.1.c"), Some(&json!(3)));
        assert_eq!(at_path(&v, "$.a.b.0"), Some(&json!(10)));
        assert_eq!(at_path(&v, ""), Some(&v));
        assert_eq!(at_path(&v, "a.x"), None);
        assert_eq!(at_path(&v, "a.b.9"), None);
        assert_eq!(at_path_or_null(&json!(5), "x"), Value::Null);
    }

    #[test]
    fn mimes_and_binary() {
        assert_eq!(mime_by_ext("A.CSV"), "text/csv");
        assert_eq!(mime_by_ext("noext"), "application/octet-stream");
        assert_eq!(mime_by_ext("x.tar.gz"), "application/gzip");
        assert_eq!(binary_input(&json!("aGk=")).unwrap(), b"hi");
        assert_eq!(binary_input(&json!({"content": "aGk="})).unwrap(), b"hi");
        assert_eq!(binary_input(&json!([104, 105])).unwrap(), b"hi");
        let code = |v: Value| binary_input(&v).unwrap_err().code;
        assert_eq!(code(json!("!!")), "FILE_BASE64_DECODE_ERROR");
        assert_eq!(code(json!({"x": 1})), "FILE_INVALID_STRUCTURE");
        assert_eq!(code(json!([1, "a"])), "FILE_INVALID_BYTE_ARRAY");
        assert_eq!(code(json!([256])), "FILE_BYTE_OUT_OF_RANGE");
        assert_eq!(code(json!([-1])), "FILE_BYTE_OUT_OF_RANGE");
        assert_eq!(code(json!(5)), "FILE_INVALID_INPUT_TYPE");
    }
}
