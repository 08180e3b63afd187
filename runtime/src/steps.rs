//! One helper per step type (DSL §5). Each takes the step's JSON config (API.md §1.2).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

use crate::durable::{self, checkpoint_key, pct, Retry};
use crate::errors::{self, step_error};
use crate::eval::{
    apply_op, eval_condition, eval_mapping, eval_value, lookup_segments, path_segments, walk,
};
use crate::frame::{Frame, RunCtx};
use crate::graph::{run_graph, ChildDef, Control, Failure, GraphDef, StepMeta, StepResult};
use crate::store::now_ms;

const NULL: Value = Value::Null;

fn member<'a>(cfg: &'a Value, k: &str) -> &'a Value {
    cfg.get(k).unwrap_or(&NULL)
}

fn str_or<'a>(cfg: &'a Value, k: &str, d: &'a str) -> &'a str {
    cfg.get(k).and_then(Value::as_str).unwrap_or(d)
}

fn fail(e: Value) -> StepResult {
    StepResult::Fail(Failure::Error(e))
}

fn with(mut env: Value, extras: &[(&str, Value)]) -> Value {
    if let Value::Object(m) = &mut env {
        for (k, v) in extras {
            m.insert((*k).to_string(), v.clone());
        }
    }
    env
}

fn echo(line: &Value) {
    eprintln!("{}", crate::json::to_string(line));
}

// ------------------------------------------------------------------ Finish (§5.1)

pub fn finish(f: &mut Frame, m: &'static StepMeta, cfg: &Value) -> StepResult {
    let obj = eval_mapping(f, member(cfg, "inputMapping"));
    let result = match obj.get("outputs") {
        Some(v) => v.clone(),
        None => obj,
    };
    StepResult::Finish(m.envelope(result.clone()), result)
}

// ------------------------------------------------------------------ Agent (§5.2)

/// How an Agent step reaches its capability. Built by each public helper, so only
/// `agent_dyn` references the string dispatcher (which links every capability).
type Target = Arc<dyn Fn(Value) -> Result<Value, crate::agents::AgentError> + Send + Sync>;

/// Fetches a connection for an Agent with `connectionId` (only `agent_with_connection`
/// passes one, so binaries without connections do not link the HTTP client).
type ConnFetch = fn(&RunCtx, &StepMeta, &crate::connection::Request) -> Result<Value, Failure>;

/// Agent step calling the capability function `cap` (`rt::agents::<module>::<capability>`).
/// A `connectionId` in `cfg` needs [`agent_with_connection`]; here it fails with
/// `CONNECTION_SERVICE_NOT_CONFIGURED` or `CONNECTION_FETCH_FAILED`.
pub fn agent(
    f: &mut Frame,
    m: &'static StepMeta,
    cfg: &Value,
    cap: crate::agents::CapFn,
) -> StepResult {
    agent_impl(f, m, cfg, direct(cap), None)
}

/// Agent step with `connectionId`: fetches the connection before each attempt that actually
/// executes (never on replay) and passes it as `inputs._connection` / `inputs.connection_id`.
pub fn agent_with_connection(
    f: &mut Frame,
    m: &'static StepMeta,
    cfg: &Value,
    cap: crate::agents::CapFn,
) -> StepResult {
    agent_impl(f, m, cfg, direct(cap), Some(crate::connection::fetch))
}

/// Agent step dispatched by `agentId`/`capabilityId` strings (links every capability;
/// for tests and tools, not for generated code).
pub fn agent_dyn(f: &mut Frame, m: &'static StepMeta, cfg: &Value) -> StepResult {
    let module = str_or(cfg, "agentId", "").to_lowercase();
    let cap = str_or(cfg, "capabilityId", "").to_string();
    let target: Target = Arc::new(move |input| crate::agents::call(&module, &cap, input));
    agent_impl(f, m, cfg, target, None)
}

fn direct(cap: crate::agents::CapFn) -> Target {
    Arc::new(move |input| crate::agents::run_guarded(cap, input))
}

fn agent_impl(
    f: &mut Frame,
    m: &'static StepMeta,
    cfg: &Value,
    target: Target,
    fetch: Option<ConnFetch>,
) -> StepResult {
    let agent_id = str_or(cfg, "agentId", "").to_string();
    let cap = str_or(cfg, "capabilityId", "").to_string();
    let input = eval_mapping(f, member(cfg, "inputMapping"));
    let connection_id = cfg
        .get("connectionId")
        .and_then(Value::as_str)
        .map(str::to_string);
    if connection_id.is_some() && fetch.is_none() {
        return fail(connection_error(m));
    }
    let module = agent_id.to_lowercase();
    let key = checkpoint_key(
        &f.scope,
        "agent",
        &format!("{module}::{cap}::{}", pct(m.key)),
    );
    let retry = Retry::from_cfg(cfg, 3);
    let ctx = f.ctx.clone();
    let attempt: durable::Attempt = Arc::new(move || {
        let step_err = |e: crate::agents::AgentError| {
            let mut obj = e.to_value();
            if let Value::Object(o) = &mut obj {
                o.insert("stepId".into(), m.key.into());
                o.insert("stepName".into(), m.name().into());
                o.insert("stepType".into(), "Agent".into());
                o.insert("agentId".into(), agent_id.clone().into());
                o.insert("capabilityId".into(), cap.clone().into());
            }
            Failure::Error(obj)
        };
        let mut input = input.clone();
        if let (Some(id), Some(fetch)) = (&connection_id, fetch) {
            let tag = format!("{module}_{cap}");
            let conn = fetch(
                &ctx,
                m,
                &crate::connection::Request {
                    connection_id: id,
                    tag: &tag,
                },
            )
            .map_err(|fl| match fl {
                Failure::Error(mut e) => {
                    e["agentId"] = json!(agent_id);
                    e["capabilityId"] = json!(cap);
                    Failure::Error(e)
                }
                other => other,
            })?;
            if let Value::Object(o) = &mut input {
                o.insert("connection_id".into(), json!(id));
                o.insert("_connection".into(), conn);
            }
        }
        target(input).map_err(step_err)
    });
    match durable::durable(&f.ctx, &key, m, retry, attempt) {
        Ok(out) => StepResult::Next(m.envelope(out)),
        Err(e) => StepResult::Fail(e),
    }
}

/// The error of a connection use in a binary built without connection support.
fn connection_error(m: &StepMeta) -> Value {
    match std::env::var("CONNECTION_SERVICE_URL") {
        Ok(u) if !u.trim().is_empty() => step_error(
            m,
            "CONNECTION_FETCH_FAILED",
            "this step was compiled without connection support (use rt::steps::agent_with_connection)",
            "transient",
        ),
        _ => step_error(
            m,
            "CONNECTION_SERVICE_NOT_CONFIGURED",
            "Connection service URL is not configured (CONNECTION_SERVICE_URL)",
            "permanent",
        ),
    }
}

// ------------------------------------------------------------------ Connection (§5.9)

/// Connection step: fetch the connection (never checkpointed; fetched on every run).
pub fn connection(f: &mut Frame, m: &'static StepMeta, cfg: &Value) -> StepResult {
    let id = str_or(cfg, "connectionId", "");
    let tag = str_or(cfg, "integrationId", "");
    let r = crate::connection::Request {
        connection_id: id,
        tag,
    };
    match crate::connection::fetch(&f.ctx, m, &r) {
        Ok(v) => StepResult::Next(m.envelope(v)),
        Err(e) => StepResult::Fail(e),
    }
}

// ------------------------------------------------------------------ Conditional (§5.3)

pub fn conditional(f: &mut Frame, m: &'static StepMeta, cfg: &Value) -> StepResult {
    let b = eval_condition(f, member(cfg, "condition"));
    StepResult::Branch(m.envelope(json!({"result": b})), b.to_string())
}

// ------------------------------------------------------------------ Switch (§5.4)

fn case_matches(value: &Value, match_type: &str, mat: &Value) -> bool {
    let v = value.clone();
    match match_type {
        "EQ" if mat.is_array() => apply_op("IN", &[v, mat.clone()]),
        "IS_DEFINED" | "IS_EMPTY" | "IS_NOT_EMPTY" => apply_op(match_type, &[v]),
        "BETWEEN" => match mat {
            Value::Array(a) if a.len() >= 2 => {
                apply_op("GTE", &[v.clone(), a[0].clone()]) && apply_op("LTE", &[v, a[1].clone()])
            }
            _ => false,
        },
        "RANGE" => match mat {
            Value::Object(o) => [("gte", "GTE"), ("gt", "GT"), ("lte", "LTE"), ("lt", "LT")]
                .iter()
                .all(|(k, op)| {
                    o.get(*k)
                        .is_none_or(|b| apply_op(op, &[v.clone(), b.clone()]))
                }),
            _ => true,
        },
        other => apply_op(other, &[v, mat.clone()]),
    }
}

fn post_process(f: &Frame, v: &Value) -> Value {
    match v {
        Value::Object(o) if o.contains_key("valueType") && o.contains_key("value") => {
            match o.get("valueType").and_then(Value::as_str) {
                Some("reference") => match o.get("value") {
                    Some(Value::String(p)) => {
                        let segs: Vec<&str> = p.split('.').collect();
                        lookup_segments(f, &segs)
                            .map(|c| c.into_owned())
                            .unwrap_or(Value::Null)
                    }
                    _ => Value::Null,
                },
                Some("immediate") => o["value"].clone(),
                _ => Value::Object(
                    o.iter()
                        .map(|(k, x)| (k.clone(), post_process(f, x)))
                        .collect(),
                ),
            }
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), post_process(f, x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| post_process(f, x)).collect()),
        other => other.clone(),
    }
}

pub fn switch(f: &mut Frame, m: &'static StepMeta, cfg: &Value) -> StepResult {
    let Some(config) = cfg.get("config").filter(|c| c.is_object()) else {
        return StepResult::Next(m.envelope(json!({})));
    };
    let empty = Vec::new();
    let cases = config
        .get("cases")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let routing = cases
        .iter()
        .any(|c| c.get("route").is_some_and(|r| !r.is_null()));
    let value = eval_value(f, member(config, "value"));
    let matched = cases
        .iter()
        .find(|c| case_matches(&value, str_or(c, "matchType", "EQ"), member(c, "match")));
    let raw = match matched {
        Some(c) => member(c, "output").clone(),
        None => config
            .get("default")
            .filter(|d| !d.is_null())
            .cloned()
            .unwrap_or_else(|| json!({})),
    };
    let out = post_process(f, &raw);
    if routing {
        let route = matched
            .and_then(|c| c.get("route"))
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string();
        let env = with(m.envelope(out), &[("route", Value::String(route.clone()))]);
        StepResult::Branch(env, route)
    } else {
        StepResult::Next(m.envelope(out))
    }
}

// ------------------------------------------------------------------ Log (§5.8)

pub fn log(f: &mut Frame, m: &'static StepMeta, cfg: &Value) -> StepResult {
    let level = str_or(cfg, "level", "info");
    let message = str_or(cfg, "message", "");
    let context = eval_mapping(f, member(cfg, "context"));
    let payload = json!({
        "step_id": m.key, "step_name": m.name(), "level": level, "message": message,
        "context": context, "timestamp_ms": now_ms(),
    });
    f.ctx.custom_event("workflow_log", &payload);
    echo(&with(payload, &[("event", "workflow_log".into())]));
    StepResult::Next(m.envelope(json!({"level": level, "message": message})))
}

// ------------------------------------------------------------------ Error (§5.10)

pub fn error(f: &mut Frame, m: &'static StepMeta, cfg: &Value) -> StepResult {
    let category = str_or(cfg, "category", "permanent");
    let severity = str_or(cfg, "severity", "error");
    let code = str_or(cfg, "code", "");
    let message = str_or(cfg, "message", "");
    let context = eval_mapping(f, member(cfg, "context"));
    let payload = json!({
        "step_id": m.key, "step_name": m.name(), "category": category, "code": code,
        "message": message, "severity": severity, "context": context, "timestamp_ms": now_ms(),
    });
    f.ctx.custom_event("workflow_error", &payload);
    echo(&with(payload, &[("event", "workflow_error".into())]));
    let outputs =
        json!({"category": category, "code": code, "message": message, "severity": severity});
    f.store_envelope(m.key, m.envelope(outputs));
    fail(json!({
        "stepId": m.key, "stepName": m.name(), "stepType": "Error", "category": category,
        "code": code, "message": message, "severity": severity, "context": context,
    }))
}

// ------------------------------------------------------------------ Filter (§5.11)

pub fn filter(f: &mut Frame, m: &'static StepMeta, cfg: &Value) -> StepResult {
    let config = member(cfg, "config");
    let items = match eval_value(f, member(config, "value")) {
        Value::Array(a) => a,
        _ => Vec::new(),
    };
    let cond = member(config, "condition");
    let saved = f.item.take();
    let mut kept = Vec::new();
    for it in items {
        f.item = Some(it);
        let keep = eval_condition(f, cond);
        let it = f.item.take().expect("item set above");
        if keep {
            kept.push(it);
        }
    }
    f.item = saved;
    let n = kept.len();
    StepResult::Next(m.envelope(json!({"items": kept, "count": n})))
}

// ------------------------------------------------------------------ GroupBy (§5.12)

/// The group key text of a GroupBy key value.
pub fn group_key(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "_null".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => crate::json::to_string(other),
    }
}

pub fn group_by(f: &mut Frame, m: &'static StepMeta, cfg: &Value) -> StepResult {
    let config = member(cfg, "config");
    let items = match eval_value(f, member(config, "value")) {
        Value::Array(a) => a,
        _ => Vec::new(),
    };
    let segs = path_segments(str_or(config, "key", ""));
    let mut groups: Map<String, Value> = Map::new();
    if let Some(keys) = config.get("expectedKeys").and_then(Value::as_array) {
        for k in keys.iter().filter_map(Value::as_str) {
            groups.insert(k.to_string(), json!([]));
        }
    }
    for it in items {
        let k = group_key(walk(&it, &segs));
        if let Value::Array(a) = groups.entry(k).or_insert_with(|| json!([])) {
            a.push(it);
        }
    }
    let counts: Map<String, Value> = groups
        .iter()
        .map(|(k, v)| (k.clone(), json!(v.as_array().map_or(0, Vec::len))))
        .collect();
    let total = groups.len();
    StepResult::Next(m.envelope(json!({"groups": groups, "counts": counts, "total_groups": total})))
}

// ------------------------------------------------------------------ Delay (§5.13)

/// A duration from a number: truncated toward zero, negative → 0.
fn duration_ms(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => Some(if let Some(u) = n.as_u64() {
            u
        } else if n.as_i64().is_some() {
            0
        } else {
            let x = n.as_f64().unwrap_or(0.0).trunc();
            if x <= 0.0 {
                0
            } else {
                x as u64
            }
        }),
        _ => None,
    }
}

pub fn delay(f: &mut Frame, m: &'static StepMeta, cfg: &Value) -> StepResult {
    let v = eval_value(f, member(cfg, "durationMs"));
    let Some(d) = duration_ms(&v) else {
        return fail(step_error(
            m,
            "INVALID_DURATION",
            &format!(
                "Delay step '{}': durationMs must be a number, got: {}",
                m.key,
                crate::json::to_string(&v)
            ),
            "permanent",
        ));
    };
    let key = checkpoint_key(&f.scope, "delay", &pct(m.key));
    let wake = now_ms().saturating_add(d.min(i64::MAX as u64) as i64);
    let stored = match f.ctx.lookup(&key) {
        Ok(Some(s)) => s,
        Ok(None) => match f.ctx.put(&key, &json!({"wakeAtMs": wake, "durationMs": d})) {
            Ok(s) => s,
            Err(e) => return StepResult::Fail(e),
        },
        Err(e) => return StepResult::Fail(e),
    };
    let wake_at = stored
        .get("wakeAtMs")
        .and_then(Value::as_i64)
        .unwrap_or(wake);
    let remaining = wake_at - now_ms();
    if remaining > 0 {
        if remaining as u64 > f.ctx.suspend_after_ms {
            return StepResult::Fail(Failure::Control(Control::Sleeping {
                wake_at_ms: wake_at,
            }));
        }
        if let Err(e) = f.ctx.sleep(remaining as u64) {
            return StepResult::Fail(e);
        }
    }
    StepResult::Next(json!({
        "stepId": m.key, "stepName": m.name(), "stepType": "Delay", "duration_ms": d,
    }))
}

// ------------------------------------------------------------------ Split (§5.5)

struct SplitEnv {
    ctx: Arc<RunCtx>,
    meta: &'static StepMeta,
    sub: &'static GraphDef,
    scope: String,
    call_path: String,
    parent_vars: Value,
    extra_vars: Value,
    items: Vec<Value>,
    parallelism: u64,
    dont_stop: bool,
}

fn merge_defaults(vars: &mut Map<String, Value>, g: &'static GraphDef) {
    if let Some(d) = g.defaults() {
        for (k, v) in d {
            vars.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

fn push_index(vars: &mut Map<String, Value>, i: usize) {
    let mut li = vars
        .get("_loop_indices")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    li.push(json!(i));
    vars.insert("_index".into(), json!(i));
    vars.insert("_loop_indices".into(), Value::Array(li));
}

fn split_iteration(env: &SplitEnv, i: usize) -> Result<Value, Failure> {
    let key = checkpoint_key(
        &env.scope,
        "split_item",
        &format!("{}[{}]", pct(env.meta.key), i),
    );
    if let Some(v) = env.ctx.lookup(&key)? {
        return Ok(v);
    }
    let mut vars = env.parent_vars.as_object().cloned().unwrap_or_default();
    merge_defaults(&mut vars, env.sub);
    if let Value::Object(extra) = &env.extra_vars {
        for (k, v) in extra {
            vars.insert(k.clone(), v.clone());
        }
    }
    push_index(&mut vars, i);
    let item = env.items[i].clone();
    let scope = format!("{}/{}[{}]", env.scope, pct(env.meta.key), i);
    let mut frame = Frame::new(env.ctx.clone(), item.clone(), Value::Object(vars), scope);
    frame.item = Some(item);
    frame.call_path = env.call_path.clone();
    let r = run_graph(&mut frame, env.sub)?;
    env.ctx.put(&key, &r)
}

fn run_split(env: &SplitEnv) -> Result<Value, Failure> {
    let n = env.items.len();
    let mut results: Vec<Option<Result<Value, Failure>>> = (0..n).map(|_| None).collect();
    if env.parallelism <= 1 || n <= 1 {
        for (i, slot) in results.iter_mut().enumerate() {
            let r = split_iteration(env, i);
            let stop = match &r {
                Err(Failure::Control(_)) => true,
                Err(_) => !env.dont_stop,
                Ok(_) => false,
            };
            *slot = Some(r);
            if stop {
                break;
            }
        }
    } else {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let shared: Mutex<Vec<Option<Result<Value, Failure>>>> = Mutex::new(results);
        let workers = (env.parallelism as usize).min(n);
        std::thread::scope(|s| {
            for _ in 0..workers {
                std::thread::Builder::new()
                    .stack_size(durable::STACK)
                    .spawn_scoped(s, || loop {
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= n {
                            return;
                        }
                        let r = split_iteration(env, i);
                        match &r {
                            Err(Failure::Control(_)) => stop.store(true, Ordering::SeqCst),
                            Err(_) if !env.dont_stop => stop.store(true, Ordering::SeqCst),
                            _ => {}
                        }
                        shared.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
                    })
                    .expect("spawn split worker");
            }
        });
        results = shared.into_inner().unwrap_or_else(|p| p.into_inner());
    }
    // Control signals win; then the lowest failing index.
    for r in results.iter().flatten() {
        if let Err(Failure::Control(c)) = r {
            return Err(Failure::Control(c.clone()));
        }
    }
    let mut outputs = Vec::new();
    let mut errors_list = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Some(Ok(v)) => outputs.push(v),
            Some(Err(Failure::Error(e))) => {
                if !env.dont_stop {
                    return Err(Failure::Error(wrap_split_error(env.meta, i, e)));
                }
                errors_list.push(json!({"error": e, "index": i}));
            }
            _ => {}
        }
    }
    if env.dont_stop {
        let (ns, ne) = (outputs.len(), errors_list.len());
        Ok(json!({
            "outputs": outputs,
            "data": {"success": outputs, "error": errors_list, "aborted": [], "unknown": [], "skipped": []},
            "stats": {"success": ns, "error": ne, "aborted": 0, "unknown": 0, "skipped": 0, "total": n},
        }))
    } else {
        Ok(json!({"outputs": outputs}))
    }
}

fn wrap_split_error(m: &StepMeta, i: usize, e: Value) -> Value {
    if errors::is_error_step(&e) {
        return e;
    }
    let msg = e.get("message").and_then(Value::as_str).unwrap_or("");
    json!({
        "code": "SPLIT_ITERATION_FAILED",
        "message": format!("Split step '{}' failed at index {}: {}", m.key, i, msg),
        "category": errors::category(&e),
        "severity": e.get("severity").cloned().unwrap_or_else(|| json!("error")),
        "stepId": m.key, "stepName": m.name(), "stepType": "Split",
        "index": i, "cause": e,
    })
}

pub fn split(
    f: &mut Frame,
    m: &'static StepMeta,
    cfg: &Value,
    sub: &'static GraphDef,
) -> StepResult {
    let config = cfg.get("config").filter(|c| c.is_object()).unwrap_or(&NULL);
    let flag = |k: &str| config.get(k).and_then(Value::as_bool).unwrap_or(false);
    let value = match config.get("value") {
        Some(mv) => eval_value(f, mv),
        None => Value::Null,
    };
    let items = match value {
        Value::Array(a) => a,
        Value::Null if flag("allowNull") => Vec::new(),
        Value::Null => {
            return fail(step_error(m, "SPLIT_INVALID_VALUE", &format!(
                "Split step '{}' received null value. Set 'allowNull: true' to allow empty iterations, or use 'transform/ensure-array' agent.",
                m.key), "permanent"));
        }
        other if flag("convertSingleValue") => vec![other],
        other => {
            return fail(step_error(m, "SPLIT_INVALID_VALUE", &format!(
                "Split step '{}' expected array, got {}. Set 'convertSingleValue: true' to wrap single values, or use 'transform/ensure-array' agent.",
                m.key, crate::json::type_name(&other)), "permanent"));
        }
    };
    let extra_vars = eval_mapping(f, member(config, "variables"));
    let parallelism = if flag("sequential") {
        0
    } else {
        config
            .get("parallelism")
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let env = Arc::new(SplitEnv {
        ctx: f.ctx.clone(),
        meta: m,
        sub,
        scope: f.scope.clone(),
        call_path: f.call_path.clone(),
        parent_vars: f.variables.clone(),
        extra_vars,
        items,
        parallelism,
        dont_stop: flag("dontStopOnFailed"),
    });
    let key = checkpoint_key(&f.scope, "split", &pct(m.key));
    let retry = Retry::from_cfg(config, 0);
    let attempt: durable::Attempt = Arc::new(move || run_split(&env));
    match durable::durable(&f.ctx, &key, m, retry, attempt) {
        Ok(state) => {
            let mut envelope = m.envelope(state.get("outputs").cloned().unwrap_or(json!([])));
            for k in ["data", "stats"] {
                if let Some(v) = state.get(k) {
                    envelope[k] = v.clone();
                }
            }
            StepResult::Next(envelope)
        }
        Err(e) => StepResult::Fail(e),
    }
}

// ------------------------------------------------------------------ While (§5.7)

fn run_while(
    f: &mut Frame,
    m: &'static StepMeta,
    cond: &Value,
    max: u64,
    sub: &'static GraphDef,
) -> Result<Value, Failure> {
    let mut i: u64 = 0;
    let mut prev = Value::Null;
    let saved = f.loop_.take();
    let result = loop {
        if i >= max {
            break Ok(());
        }
        f.loop_ = Some(json!({"index": i, "outputs": prev}));
        if !eval_condition(f, cond) {
            break Ok(());
        }
        let mut vars = f.variables.as_object().cloned().unwrap_or_default();
        merge_defaults(&mut vars, sub);
        push_index(&mut vars, i as usize);
        if prev.is_null() {
            vars.remove("_previousOutputs");
        } else {
            vars.insert("_previousOutputs".into(), prev.clone());
        }
        let scope = format!("{}/{}[{}]", f.scope, pct(m.key), i);
        let mut frame = Frame::new(f.ctx.clone(), f.data.clone(), Value::Object(vars), scope);
        frame.loop_ = f.loop_.clone();
        frame.call_path = f.call_path.clone();
        match run_graph(&mut frame, sub) {
            Ok(v) => prev = v,
            Err(e) => break Err(e),
        }
        i += 1;
    };
    f.loop_ = saved;
    result?;
    Ok(
        json!({"stepId": m.key, "stepName": m.name(), "stepType": "While", "iterations": i, "outputs": prev}),
    )
}

pub fn while_loop(
    f: &mut Frame,
    m: &'static StepMeta,
    cfg: &Value,
    sub: &'static GraphDef,
) -> StepResult {
    let config = member(cfg, "config");
    let max = config
        .get("maxIterations")
        .and_then(Value::as_u64)
        .unwrap_or(10);
    let cond = member(cfg, "condition").clone();
    let timeout = config.get("timeout").and_then(Value::as_u64);
    let r = match timeout {
        None => run_while(f, m, &cond, max, sub),
        Some(ms) => {
            let mut clone = Frame::new(
                f.ctx.clone(),
                f.data.clone(),
                f.variables.clone(),
                f.scope.clone(),
            );
            clone.steps = f.steps.clone();
            clone.item = f.item.clone();
            clone.error = f.error.clone();
            clone.call_path = f.call_path.clone();
            let cell = Mutex::new(Some(clone));
            let attempt: durable::Attempt = Arc::new(move || {
                let mut fr = cell
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                    .expect("single attempt");
                run_while(&mut fr, m, &cond, max, sub)
            });
            durable::run_attempt(&attempt, Some(ms), m)
        }
    };
    match r {
        Ok(env) => StepResult::Next(env),
        Err(e) => StepResult::Fail(e),
    }
}

// ------------------------------------------------------------------ StartScenario (§5.6)

fn loop_suffix(indices: &[Value]) -> String {
    if indices.is_empty() {
        String::new()
    } else {
        let parts: Vec<String> = indices.iter().map(crate::json::to_string).collect();
        format!("[{}]", parts.join(","))
    }
}

pub fn start_scenario(
    f: &mut Frame,
    m: &'static StepMeta,
    cfg: &Value,
    child: &'static ChildDef,
) -> StepResult {
    let child_id = str_or(cfg, "childScenarioId", child.scenario_id).to_string();
    let data = eval_mapping(f, member(cfg, "inputMapping"));
    let mut vars = Map::new();
    for k in ["_scenario_id", "_instance_id", "_tenant_id"] {
        if let Some(v) = f.variables.get(k) {
            vars.insert(k.to_string(), v.clone());
        }
    }
    if let Some(d) = child.graph.defaults() {
        for (k, v) in d.iter().filter(|(k, _)| !k.starts_with('_')) {
            vars.insert(k.clone(), v.clone());
        }
    }
    let scope = format!("{}/{}", f.scope, pct(m.key));
    let call_path = format!(
        "{}/{}{}",
        f.call_path,
        m.key,
        loop_suffix(&f.loop_indices())
    );
    let ctx = f.ctx.clone();
    let key = checkpoint_key(&f.scope, "start_scenario", &pct(m.key));
    let retry = Retry::from_cfg(cfg, 3);
    let cid = child_id.clone();
    let attempt: durable::Attempt = Arc::new(move || {
        let mut missing: Vec<&str> = child
            .required
            .iter()
            .copied()
            .filter(|k| data.get(*k).is_none_or(Value::is_null))
            .collect();
        if !missing.is_empty() {
            missing.sort_unstable();
            missing.dedup();
            let mut e = step_error(
                m,
                "MISSING_REQUIRED_INPUTS",
                &format!(
                    "StartScenario step '{}' is missing required inputs for child scenario '{}': {}",
                    m.key,
                    cid,
                    missing.join(", ")
                ),
                "permanent",
            );
            e["childScenarioId"] = json!(cid);
            e["missing"] = json!(missing);
            return Err(Failure::Error(e));
        }
        let mut frame = Frame::new(
            ctx.clone(),
            data.clone(),
            Value::Object(vars.clone()),
            scope.clone(),
        );
        frame.call_path = call_path.clone();
        run_graph(&mut frame, child.graph).map_err(|fl| match fl {
            Failure::Error(e) if !errors::is_error_step(&e) => Failure::Error(json!({
                "code": "CHILD_SCENARIO_FAILED",
                "message": format!("Child scenario {cid} failed"),
                "category": errors::category(&e),
                "severity": e.get("severity").cloned().unwrap_or_else(|| json!("error")),
                "stepId": m.key, "stepName": m.name(), "stepType": "StartScenario",
                "childScenarioId": cid, "childError": e,
            })),
            other => other,
        })
    });
    match durable::durable(&f.ctx, &key, m, retry, attempt) {
        Ok(out) => StepResult::Next(with(
            m.envelope(out),
            &[("childScenarioId", json!(child_id))],
        )),
        Err(e) => StepResult::Fail(e),
    }
}

/// StartScenario whose child is found by id in the table of `rt::main_with_children`.
///
/// A missing id is a build bug (the generated main crate lists every child it links), so it
/// fails the step with a permanent `INTERNAL_ERROR` rather than panicking.
pub fn start_scenario_id(
    f: &mut Frame,
    m: &'static StepMeta,
    cfg: &Value,
    child_id: &str,
) -> StepResult {
    match crate::graph::child_by_id(child_id) {
        Some(child) => start_scenario(f, m, cfg, child),
        None => fail(step_error(
            m,
            "INTERNAL_ERROR",
            &format!("child scenario {child_id} is not linked into this binary"),
            "permanent",
        )),
    }
}

// ------------------------------------------------------------------ WaitForSignal (§5.14)

/// The custom signal id of a WaitForSignal step (RUNTIME §6.3).
pub fn signal_id(f: &Frame, step_key: &str) -> String {
    let s = f
        .variables
        .get("_scenario_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("root");
    let li = f.loop_indices();
    let mut id = format!("{}/{}{}/{}", f.ctx.instance_id, s, f.call_path, step_key);
    if !li.is_empty() {
        id.push('/');
        id.push_str(&loop_suffix(&li));
    }
    id
}

fn parse_payload(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    let text = String::from_utf8_lossy(bytes);
    crate::json::parse_unbounded(&text).unwrap_or_else(|_| Value::String(text.into_owned()))
}

pub fn wait_for_signal(
    f: &mut Frame,
    m: &'static StepMeta,
    cfg: &Value,
    on_wait: Option<&'static GraphDef>,
) -> StepResult {
    match wait_inner(f, m, cfg, on_wait) {
        Ok(v) => StepResult::Next(v),
        Err(e) => StepResult::Fail(e),
    }
}

fn wait_inner(
    f: &mut Frame,
    m: &'static StepMeta,
    cfg: &Value,
    on_wait: Option<&'static GraphDef>,
) -> Result<Value, Failure> {
    let sid = signal_id(f, m.key);
    let envelope = |p: Value| json!({"stepId": m.key, "stepName": m.name(), "stepType": "WaitForSignal", "signal_id": sid, "outputs": p});
    let tv = match cfg.get("timeoutMs") {
        Some(mv) if !mv.is_null() => eval_value(f, mv),
        _ => Value::Null,
    };
    let timeout = match &tv {
        Value::Null => None,
        other => match duration_ms(other) {
            Some(d) => Some(d),
            None => {
                return Err(Failure::Error(step_error(
                    m,
                    "INVALID_DURATION",
                    &format!(
                        "WaitForSignal step '{}': timeoutMs must be a number, got: {}",
                        m.key,
                        crate::json::to_string(other)
                    ),
                    "permanent",
                )))
            }
        },
    };
    let poll = cfg
        .get("pollIntervalMs")
        .and_then(Value::as_u64)
        .unwrap_or(1000)
        .max(1);
    let sig_key = checkpoint_key(&f.scope, "signal", &pct(m.key));
    if let Some(s) = f.ctx.lookup(&sig_key)? {
        return Ok(envelope(s.get("payload").cloned().unwrap_or(Value::Null)));
    }
    let wait_key = checkpoint_key(&f.scope, "signal_wait", &pct(m.key));
    let wait = match f.ctx.lookup(&wait_key)? {
        Some(w) => w,
        None => {
            if let Some(g) = on_wait {
                let mut vars = f.variables.as_object().cloned().unwrap_or_default();
                merge_defaults(&mut vars, g);
                vars.insert("_signal_id".into(), json!(sid));
                let scope = format!("{}/{}.onWait", f.scope, pct(m.key));
                let mut frame =
                    Frame::new(f.ctx.clone(), f.data.clone(), Value::Object(vars), scope);
                frame.call_path = f.call_path.clone();
                run_graph(&mut frame, g)?;
            }
            f.ctx.custom_event(
                "external_input_requested",
                &json!({"type": "external_input_requested", "signal_id": sid, "step_id": m.key,
                        "step_name": m.name(), "response_schema": member(cfg, "responseSchema")}),
            );
            let now = now_ms();
            let deadline = timeout.map(|t| now.saturating_add(t.min(i64::MAX as u64) as i64));
            f.ctx.put(
                &wait_key,
                &json!({"signalId": sid, "startedAtMs": now, "deadlineMs": deadline}),
            )?
        }
    };
    let deadline = wait.get("deadlineMs").and_then(Value::as_i64);
    let started = std::time::Instant::now();
    loop {
        f.ctx.safe_point()?;
        let taken = f
            .ctx
            .store
            .take_custom_into(&sid, &sig_key, |b| {
                crate::json::to_string(&json!({"payload": parse_payload(b)}))
            })
            .map_err(RunCtx::store_failure)?;
        if let Some(state) = taken {
            let v = crate::json::parse_unbounded(&state).unwrap_or(Value::Null);
            return Ok(envelope(v.get("payload").cloned().unwrap_or(Value::Null)));
        }
        let now = now_ms();
        if deadline.is_some_and(|d| now >= d) {
            return Err(Failure::Error(step_error(
                m,
                "SIGNAL_TIMEOUT",
                &format!(
                    "WaitForSignal step '{}' timed out after {}ms waiting for signal '{}'",
                    m.key,
                    timeout.unwrap_or(0),
                    sid
                ),
                "permanent",
            )));
        }
        let waited = started.elapsed().as_millis() as u64;
        if waited >= f.ctx.suspend_after_ms {
            return Err(Failure::Control(Control::WaitingForSignal {
                signal_id: sid,
                wake_at_ms: deadline,
            }));
        }
        let mut nap = poll.min(f.ctx.suspend_after_ms - waited);
        if let Some(d) = deadline {
            nap = nap.min((d - now).max(0) as u64);
        }
        std::thread::sleep(std::time::Duration::from_millis(nap.clamp(1, 1000)));
    }
}
