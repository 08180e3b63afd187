//! `http` module (RUNTIME §9.9): `http-request` over ureq (rustls). Only binaries that call
//! this capability link the HTTP client.

use std::io::Read;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::common::b64_encode;
use super::{dflt, opt, prepare, req, AgentError, Cap, Module, Ty};

pub static HTTP_REQUEST: Cap = Cap {
    id: "http-request",
    section: "9.9",
    available: true,
    side_effects: true,
    inputs: &[
        req("url", Ty::Str),
        dflt("method", Ty::Str, "\"GET\"")
            .one_of(&["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
        dflt("headers", Ty::Object, "{}").values("string"),
        dflt("query_parameters", Ty::Object, "{}").values("string"),
        dflt("body", Ty::Any, "null"),
        dflt("body_type", Ty::Str, "\"json\"").one_of(&["json", "text", "binary", "multipart"]),
        dflt("multipart", Ty::Array, "[]").items("object"),
        dflt("response_type", Ty::Str, "\"json\"").one_of(&["json", "text", "binary"]),
        dflt("timeout_ms", Ty::UInt, "30000"),
        dflt("fail_on_error", Ty::Bool, "true"),
        opt("_connection", Ty::Connection),
    ],
    output:
        "`{\"status_code\": n, \"headers\": {name: value}, \"body\": <b>, \"success\": <2xx>}`.",
};

pub static MODULE: Module = Module {
    id: "http",
    secure: true,
    caps: &[(&HTTP_REQUEST, Some(http_request))],
};

/// Percent-encode everything except unreserved characters (RFC 3986).
pub(crate) fn pct_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn is_absolute_url(u: &str) -> bool {
    let l = u.trim_start().to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

fn set_header(headers: &mut Vec<(String, String)>, k: &str, v: String) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
    headers.push((k.to_string(), v));
}

/// Apply a connection's extractor (RUNTIME §9.2) to the URL and headers.
pub(crate) fn apply_connection(
    conn: &Value,
    url: &mut String,
    headers: &mut Vec<(String, String)>,
) -> Result<(), AgentError> {
    let params = conn.get("parameters").unwrap_or(&Value::Null);
    let p = |k: &str| {
        params
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let need = |k: &str| {
        p(k).ok_or_else(|| AgentError::plain(format!("Connection is missing parameter '{k}'")))
    };
    match conn.get("integration_id").and_then(Value::as_str) {
        Some("http_bearer") => {
            set_header(
                headers,
                "Authorization",
                format!("Bearer {}", need("token")?),
            );
        }
        Some("http_api_key") => {
            let name = p("header_name").unwrap_or("X-API-Key");
            set_header(headers, name, need("api_key")?.to_string());
        }
        _ => return Ok(()),
    }
    set_header(headers, "Content-Type", "application/json".to_string());
    if let Some(base) = p("base_url") {
        if !is_absolute_url(url) {
            let path = url.trim_start_matches('/');
            *url = if path.is_empty() {
                base.to_string()
            } else {
                format!("{}/{}", base.trim_end_matches('/'), path)
            };
        }
    }
    Ok(())
}

fn status_code(status: u16) -> (&'static str, bool) {
    match status {
        400 => ("HTTP_BAD_REQUEST", false),
        401 => ("HTTP_UNAUTHORIZED", false),
        403 => ("HTTP_FORBIDDEN", false),
        404 => ("HTTP_NOT_FOUND", false),
        408 => ("HTTP_TIMEOUT", true),
        429 => ("HTTP_RATE_LIMITED", true),
        500 => ("HTTP_INTERNAL_ERROR", true),
        502 => ("HTTP_BAD_GATEWAY", true),
        503 => ("HTTP_SERVICE_UNAVAILABLE", true),
        504 => ("HTTP_GATEWAY_TIMEOUT", true),
        s if (500..600).contains(&s) => ("HTTP_ERROR", true),
        _ => ("HTTP_ERROR", false),
    }
}

/// `Retry-After` in milliseconds (delta-seconds form).
pub(crate) fn retry_after_ms(v: Option<&str>) -> Option<u64> {
    v?.trim()
        .parse::<u64>()
        .ok()
        .map(|s| s.saturating_mul(1000))
}

pub fn http_request(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&HTTP_REQUEST, input)?;
    let method = a.opt_str("method").unwrap_or("GET").to_string();
    let mut url = a.str("url").to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(conn) = a.get("_connection") {
        apply_connection(conn, &mut url, &mut headers)?;
    }
    if let Some(h) = a.get("headers").and_then(Value::as_object) {
        for (k, v) in h {
            set_header(&mut headers, k, v.as_str().unwrap_or_default().to_string());
        }
    }
    if let Some(q) = a.get("query_parameters").and_then(Value::as_object) {
        for (k, v) in q {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&pct_encode(k));
            url.push('=');
            url.push_str(&pct_encode(v.as_str().unwrap_or_default()));
        }
    }
    let body: Option<String> = if matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
        match a.value("body") {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            other => Some(crate::json::to_string(other)),
        }
    } else {
        None
    };
    if body.is_some()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    let mut b = ureq::AgentBuilder::new();
    let timeout = a.opt_u64("timeout_ms").unwrap_or(30_000);
    if timeout > 0 {
        b = b.timeout(Duration::from_millis(timeout));
    }
    let mut req = b.build().request(&method, &url);
    for (k, v) in &headers {
        req = req.set(k, v);
    }
    let result = match &body {
        Some(s) => req.send_bytes(s.as_bytes()),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(t)) => {
            if matches!(
                t.kind(),
                ureq::ErrorKind::InvalidUrl | ureq::ErrorKind::UnknownScheme
            ) {
                return Err(AgentError::plain(format!("Invalid URL '{url}': {t}")).attr("url", url));
            }
            return Err(
                AgentError::new("NETWORK_ERROR", format!("HTTP request failed: {t}"))
                    .transient()
                    .attr("url", url),
            );
        }
    };
    let status = resp.status();
    let mut hdrs = Map::new();
    for name in resp.headers_names() {
        let vals: Vec<&str> = resp.all(&name);
        hdrs.insert(name.to_ascii_lowercase(), json!(vals.join(", ")));
    }
    let retry_after = retry_after_ms(resp.header("retry-after"));
    let mut bytes = Vec::new();
    if method != "HEAD" {
        resp.into_reader().read_to_end(&mut bytes).map_err(|e| {
            AgentError::new(
                "NETWORK_ERROR",
                format!("Failed to read response body: {e}"),
            )
            .transient()
            .attr("url", url.as_str())
        })?;
    }
    let success = (200..300).contains(&status);
    if !success && a.opt_bool("fail_on_error").unwrap_or(true) {
        let (code, transient) = status_code(status);
        let mut e = AgentError::new(
            code,
            format!("HTTP {status} error: {}", String::from_utf8_lossy(&bytes)),
        )
        .attr("status_code", status.to_string())
        .attr("url", url);
        if transient {
            e = e.transient();
        }
        e.retry_after_ms = retry_after;
        return Err(e);
    }
    let body = match a.str("response_type") {
        "binary" => json!(b64_encode(&bytes)),
        "text" => json!(String::from_utf8_lossy(&bytes)),
        _ => match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => v,
            Err(_) => json!(String::from_utf8_lossy(&bytes)),
        },
    };
    Ok(json!({"status_code": status, "headers": hdrs, "body": body, "success": success}))
}
