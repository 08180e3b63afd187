//! `xml` module (RUNTIME §9.11).

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde_json::{Map, Value};

use super::common::binary_input_as;
use super::{dflt, prepare, req, AgentError, Cap, Module, Ty};

pub static FROM_XML: Cap = Cap {
    id: "from-xml",
    section: "9.11",
    available: true,
    side_effects: false,
    inputs: &[
        req("data", Ty::Binary),
        dflt("encoding", Ty::Str, "\"UTF-8\""),
        dflt("preserve_text", Ty::Bool, "true"),
        dflt("include_attributes", Ty::Bool, "true"),
        dflt("trim_text", Ty::Bool, "true"),
    ],
    output:
        "`{<root tag>: <element>}` (details below). Errors `XML_DECODE_ERROR`, `XML_PARSE_ERROR`.",
};

pub static MODULE: Module = Module {
    id: "xml",
    secure: false,
    caps: &[(&FROM_XML, Some(from_xml))],
};

struct Node {
    name: String,
    attrs: Map<String, Value>,
    children: Map<String, Value>,
    texts: Vec<String>,
}

struct Opts {
    text: bool,
    attrs: bool,
    trim: bool,
}

fn perr(e: impl std::fmt::Display) -> AgentError {
    AgentError::new("XML_PARSE_ERROR", format!("Failed to parse XML: {e}"))
}

fn open(e: &BytesStart, o: &Opts) -> Result<Node, AgentError> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut attrs = Map::new();
    if o.attrs {
        for a in e.attributes() {
            let a = a.map_err(perr)?;
            let k = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let v = a.unescape_value().map_err(perr)?.into_owned();
            attrs.insert(k, Value::String(v));
        }
    }
    Ok(Node {
        name,
        attrs,
        children: Map::new(),
        texts: Vec::new(),
    })
}

fn close(n: Node) -> (String, Value) {
    let text = n.texts.join(" ");
    if n.attrs.is_empty() && n.children.is_empty() && !text.is_empty() {
        return (n.name, Value::String(text));
    }
    let mut o = Map::new();
    if !n.attrs.is_empty() {
        o.insert("@attributes".into(), Value::Object(n.attrs));
    }
    if !text.is_empty() {
        o.insert("@text".into(), Value::String(text));
    }
    o.extend(n.children);
    (n.name, Value::Object(o))
}

fn attach(parent: &mut Node, name: String, v: Value) {
    match parent.children.get_mut(&name) {
        None => {
            parent.children.insert(name, v);
        }
        // An element value is never an array, so an array is the list of a repeated tag.
        Some(Value::Array(a)) => a.push(v),
        Some(existing) => {
            let first = std::mem::take(existing);
            *existing = Value::Array(vec![first, v]);
        }
    }
}

fn add_text(stack: &mut [Node], t: &str, o: &Opts) {
    if !o.text {
        return;
    }
    let t = if o.trim { t.trim() } else { t };
    if let (false, Some(top)) = (t.is_empty(), stack.last_mut()) {
        top.texts.push(t.to_string());
    }
}

pub fn from_xml(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FROM_XML, input)?;
    let bytes = binary_input_as(a.value("data"), "XML_DECODE_ERROR")?;
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = std::str::from_utf8(b).map_err(|e| {
        AgentError::new(
            "XML_ENCODING_ERROR",
            format!("XML content is not valid UTF-8: {e}"),
        )
    })?;
    let o = Opts {
        text: a.opt_bool("preserve_text").unwrap_or(true),
        attrs: a.opt_bool("include_attributes").unwrap_or(true),
        trim: a.opt_bool("trim_text").unwrap_or(true),
    };
    let mut r = Reader::from_str(text);
    r.config_mut().trim_text(false);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<(String, Value)> = None;
    loop {
        match r.read_event().map_err(perr)? {
            Event::Start(e) => {
                if root.is_some() {
                    return Err(perr("more than one root element"));
                }
                stack.push(open(&e, &o)?);
            }
            Event::Empty(e) => {
                if root.is_some() {
                    return Err(perr("more than one root element"));
                }
                let (k, v) = close(open(&e, &o)?);
                match stack.last_mut() {
                    Some(p) => attach(p, k, v),
                    None => root = Some((k, v)),
                }
            }
            Event::End(_) => {
                let n = stack.pop().ok_or_else(|| perr("unexpected end tag"))?;
                let (k, v) = close(n);
                match stack.last_mut() {
                    Some(p) => attach(p, k, v),
                    None => root = Some((k, v)),
                }
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(perr)?;
                if stack.is_empty() && !s.trim().is_empty() {
                    return Err(perr("text outside the root element"));
                }
                add_text(&mut stack, &s, &o);
            }
            Event::CData(c) => {
                let s = String::from_utf8_lossy(&c.into_inner()).into_owned();
                add_text(&mut stack, &s, &o);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(perr("unexpected end of document (unclosed element)"));
    }
    let (k, v) = root.ok_or_else(|| perr("no root element"))?;
    let mut out = Map::new();
    out.insert(k, v);
    Ok(Value::Object(out))
}
