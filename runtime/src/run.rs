//! The binary entry point (RUNTIME §1–§3).

use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::errors::run_error;
use crate::frame::{Frame, RunCtx};
use crate::graph::{run_graph, set_children, ChildTable, Control, Failure, ScenarioDef};
use crate::store::Store;

struct Args {
    input: Option<String>,
    instance_id: Option<String>,
    store: Option<String>,
    core: Option<String>,
    tenant: Option<String>,
    durability: Option<String>,
}

fn exit_line(code: i32, line: &Value) -> ! {
    let _ = std::io::stdout().flush();
    eprintln!("{}", crate::json::to_string(line));
    std::process::exit(code)
}

fn invalid(code: &str, message: &str, instance: Option<&str>) -> ! {
    let mut v =
        json!({"code": code, "message": message, "category": "permanent", "severity": "error"});
    if let Some(i) = instance {
        v["instanceId"] = json!(i);
    }
    exit_line(2, &v)
}

fn usage(name: &str) -> String {
    format!("usage: {name} [--input PATH|-] [--instance-id ID] [--store PATH] [--core URL] [--tenant ID] [--durability normal|full]")
}

fn parse_args(def: &ScenarioDef) -> Args {
    let mut a = Args {
        input: None,
        instance_id: None,
        store: None,
        core: None,
        tenant: None,
        durability: None,
    };
    let argv: Vec<String> = std::env::args().collect();
    let name = argv.first().cloned().unwrap_or_else(|| "workflow".into());
    let mut i = 1;
    while i < argv.len() {
        let arg = &argv[i];
        if arg == "--help" || arg == "-h" {
            println!("{}", usage(&name));
            std::process::exit(0);
        }
        if arg == "--version" {
            println!(
                "{} (runtara_runtime {})",
                def.scenario_id,
                env!("CARGO_PKG_VERSION")
            );
            std::process::exit(0);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let slot = match flag.as_str() {
            "--input" => &mut a.input,
            "--instance-id" => &mut a.instance_id,
            "--store" => &mut a.store,
            "--core" => &mut a.core,
            "--tenant" => &mut a.tenant,
            "--durability" => &mut a.durability,
            _ => invalid(
                "INVALID_ARGUMENTS",
                &format!("unknown argument: {arg}. {}", usage(&name)),
                None,
            ),
        };
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                match argv.get(i) {
                    Some(v) => v.clone(),
                    None => invalid(
                        "INVALID_ARGUMENTS",
                        &format!("missing value for {flag}"),
                        None,
                    ),
                }
            }
        };
        *slot = Some(value);
        i += 1;
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    a.input = a.input.or_else(|| env("RUNTARA_INPUT"));
    a.instance_id = a.instance_id.or_else(|| env("RUNTARA_INSTANCE_ID"));
    a.store = a.store.or_else(|| env("RUNTARA_STORE"));
    a.core = a.core.or_else(|| env("RUNTARA_CORE_URL"));
    a.tenant = a.tenant.or_else(|| env("RUNTARA_TENANT_ID"));
    a.durability = a.durability.or_else(|| env("RUNTARA_DURABILITY"));
    a
}

/// A fresh random UUID v4 (lower case).
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    let hi = crate::agents::random_bytes();
    let lo = crate::agents::random_bytes();
    b[..8].copy_from_slice(&hi);
    b[8..].copy_from_slice(&lo);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        h[0..4].concat(),
        h[4..6].concat(),
        h[6..8].concat(),
        h[8..10].concat(),
        h[10..16].concat()
    )
}

/// Validate an input document (RUNTIME §2.2). Returns `Err(message)` for `INVALID_INPUT`.
pub fn validate_input(doc: &Value, required: &[&str]) -> Result<(), String> {
    let Value::Object(o) = doc else {
        return Err("input must be a JSON object".into());
    };
    match o.get("variables") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return Err("input 'variables' must be an object".into()),
    }
    if required.is_empty() {
        return Ok(());
    }
    let data = match o.get("data") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(d) => d.clone(),
    };
    let Value::Object(d) = data else {
        return Err("input 'data' must be an object: the input schema has required fields".into());
    };
    let mut missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|k| d.get(*k).is_none_or(Value::is_null))
        .collect();
    missing.sort_unstable();
    if !missing.is_empty() {
        return Err(format!(
            "missing required input fields: {}",
            missing.join(", ")
        ));
    }
    Ok(())
}

fn parse_input(text: &str, required: &[&str]) -> Result<Value, String> {
    let v = crate::json::parse_limited(text).map_err(|e| format!("invalid input JSON: {e}"))?;
    validate_input(&v, required)?;
    Ok(v)
}

/// [`main`] for a scenario whose children live in their own crates: `children` maps each
/// child id used by `rt::steps::start_scenario_id` to its `ChildDef` (API.md §4).
pub fn main_with_children(def: &'static ScenarioDef, children: ChildTable) -> ! {
    set_children(children);
    main(def)
}

/// Run the compiled scenario as a process (never returns).
pub fn main(def: &'static ScenarioDef) -> ! {
    let code = match catch_unwind(AssertUnwindSafe(|| run_process(def))) {
        Ok(code) => code,
        Err(p) => {
            let msg = if let Some(s) = p.downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = p.downcast_ref::<String>() {
                s.clone()
            } else {
                "internal error".to_string()
            };
            exit_line(1, &run_error("INTERNAL_ERROR", &msg, "permanent"));
        }
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}

fn run_process(def: &'static ScenarioDef) -> i32 {
    let args = parse_args(def);
    if args.core.is_some() {
        invalid("INVALID_ARGUMENTS", "core backend not built", None);
    }
    let full = match args.durability.as_deref() {
        None | Some("normal") => false,
        Some("full") => true,
        Some(other) => invalid(
            "INVALID_ARGUMENTS",
            &format!("invalid --durability value: {other} (expected normal or full)"),
            None,
        ),
    };
    let given: Option<Value> = args.input.as_ref().map(|path| {
        let mut text = String::new();
        let read = if path == "-" {
            std::io::stdin().read_to_string(&mut text).map(|_| ())
        } else {
            std::fs::read(path).map(|b| text = String::from_utf8_lossy(&b).into_owned())
        };
        if let Err(e) = read {
            invalid(
                "INVALID_ARGUMENTS",
                &format!("cannot read input {path}: {e}"),
                None,
            );
        }
        parse_input(&text, def.required)
            .unwrap_or_else(|m| invalid("INVALID_INPUT", &m, args.instance_id.as_deref()))
    });
    let instance = args.instance_id.clone().unwrap_or_else(uuid_v4);
    let tenant = args
        .tenant
        .clone()
        .unwrap_or_else(|| def.default_tenant.to_string());
    let store_path = args
        .store
        .clone()
        .unwrap_or_else(|| "./runtara-state.db".to_string());
    let store_fail = |e: String| -> ! {
        let mut v = run_error("STORE_ERROR", &format!("store error: {e}"), "transient");
        v["instanceId"] = json!(instance);
        exit_line(1, &v)
    };
    let store = Store::open(&store_path, full, &instance).unwrap_or_else(|e| store_fail(e));
    let input_doc = given.clone().unwrap_or_else(|| json!({}));
    // Re-runs use the stored input; a different given input is INPUT_MISMATCH, and changes
    // nothing (RUNTIME §2.4): `register` checks it before touching the instance.
    let same_input = |stored: &str| {
        given.as_ref().is_none_or(|g| {
            crate::json::parse_unbounded(stored).unwrap_or_else(|_| json!({})) == *g
        })
    };
    let reg = store
        .register(
            &tenant,
            def.scenario_id,
            &crate::json::to_string(&input_doc),
            same_input,
        )
        .unwrap_or_else(|e| store_fail(e));
    if reg.mismatch {
        invalid(
            "INPUT_MISMATCH",
            "the input differs from the input stored for this instance",
            Some(&instance),
        );
    }
    let stored = crate::json::parse_unbounded(&reg.input).unwrap_or_else(|_| json!({}));
    match reg.previous.as_deref() {
        Some("cancelled") => exit_line(4, &json!({"status": "cancelled", "instanceId": instance})),
        Some("completed") => {
            if let Ok(Some(sig)) = store.poll_signal() {
                let _ = store.ack_signal(&sig, true);
            }
            let out = reg.output.unwrap_or_else(|| "null".to_string());
            println!("{out}");
            return 0;
        }
        _ => {}
    }
    if let Err(m) = validate_input(&stored, def.required) {
        invalid("INVALID_INPUT", &m, Some(&instance));
    }
    store.event("started", None, None);

    let mut ctx = RunCtx::new(store, &instance, &tenant, def.scenario_id);
    ctx.debug_mode = def.debug_mode;
    ctx.suspend_after_ms = std::env::var("RUNTARA_SUSPEND_AFTER_MS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(30_000);
    let ctx = Arc::new(ctx);

    let data = match stored.get("data") {
        None | Some(Value::Null) => json!({}),
        Some(d) => d.clone(),
    };
    let mut vars = def.graph.defaults().cloned().unwrap_or_default();
    if let Some(Value::Object(v)) = stored.get("variables") {
        for (k, x) in v {
            vars.insert(k.clone(), x.clone());
        }
    }
    vars.insert("_scenario_id".into(), json!(def.scenario_id));
    vars.insert("_instance_id".into(), json!(instance));
    vars.insert("_tenant_id".into(), json!(tenant));
    let mut frame = Frame::new(ctx.clone(), data, Value::Object(vars), "root".to_string());

    let result = catch_unwind(AssertUnwindSafe(|| run_graph(&mut frame, def.graph)));
    let store = &ctx.store;
    match result {
        Ok(Ok(out)) => {
            let text = crate::json::to_string(&out);
            if let Err(e) = store.complete(&text) {
                store_fail(e);
            }
            let mut so = std::io::stdout().lock();
            let _ = writeln!(so, "{text}");
            let _ = so.flush();
            0
        }
        Ok(Err(Failure::Error(mut e))) | Ok(Err(Failure::Control(Control::Fatal(mut e)))) => {
            e["instanceId"] = json!(instance);
            let _ = store.fail(&crate::json::to_string(&e));
            exit_line(1, &e)
        }
        Ok(Err(Failure::Control(c))) => {
            let _ = store.flush_events();
            match c {
                Control::Cancelled => {
                    exit_line(4, &json!({"status": "cancelled", "instanceId": instance}))
                }
                Control::Paused => exit_line(
                    3,
                    &json!({"status": "suspended", "reason": "paused", "instanceId": instance}),
                ),
                Control::Sleeping { wake_at_ms } => {
                    let _ = store.suspend("sleeping", Some(wake_at_ms));
                    exit_line(
                        3,
                        &json!({"status": "suspended", "reason": "sleeping", "instanceId": instance, "wakeAt": wake_at_ms}),
                    )
                }
                Control::WaitingForSignal {
                    signal_id,
                    wake_at_ms,
                } => {
                    let _ = store.suspend("waiting_for_signal", wake_at_ms);
                    let mut v = json!({"status": "suspended", "reason": "waiting_for_signal", "instanceId": instance, "signalId": signal_id});
                    if let Some(w) = wake_at_ms {
                        v["wakeAt"] = json!(w);
                    }
                    exit_line(3, &v)
                }
                Control::Fatal(_) => unreachable!("handled above"),
            }
        }
        Err(p) => {
            let msg = if let Some(s) = p.downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = p.downcast_ref::<String>() {
                s.clone()
            } else {
                "internal error".to_string()
            };
            let mut e = run_error("INTERNAL_ERROR", &msg, "permanent");
            e["instanceId"] = json!(instance);
            let _ = store.fail(&crate::json::to_string(&e));
            exit_line(1, &e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_shape() {
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!("89ab".contains(&u[19..20]));
        assert_eq!(u, u.to_lowercase());
    }

    #[test]
    fn input_validation() {
        assert!(validate_input(&json!([]), &[]).is_err());
        assert!(validate_input(&json!({"variables": 1}), &[]).is_err());
        assert!(validate_input(&json!({"variables": null, "data": 5}), &[]).is_ok());
        assert!(validate_input(&json!({"data": 5}), &["a"]).is_err());
        assert!(validate_input(&json!({"data": {"a": null}}), &["a"]).is_err());
        assert!(validate_input(&json!({"data": {"a": 0}}), &["a"]).is_ok());
        let deep = "[".repeat(257) + &"]".repeat(257);
        assert!(parse_input(&format!("{{\"data\":{deep}}}"), &[]).is_err());
    }
}
