//! `http/http-request` against a local server.

use std::time::Duration;

use serde_json::{json, Value};

use super::test_server::{dead_url, serve, Req, Resp};
use super::*;

fn handler(r: &Req) -> Resp {
    let echo = || {
        json!({"method": r.method, "path": r.path, "headers": r.headers,
               "body": String::from_utf8_lossy(&r.body)})
    };
    let j = |v: Value| v.to_string().into_bytes();
    let path = r.path.split('?').next().unwrap_or("");
    match path {
        "/echo" => (
            200,
            vec![("Content-Type".into(), "application/json".into())],
            j(echo()),
        ),
        "/text" => (
            200,
            vec![
                ("X-Multi".into(), "a".into()),
                ("X-Multi".into(), "b".into()),
            ],
            b"{not json".to_vec(),
        ),
        "/bin" => (200, vec![], vec![0, 1, 2, 255]),
        "/slow" => {
            std::thread::sleep(Duration::from_millis(600));
            (200, vec![], b"late".to_vec())
        }
        "/limited" => (
            429,
            vec![("Retry-After".into(), "3".into())],
            b"slow down".to_vec(),
        ),
        p if p.starts_with("/status/") => {
            let code: u16 = p[8..].parse().unwrap_or(500);
            (code, vec![], b"bad thing".to_vec())
        }
        _ => (404, vec![], b"no route".to_vec()),
    }
}

fn req(input: Value) -> Result<Value, AgentError> {
    http::http_request(input)
}

#[test]
fn methods_headers_query_bodies() {
    let base = serve(handler);
    let r = req(
        json!({"url": format!("{base}/echo"), "headers": {"X-A": "1", "X-N": 5},
                       "query_parameters": {"q": "a b&c/é", "z": "~ok"}}),
    )
    .unwrap();
    assert_eq!(r["status_code"], 200);
    assert_eq!(r["success"], true);
    assert_eq!(r["headers"]["content-type"], "application/json");
    let b = &r["body"];
    assert_eq!(b["method"], "GET");
    assert_eq!(b["path"], "/echo?q=a%20b%26c%2F%C3%A9&z=~ok");
    assert_eq!(b["headers"]["x-a"], "1");
    assert_eq!(b["headers"]["x-n"], "5");
    assert!(b["headers"].get("content-type").is_none());
    let r = req(
        json!({"url": format!("{base}/echo?x=1"), "method": "POST", "body": {"k": [1, 2]},
                       "query_parameters": {"y": "2"}}),
    )
    .unwrap();
    let b = &r["body"];
    assert_eq!(b["path"], "/echo?x=1&y=2");
    assert_eq!(b["body"], "{\"k\":[1,2]}");
    assert_eq!(b["headers"]["content-type"], "application/json");
    let r = req(
        json!({"url": format!("{base}/echo"), "method": "PUT", "body": "raw text",
                       "headers": {"content-type": "text/plain"}}),
    )
    .unwrap();
    assert_eq!(r["body"]["body"], "raw text");
    assert_eq!(r["body"]["headers"]["content-type"], "text/plain");
    for m in ["DELETE", "PATCH", "OPTIONS"] {
        let r = req(json!({"url": format!("{base}/echo"), "method": m, "body": ""})).unwrap();
        assert_eq!(r["body"]["method"], m);
        assert_eq!(r["body"]["body"], "");
    }
    // GET never sends a body
    let r = req(json!({"url": format!("{base}/echo"), "body": {"a": 1}})).unwrap();
    assert_eq!(r["body"]["body"], "");
    let r = req(json!({"url": format!("{base}/echo"), "method": "HEAD"})).unwrap();
    assert_eq!(
        (r["status_code"].clone(), r["body"].clone()),
        (json!(200), json!(""))
    );
    assert_eq!(
        req(json!({"url": "x", "method": "TRACE"}))
            .unwrap_err()
            .code,
        "INPUT_DESERIALIZATION_ERROR"
    );
}

#[test]
fn response_types() {
    let base = serve(handler);
    let r = req(json!({"url": format!("{base}/text")})).unwrap();
    assert_eq!(r["body"], "{not json");
    assert_eq!(r["headers"]["x-multi"], "a, b");
    let r = req(json!({"url": format!("{base}/echo"), "response_type": "text"})).unwrap();
    assert!(r["body"].as_str().unwrap().starts_with('{'));
    let r = req(json!({"url": format!("{base}/bin"), "response_type": "binary"})).unwrap();
    assert_eq!(r["body"], "AAEC/w==");
    let r = req(json!({"url": format!("{base}/bin"), "response_type": "text"})).unwrap();
    assert_eq!(r["body"], "\u{0}\u{1}\u{2}\u{fffd}");
}

#[test]
fn errors_and_fail_on_error() {
    let base = serve(handler);
    let cases = [
        (400, "HTTP_BAD_REQUEST", "permanent"),
        (401, "HTTP_UNAUTHORIZED", "permanent"),
        (403, "HTTP_FORBIDDEN", "permanent"),
        (404, "HTTP_NOT_FOUND", "permanent"),
        (408, "HTTP_TIMEOUT", "transient"),
        (418, "HTTP_ERROR", "permanent"),
        (500, "HTTP_INTERNAL_ERROR", "transient"),
        (502, "HTTP_BAD_GATEWAY", "transient"),
        (503, "HTTP_SERVICE_UNAVAILABLE", "transient"),
        (504, "HTTP_GATEWAY_TIMEOUT", "transient"),
        (599, "HTTP_ERROR", "transient"),
    ];
    for (s, code, cat) in cases {
        let url = format!("{base}/status/{s}");
        let e = req(json!({"url": url})).unwrap_err();
        assert_eq!((e.code.as_str(), e.category), (code, cat), "{s}");
        assert_eq!(
            e.severity,
            if cat == "transient" {
                "warning"
            } else {
                "error"
            }
        );
        assert_eq!(e.message, format!("HTTP {s} error: bad thing"));
        assert_eq!(e.attributes["status_code"], s.to_string());
        assert_eq!(e.attributes["url"], url);
    }
    let e = req(json!({"url": format!("{base}/limited")})).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.retry_after_ms),
        ("HTTP_RATE_LIMITED", Some(3000))
    );
    let r = req(json!({"url": format!("{base}/status/500"), "fail_on_error": false})).unwrap();
    assert_eq!(r["status_code"], 500);
    assert_eq!(r["success"], false);
    assert_eq!(r["body"], "bad thing");
}

#[test]
fn timeout_and_refused() {
    let base = serve(handler);
    let e = req(json!({"url": format!("{base}/slow"), "timeout_ms": 100})).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.category, e.severity),
        ("NETWORK_ERROR", "transient", "warning")
    );
    let r = req(json!({"url": format!("{base}/slow"), "timeout_ms": 5000})).unwrap();
    assert_eq!(r["body"], "late");
    let dead = dead_url();
    let e = req(json!({"url": format!("{dead}/x")})).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.category),
        ("NETWORK_ERROR", "transient")
    );
    assert_eq!(e.attributes["url"], format!("{dead}/x"));
    let e = req(json!({"url": "not a url"})).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.category),
        ("CAPABILITY_ERROR", "permanent")
    );
}

#[test]
fn connection_extractors() {
    let base = serve(handler);
    let bearer = json!({"integration_id": "http_bearer", "parameters": {"token": "T0K", "base_url": format!("{base}/")}});
    let r = req(json!({"url": "/echo", "_connection": bearer})).unwrap();
    let h = &r["body"]["headers"];
    assert_eq!(h["authorization"], "Bearer T0K");
    assert_eq!(h["content-type"], "application/json");
    // input headers override connection headers
    let r = req(json!({"url": "echo", "_connection": bearer, "headers": {"AUTHORIZATION": "x"}}))
        .unwrap();
    assert_eq!(r["body"]["headers"]["authorization"], "x");
    // absolute URLs are not prefixed
    let r = req(json!({"url": format!("{base}/echo"), "_connection": bearer})).unwrap();
    assert_eq!(r["body"]["path"], "/echo");
    let key =
        json!({"integration_id": "http_api_key", "parameters": {"api_key": "K", "base_url": base}});
    let r = req(json!({"url": "echo", "_connection": key})).unwrap();
    assert_eq!(r["body"]["headers"]["x-api-key"], "K");
    let key = json!({"integration_id": "http_api_key",
                     "parameters": {"api_key": "K", "header_name": "X-Custom"}});
    let r = req(json!({"url": format!("{base}/echo"), "_connection": key})).unwrap();
    assert_eq!(r["body"]["headers"]["x-custom"], "K");
    let e = req(json!({"url": format!("{base}/echo"),
                       "_connection": {"integration_id": "http_bearer", "parameters": {}}}))
    .unwrap_err();
    assert_eq!(e.code, "CAPABILITY_ERROR");
    assert!(!e.message.contains("T0K"));
    assert_eq!(
        req(json!({"url": "x", "_connection": "secret"}))
            .unwrap_err()
            .code,
        "INPUT_DESERIALIZATION_ERROR"
    );
}
