//! Checkpoint keys (RUNTIME §5.2) and durable units with retries and timeouts (DSL §6.4, §6.5).

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::errors;
use crate::frame::RunCtx;
use crate::graph::{Failure, StepMeta};

/// Percent-encode a step key: every byte outside `A-Z a-z 0-9 - _` becomes `%XX`.
pub fn pct(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `scope::kind::ident`.
pub fn checkpoint_key(scope: &str, kind: &str, ident: &str) -> String {
    format!("{scope}::{kind}::{ident}")
}

/// Stack size of threads the runtime spawns.
pub(crate) const STACK: usize = 64 * 1024 * 1024;

/// Retry and timeout settings of a durable unit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retry {
    pub max_retries: u64,
    pub retry_delay: u64,
    pub timeout: Option<u64>,
}

impl Retry {
    /// Read `maxRetries`, `retryDelay` and `timeout` from a config object.
    pub fn from_cfg(cfg: &Value, default_retries: u64) -> Retry {
        let u = |k: &str| cfg.get(k).and_then(Value::as_u64);
        Retry {
            max_retries: u("maxRetries").unwrap_or(default_retries),
            retry_delay: u("retryDelay").unwrap_or(1000),
            timeout: u("timeout"),
        }
    }
}

pub(crate) type Attempt = Arc<dyn Fn() -> Result<Value, Failure> + Send + Sync>;

/// Run one attempt, on a thread with a deadline when `timeout` is set.
pub(crate) fn run_attempt(
    attempt: &Attempt,
    timeout: Option<u64>,
    meta: &StepMeta,
) -> Result<Value, Failure> {
    let Some(ms) = timeout else {
        return attempt();
    };
    let (tx, rx) = mpsc::channel();
    let a = attempt.clone();
    let spawned = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let r = catch_unwind(AssertUnwindSafe(|| a()));
            let _ = tx.send(r);
        });
    if spawned.is_err() {
        return attempt();
    }
    match rx.recv_timeout(Duration::from_millis(ms)) {
        Ok(Ok(r)) => r,
        Ok(Err(panic)) => resume_unwind(panic),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Failure::Error(errors::timeout(meta, ms))),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("attempt thread vanished"),
    }
}

/// A durable unit (RUNTIME §5.1): lookup, attempts with retries, put on success.
/// `attempt` returns the state to checkpoint.
pub(crate) fn durable(
    ctx: &Arc<RunCtx>,
    key: &str,
    meta: &StepMeta,
    retry: Retry,
    attempt: Attempt,
) -> Result<Value, Failure> {
    if let Some(state) = ctx.lookup(key)? {
        return Ok(state);
    }
    let total = retry.max_retries.saturating_add(1);
    let mut n: u64 = 1;
    loop {
        if n >= 2 {
            let exp = (n - 2).min(40) as u32;
            let wait = retry
                .retry_delay
                .saturating_mul(2u64.saturating_pow(exp))
                .min(3_600_000);
            ctx.sleep(wait)?;
        }
        match run_attempt(&attempt, retry.timeout, meta) {
            Ok(state) => return ctx.put(key, &state),
            Err(Failure::Error(e)) => {
                if errors::category(&e) == "permanent" || n >= total {
                    return Err(Failure::Error(e));
                }
                let msg = e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                eprintln!(
                    "{}",
                    crate::json::to_string(
                        &json!({"event": "retry", "checkpoint_id": key, "attempt": n, "error_message": msg})
                    )
                );
                ctx.custom_event(
                    "retry",
                    &json!({"checkpoint_id": key, "attempt": n, "error_message": msg}),
                );
                n += 1;
            }
            Err(c) => return Err(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::StepType;
    use std::sync::atomic::{AtomicU64, Ordering};

    static META: StepMeta = StepMeta {
        key: "s",
        name: None,
        step_type: StepType::Agent,
    };

    #[test]
    fn keys() {
        assert_eq!(pct("a.b"), "a%2Eb");
        assert_eq!(pct("x[1]"), "x%5B1%5D");
        assert_eq!(pct("plain-key_1"), "plain-key_1");
        assert_eq!(pct("é/:"), "%C3%A9%2F%3A");
        assert_eq!(
            checkpoint_key(
                "root/each[2]",
                "agent",
                &format!("text::upper::{}", pct("u p"))
            ),
            "root/each[2]::agent::text::upper::u%20p"
        );
    }

    #[test]
    fn retries_then_success_and_replay() {
        let ctx = RunCtx::for_tests();
        let calls = Arc::new(AtomicU64::new(0));
        let c = calls.clone();
        let attempt: Attempt = Arc::new(move || {
            if c.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(Failure::Error(
                    json!({"category": "transient", "message": "x"}),
                ))
            } else {
                Ok(json!(7))
            }
        });
        let r = Retry {
            max_retries: 3,
            retry_delay: 1,
            timeout: None,
        };
        assert_eq!(
            durable(&ctx, "k", &META, r, attempt.clone()).unwrap(),
            json!(7)
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(durable(&ctx, "k", &META, r, attempt).unwrap(), json!(7));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn permanent_stops_and_timeout() {
        let ctx = RunCtx::for_tests();
        let calls = Arc::new(AtomicU64::new(0));
        let c = calls.clone();
        let attempt: Attempt = Arc::new(move || {
            c.fetch_add(1, Ordering::SeqCst);
            Err(Failure::Error(
                json!({"category": "permanent", "message": "p"}),
            ))
        });
        let r = Retry {
            max_retries: 3,
            retry_delay: 1,
            timeout: None,
        };
        assert!(durable(&ctx, "p", &META, r, attempt).is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let slow: Attempt = Arc::new(|| {
            std::thread::sleep(Duration::from_millis(300));
            Ok(json!(1))
        });
        let r = Retry {
            max_retries: 0,
            retry_delay: 1,
            timeout: Some(20),
        };
        match durable(&ctx, "t", &META, r, slow) {
            Err(Failure::Error(e)) => {
                assert_eq!(e["code"], "TIMEOUT");
                assert_eq!(e["category"], "transient");
                assert_eq!(e["message"], "Step 's' timed out after 20 ms");
            }
            other => panic!("{other:?}"),
        }
        assert!(ctx.lookup("t").unwrap().is_none());
    }
}
