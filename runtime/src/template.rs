//! Template values (DSL §3.5): minijinja 2.x, Chainable undefined, custom formatter.

use std::fmt::Write as _;
use std::sync::OnceLock;

use minijinja::value::ValueKind;
use minijinja::{Environment, UndefinedBehavior, Value as JValue};

use crate::frame::Frame;

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_formatter(|out, _state, value| {
            let mut s = String::new();
            format_top(&mut s, value);
            out.write_str(&s).map_err(|_| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write failed")
            })
        });
        env
    })
}

fn format_number(out: &mut String, v: &JValue) {
    // minijinja's Display: integers as digits; floats as Rust f64 Display plus ".0".
    let _ = write!(out, "{v}");
}

/// Render a value at the top level of an expression (strings unquoted).
fn format_top(out: &mut String, v: &JValue) {
    match v.kind() {
        ValueKind::String => out.push_str(v.as_str().unwrap_or_default()),
        _ => format_inner(out, v),
    }
}

/// Render a value (strings quoted with Rust's `Debug`).
fn format_inner(out: &mut String, v: &JValue) {
    match v.kind() {
        ValueKind::Undefined => {}
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::Number => format_number(out, v),
        ValueKind::String => {
            let _ = write!(out, "{:?}", v.as_str().unwrap_or_default());
        }
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            if let Ok(it) = v.try_iter() {
                for (i, e) in it.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    format_inner(out, &e);
                }
            }
            out.push(']');
        }
        ValueKind::Map => {
            let mut members: Vec<(String, String)> = Vec::new();
            if let Ok(it) = v.try_iter() {
                for k in it {
                    let mut ks = String::new();
                    format_inner(&mut ks, &k);
                    let sort_key = k.as_str().map(str::to_string).unwrap_or_else(|| ks.clone());
                    let mut vs = String::new();
                    format_inner(&mut vs, &v.get_item(&k).unwrap_or_default());
                    members.push((sort_key, format!("{ks}: {vs}")));
                }
            }
            members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (_, m)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(m);
            }
            out.push('}');
        }
        _ => {
            let _ = write!(out, "{v}");
        }
    }
}

/// Render a template against a JSON context.
pub fn render_with(template: &str, ctx: &serde_json::Value) -> String {
    let jctx = JValue::from_serialize(ctx);
    match env().render_str(template, jctx) {
        Ok(s) => s,
        Err(e) => format!("Template error: {e}"),
    }
}

/// Render a template against a JSON context, reporting errors: `Err((true, msg))` for a
/// syntax error, `Err((false, msg))` for a rendering error (`text/render-template`).
pub fn try_render(template: &str, ctx: &serde_json::Value) -> Result<String, (bool, String)> {
    let t = env()
        .template_from_str(template)
        .map_err(|e| (true, e.to_string()))?;
    t.render(JValue::from_serialize(ctx))
        .map_err(|e| (false, e.to_string()))
}

/// Render a template against the source of `f`. Never fails.
pub fn render(template: &str, f: &Frame) -> String {
    render_with(template, &f.source())
}

/// Check template syntax (for tools); `Err` holds minijinja's message.
pub fn check_syntax(template: &str) -> Result<(), String> {
    env()
        .template_from_str(template)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(t: &str) -> String {
        render_with(
            t,
            &json!({"data": {"name": "ada", "n": 3, "f": 2.5, "w": 12.0, "big": 1e20,
                             "nul": null, "t": true, "list": ["x", 1, null],
                             "obj": {"b": true, "a": [1, "x"]}, "q": "a\"b\\c\n\u{1b}é",
                             "active": true}}),
        )
    }

    #[test]
    fn rendering_table() {
        assert_eq!(r("Hello {{ data.name }}"), "Hello ada");
        assert_eq!(r("{{ data.name | upper }}"), "ADA");
        assert_eq!(r("{{ data.n }} items"), "3 items");
        assert_eq!(r("{{ data.f }}"), "2.5");
        assert_eq!(r("{{ data.w }}"), "12.0");
        assert_eq!(r("{{ data.big }}"), "100000000000000000000.0");
        assert_eq!(r("{{ data.nul }}"), "None");
        assert_eq!(r("{{ data.t }}|{{ false }}"), "True|False");
        assert_eq!(r("{{ data.list }}"), r#"["x", 1, None]"#);
        assert_eq!(r("{{ data.obj }}"), r#"{"a": [1, "x"], "b": True}"#);
        assert_eq!(r("{{ [data.q] }}"), r#"["a\"b\\c\n\u{1b}é"]"#);
        assert_eq!(r("{{ data.q }}"), "a\"b\\c\n\u{1b}é");
    }

    #[test]
    fn undefined_and_default() {
        assert_eq!(r("[{{ data.missing }}]"), "[]");
        assert_eq!(r("[{{ data.missing.deeper }}]"), "[]");
        assert_eq!(r("[{{ data.name.deeper }}]"), "[]");
        assert_eq!(r("[{{ data.nul.x }}]"), "[]");
        assert_eq!(r("{{ data.missing | default('N/A') }}"), "N/A");
        assert_eq!(r("{{ data.nul | default('x') }}"), "None");
        assert_eq!(r("{% if data.active %}on{% else %}off{% endif %}"), "on");
        assert_eq!(
            r("{% for i in data.list %}{{ i }};{% endfor %}"),
            "x;1;None;"
        );
        assert_eq!(r("{% for i in data.list %}{% if loop.index > 1 %}{% break %}{% endif %}{{ i }}{% endfor %}"), "x");
        assert_eq!(r("{{ data.obj.items }}"), "");
    }

    #[test]
    fn errors() {
        assert!(r("{{ 'a' + 1 }}").starts_with("Template error: "));
        assert!(r("{% if %}").starts_with("Template error: "));
        assert!(check_syntax("{{ x }}").is_ok());
        assert!(check_syntax("{{ x ").is_err());
    }
}
