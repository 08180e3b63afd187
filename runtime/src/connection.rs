//! Connections (RUNTIME §9.2, DSL §5.9, §6.3): fetched from `CONNECTION_SERVICE_URL`.
//!
//! Only `rt::steps::connection` and `rt::steps::agent_with_connection` reference this module,
//! so binaries without connections do not link the HTTP client. Connection data is never
//! checkpointed, logged or printed: error messages name only the connection id.

use std::time::Duration;

use serde_json::{json, Value};

use crate::agents::http::{pct_encode, retry_after_ms};
use crate::errors::step_error;
use crate::frame::RunCtx;
use crate::graph::{Failure, StepMeta};

/// Fetch timeout.
const TIMEOUT: Duration = Duration::from_secs(30);

/// What identifies a fetch besides the run context.
pub struct Request<'a> {
    pub connection_id: &'a str,
    /// `integrationId` (Connection step) or `<agentId>_<capabilityId>` (Agent).
    pub tag: &'a str,
}

fn err(m: &StepMeta, code: &str, msg: &str, category: &str) -> Failure {
    Failure::Error(step_error(m, code, msg, category))
}

/// The connection URL (RUNTIME §9.2).
pub fn url(base: &str, ctx: &RunCtx, m: &StepMeta, r: &Request) -> String {
    format!(
        "{}/{}/{}?tag={}&stepId={}&scenarioId={}&instanceId={}",
        base.trim_end_matches('/'),
        pct_encode(&ctx.tenant_id),
        pct_encode(r.connection_id),
        pct_encode(r.tag),
        pct_encode(m.key),
        pct_encode(&ctx.scenario_id),
        pct_encode(&ctx.instance_id),
    )
}

/// Fetch a connection: `{parameters, integration_id, connection_subtype}`. Waits (with safe
/// points) while the service reports `rate_limit.is_limited`.
pub fn fetch(ctx: &RunCtx, m: &StepMeta, r: &Request) -> Result<Value, Failure> {
    let base = std::env::var("CONNECTION_SERVICE_URL").unwrap_or_default();
    if base.trim().is_empty() {
        return Err(err(
            m,
            "CONNECTION_SERVICE_NOT_CONFIGURED",
            "Connection service URL is not configured (CONNECTION_SERVICE_URL)",
            "permanent",
        ));
    }
    let u = url(base.trim(), ctx, m, r);
    let id = r.connection_id;
    let agent = ureq::AgentBuilder::new().timeout(TIMEOUT).build();
    loop {
        let resp = match agent.get(&u).call() {
            Ok(resp) => resp,
            Err(ureq::Error::Status(404, _)) => {
                return Err(err(
                    m,
                    "CONNECTION_NOT_FOUND",
                    &format!("Connection '{id}' not found"),
                    "permanent",
                ))
            }
            Err(ureq::Error::Status(429, resp)) => {
                let mut e = step_error(
                    m,
                    "CONNECTION_RATE_LIMITED",
                    &format!("Connection '{id}' is rate limited"),
                    "transient",
                );
                if let Some(ms) = retry_after_ms(resp.header("retry-after")) {
                    e["retryAfterMs"] = json!(ms);
                }
                return Err(Failure::Error(e));
            }
            Err(ureq::Error::Status(s, _)) => {
                return Err(err(
                    m,
                    "CONNECTION_FETCH_FAILED",
                    &format!("Failed to fetch connection '{id}': HTTP {s}"),
                    "transient",
                ))
            }
            Err(ureq::Error::Transport(t)) => {
                return Err(err(
                    m,
                    "CONNECTION_FETCH_FAILED",
                    &format!("Failed to fetch connection '{id}': {}", t.kind()),
                    "transient",
                ))
            }
        };
        let body: Value = match resp
            .into_string()
            .ok()
            .and_then(|s| crate::json::parse_unbounded(&s).ok())
        {
            Some(v) => v,
            None => {
                return Err(err(
                    m,
                    "CONNECTION_FETCH_FAILED",
                    &format!("Failed to fetch connection '{id}': invalid response body"),
                    "transient",
                ))
            }
        };
        let limited = body
            .pointer("/rate_limit/is_limited")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if limited {
            let wait = body
                .pointer("/rate_limit/retry_after_ms")
                .and_then(Value::as_u64)
                .unwrap_or(1000);
            ctx.sleep(wait)?;
            continue;
        }
        if !body.is_object() {
            return Err(err(
                m,
                "CONNECTION_FETCH_FAILED",
                &format!("Failed to fetch connection '{id}': invalid response body"),
                "transient",
            ));
        }
        return Ok(json!({
            "parameters": body.get("parameters").cloned().unwrap_or_else(|| json!({})),
            "integration_id": body.get("integration_id").cloned().unwrap_or(Value::Null),
            "connection_subtype": body.get("connection_subtype").cloned().unwrap_or(Value::Null),
        }));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Mutex, OnceLock};

    use serde_json::{json, Value};

    use super::*;
    use crate::agents::test_server::{dead_url, serve, Req, Resp};
    use crate::frame::Frame;
    use crate::graph::{StepResult, StepType};

    /// Tests that set `CONNECTION_SERVICE_URL` run one at a time.
    static LOCK: Mutex<()> = Mutex::new(());
    static FETCHES: AtomicUsize = AtomicUsize::new(0);
    static LIMITED: AtomicUsize = AtomicUsize::new(0);
    static ECHO: OnceLock<String> = OnceLock::new();

    static META: StepMeta = StepMeta {
        key: "conn step",
        name: Some("Conn"),
        step_type: StepType::Connection,
    };
    static AGENT: StepMeta = StepMeta {
        key: "call",
        name: None,
        step_type: StepType::Agent,
    };
    static AGENT2: StepMeta = StepMeta {
        key: "call2",
        name: None,
        step_type: StepType::Agent,
    };

    fn handler(r: &Req) -> Resp {
        let (path, query) = r.path.split_once('?').unwrap_or((&r.path, ""));
        let ok = |v: Value| (200, vec![], v.to_string().into_bytes());
        match path {
            "/echo" => ok(json!({"auth": r.headers.get("authorization")})),
            "/default/c1" | "/t%2F1/c%201" => {
                FETCHES.fetch_add(1, Ordering::SeqCst);
                ok(
                    json!({"parameters": {"token": "SECRET-TOKEN", "base_url": ECHO.get(),
                                         "query": query},
                          "integration_id": "http_bearer", "connection_subtype": "x",
                          "rate_limit": {"is_limited": false}}),
                )
            }
            "/default/limited" => {
                if LIMITED.fetch_add(1, Ordering::SeqCst) == 0 {
                    ok(json!({"rate_limit": {"is_limited": true, "retry_after_ms": 50}}))
                } else {
                    ok(json!({"parameters": {}, "integration_id": "http_api_key"}))
                }
            }
            "/default/busy" => (429, vec![("Retry-After".into(), "2".into())], vec![]),
            "/default/boom" => (500, vec![], b"SECRET-TOKEN".to_vec()),
            "/default/garbage" => (200, vec![], b"<html>".to_vec()),
            _ => (404, vec![], vec![]),
        }
    }

    fn base() -> String {
        static BASE: OnceLock<String> = OnceLock::new();
        BASE.get_or_init(|| {
            let b = serve(handler);
            let _ = ECHO.set(b.clone());
            b
        })
        .clone()
    }

    fn fetch_id(id: &str) -> Result<Value, Failure> {
        let ctx = RunCtx::for_tests();
        fetch(
            &ctx,
            &META,
            &Request {
                connection_id: id,
                tag: "http_bearer",
            },
        )
    }

    fn error_of(r: Result<Value, Failure>) -> Value {
        match r {
            Err(Failure::Error(e)) => e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fetch_outcomes() {
        let _g = LOCK.lock().unwrap_or_else(|p| p.into_inner());
        std::env::remove_var("CONNECTION_SERVICE_URL");
        let e = error_of(fetch_id("c1"));
        assert_eq!(e["code"], "CONNECTION_SERVICE_NOT_CONFIGURED");
        assert_eq!(e["category"], "permanent");
        std::env::set_var("CONNECTION_SERVICE_URL", format!("{}/", base()));
        let v = fetch_id("c1").unwrap();
        assert_eq!(v["integration_id"], "http_bearer");
        assert_eq!(v["connection_subtype"], "x");
        assert_eq!(v["parameters"]["token"], "SECRET-TOKEN");
        assert!(v.get("rate_limit").is_none());
        assert_eq!(
            v["parameters"]["query"],
            "tag=http_bearer&stepId=conn%20step&scenarioId=scenario&instanceId=test"
        );
        let e = error_of(fetch_id("missing"));
        assert_eq!(
            (e["code"].clone(), e["category"].clone()),
            (json!("CONNECTION_NOT_FOUND"), json!("permanent"))
        );
        assert_eq!(e["stepId"], "conn step");
        let e = error_of(fetch_id("busy"));
        assert_eq!(e["code"], "CONNECTION_RATE_LIMITED");
        assert_eq!(e["category"], "transient");
        assert_eq!(e["retryAfterMs"], 2000);
        let e = error_of(fetch_id("boom"));
        assert_eq!(
            (e["code"].clone(), e["category"].clone()),
            (json!("CONNECTION_FETCH_FAILED"), json!("transient"))
        );
        assert!(!e.to_string().contains("SECRET"));
        let e = error_of(fetch_id("garbage"));
        assert_eq!(e["code"], "CONNECTION_FETCH_FAILED");
        LIMITED.store(0, Ordering::SeqCst);
        let v = fetch_id("limited").unwrap();
        assert_eq!(v["integration_id"], "http_api_key");
        assert_eq!(v["connection_subtype"], Value::Null);
        assert_eq!(LIMITED.load(Ordering::SeqCst), 2);
        std::env::set_var("CONNECTION_SERVICE_URL", dead_url());
        let e = error_of(fetch_id("c1"));
        assert_eq!(
            (e["code"].clone(), e["category"].clone()),
            (json!("CONNECTION_FETCH_FAILED"), json!("transient"))
        );
        std::env::remove_var("CONNECTION_SERVICE_URL");
    }

    #[test]
    fn url_is_percent_encoded() {
        let ctx = RunCtx::new(crate::store::Store::memory("t"), "i/1", "t/1", "s 1");
        let u = url(
            "http://h/",
            &ctx,
            &META,
            &Request {
                connection_id: "c 1",
                tag: "a&b",
            },
        );
        assert_eq!(
            u,
            "http://h/t%2F1/c%201?tag=a%26b&stepId=conn%20step&scenarioId=s%201&instanceId=i%2F1"
        );
    }

    #[test]
    fn steps_connection_and_agent_with_connection() {
        let _g = LOCK.lock().unwrap_or_else(|p| p.into_inner());
        std::env::set_var("CONNECTION_SERVICE_URL", base());
        let mut f = Frame::for_tests(json!({}), json!({}));
        let cfg = json!({"connectionId": "c1", "integrationId": "http_bearer"});
        match crate::steps::connection(&mut f, &META, &cfg) {
            StepResult::Next(env) => {
                assert_eq!(env["outputs"]["integration_id"], "http_bearer");
                assert_eq!(env["stepType"], "Connection");
            }
            other => panic!("{other:?}"),
        }
        let cfg = json!({"connectionId": "missing", "integrationId": "http_bearer"});
        match crate::steps::connection(&mut f, &META, &cfg) {
            StepResult::Fail(Failure::Error(e)) => assert_eq!(e["code"], "CONNECTION_NOT_FOUND"),
            other => panic!("{other:?}"),
        }
        // Agent with connectionId: fetched per executing attempt, never on replay.
        let cfg = json!({"agentId": "http", "capabilityId": "http-request", "connectionId": "c1",
                         "inputMapping": [["url", {"valueType": "immediate", "value": "echo"}]]});
        let before = FETCHES.load(Ordering::SeqCst);
        let out = match crate::steps::agent_with_connection(
            &mut f,
            &AGENT,
            &cfg,
            crate::agents::http::http_request,
        ) {
            StepResult::Next(env) => env["outputs"].clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(out["body"]["auth"], "Bearer SECRET-TOKEN");
        assert_eq!(FETCHES.load(Ordering::SeqCst), before + 1);
        let q = format!(
            "{}",
            f.ctx
                .lookup("root::agent::http::http-request::call")
                .unwrap()
                .unwrap()
        );
        assert!(q.contains("Bearer SECRET-TOKEN")); // the echo body (the output) is the server's
        assert!(!q.contains("base_url"));
        match crate::steps::agent_with_connection(
            &mut f,
            &AGENT,
            &cfg,
            crate::agents::http::http_request,
        ) {
            StepResult::Next(_) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(
            FETCHES.load(Ordering::SeqCst),
            before + 1,
            "replay must not fetch"
        );
        // The plain `agent` helper refuses connectionId.
        let cfg2 = json!({"agentId": "http", "capabilityId": "http-request", "connectionId": "c1",
                          "inputMapping": []});
        match crate::steps::agent(&mut f, &AGENT, &cfg2, crate::agents::http::http_request) {
            StepResult::Fail(Failure::Error(e)) => assert_eq!(e["code"], "CONNECTION_FETCH_FAILED"),
            other => panic!("{other:?}"),
        }
        // A failing fetch is an Agent error with the agent members.
        let cfg3 = json!({"agentId": "http", "capabilityId": "http-request", "connectionId": "missing",
                          "maxRetries": 0, "inputMapping": []});
        match crate::steps::agent_with_connection(
            &mut f,
            &AGENT2,
            &cfg3,
            crate::agents::http::http_request,
        ) {
            StepResult::Fail(Failure::Error(e)) => {
                assert_eq!(e["code"], "CONNECTION_NOT_FOUND");
                assert_eq!(e["stepType"], "Agent");
                assert_eq!(e["capabilityId"], "http-request");
            }
            other => panic!("{other:?}"),
        }
        std::env::remove_var("CONNECTION_SERVICE_URL");
    }
}
