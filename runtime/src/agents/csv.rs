//! `csv` module (RUNTIME §9.7).

use serde_json::{json, Map, Value};

use super::common::binary_input_as;
use super::{dflt, opt, prepare, req, AgentError, Args, Cap, Module, Ty};

pub static FROM_CSV: Cap = Cap {
    id: "from-csv",
    section: "9.7",
    available: true,
    side_effects: false,
    inputs: &[
        req("data", Ty::Binary),
        dflt("encoding", Ty::Str, "\"UTF-8\""),
        dflt("delimiter", Ty::Char, "\",\""),
        dflt("quote_char", Ty::Char, "\"\\\"\""),
        opt("escape_char", Ty::Char),
        dflt("use_header", Ty::Bool, "true"),
        dflt("skip_empty_lines", Ty::Bool, "true"),
        dflt("trim_whitespace", Ty::Bool, "false"),
    ],
    output: "With a header: an array of objects, header name → string value. Extra columns are named by their index; columns with an empty header are dropped. Without a header: an array of arrays of strings. Blank lines produce no record, and records that are a single blank field are skipped when `skip_empty_lines` is true. Records with a different number of fields than the first → `CSV_PARSE_ERROR`. Other errors: `CSV_DECODE_ERROR`, `CSV_ENCODING_ERROR`.",
};

pub static TO_CSV: Cap = Cap {
    id: "to-csv",
    section: "9.7",
    available: true,
    side_effects: false,
    inputs: &[
        req("value", Ty::Any),
        dflt("encoding", Ty::Str, "\"UTF-8\""),
        dflt("delimiter", Ty::Char, "\",\""),
        dflt("quote_char", Ty::Char, "\"\\\"\""),
        opt("escape_char", Ty::Char),
        dflt("use_header", Ty::Bool, "true"),
    ],
    output: "**an array of byte values** (the UTF-8 CSV text), as the Rust `csv` crate's `Writer` writes it with the given `delimiter` and `quote_char` and its other defaults: every record, the header too, ends with `\\n` (an empty array gives `[]`); a field is quoted only if it contains the delimiter, the quote character, `\\r` or `\\n`, or is empty and alone in its record (`\"\"`); a quote inside is doubled; `escape_char` changes nothing. The header comes from the first element: object keys in sorted order, `Column 1..n` for arrays, `value` for scalars. Cells: null → empty, scalars → text, arrays and objects → JSON text; each element gives its own cells (an object's in sorted key order, not matched to the header). A record with a different number of fields than the first, or any other write failure → `CSV_WRITE_ERROR`.",
};

pub static GET_HEADER: Cap = Cap {
    id: "get-header",
    section: "9.7",
    available: true,
    side_effects: false,
    inputs: &[
        req("data", Ty::Binary),
        dflt("encoding", Ty::Str, "\"UTF-8\""),
        dflt("delimiter", Ty::Char, "\",\""),
        dflt("quote_char", Ty::Char, "\"\\\"\""),
        opt("escape_char", Ty::Char),
        dflt("use_header", Ty::Bool, "true"),
        dflt("skip_empty_lines", Ty::Bool, "true"),
        dflt("trim_whitespace", Ty::Bool, "false"),
    ],
    output: "object: header → `\"Integer\"`|`\"Double\"`|`\"Boolean\"`|`\"String\"`, inferred from the first data row, each cell parsed as JSON by serde_json (surrounding whitespace allowed): `true` or `false` → `Boolean`; a number serde_json holds as an i64 → `Integer`; one it holds as an f64 (`1e3`, `2.5`, `1.0`, `-0`, an integer beyond 2⁶⁴ − 1) → `Double`; anything else → `String` (`TRUE`, `01`, `+1`, `.5`, `1.`, `1e400`, `NaN`, an integer in [2⁶³, 2⁶⁴ − 1], which it holds as a u64, an empty or missing cell). Every column is `String` if there is no data row. Without a header the names are `Column 1..n`. Error `CSV_EMPTY_FILE`.",
};

pub static MODULE: Module = Module {
    id: "csv",
    secure: false,
    caps: &[
        (&FROM_CSV, Some(from_csv)),
        (&TO_CSV, Some(to_csv)),
        (&GET_HEADER, Some(get_header)),
    ],
};

fn byte_of(a: &Args, k: &str) -> Result<Option<u8>, AgentError> {
    match a.opt_str(k) {
        None => Ok(None),
        Some(s) => match s.as_bytes() {
            [b] => Ok(Some(*b)),
            _ => Err(AgentError::plain(format!(
                "{k} must be a single-byte character, got {s:?}"
            ))),
        },
    }
}

/// Decode CSV bytes with an encoding label.
fn decode(bytes: &[u8], label: &str) -> Result<String, AgentError> {
    let l = label.trim();
    let err = |e: String| AgentError::new("CSV_ENCODING_ERROR", e);
    if l.eq_ignore_ascii_case("utf-8") || l.eq_ignore_ascii_case("utf8") || l.is_empty() {
        let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        return String::from_utf8(b.to_vec())
            .map_err(|e| err(format!("CSV content is not valid UTF-8: {e}")));
    }
    match encoding_rs::Encoding::for_label(l.as_bytes()) {
        Some(enc) => {
            let (s, _, bad) = enc.decode(bytes);
            if bad {
                return Err(err(format!("CSV content is not valid {}", enc.name())));
            }
            Ok(s.into_owned())
        }
        None => Ok(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// Read every record (after the blank-record rule) as strings.
fn read_records(a: &Args) -> Result<Vec<Vec<String>>, AgentError> {
    let bytes = binary_input_as(a.value("data"), "CSV_DECODE_ERROR")?;
    let text = decode(&bytes, a.str("encoding"))?;
    let mut b = csv::ReaderBuilder::new();
    b.has_headers(false)
        .flexible(true)
        .delimiter(byte_of(a, "delimiter")?.unwrap_or(b','))
        .quote(byte_of(a, "quote_char")?.unwrap_or(b'"'))
        .escape(byte_of(a, "escape_char")?);
    if a.bool("trim_whitespace") {
        b.trim(csv::Trim::All);
    }
    let skip = a.opt_bool("skip_empty_lines").unwrap_or(true);
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut width: Option<usize> = None;
    for (i, r) in b.from_reader(text.as_bytes()).records().enumerate() {
        let r =
            r.map_err(|e| AgentError::new("CSV_PARSE_ERROR", format!("Failed to parse CSV: {e}")))?;
        if skip && r.len() == 1 && r[0].trim().is_empty() {
            continue;
        }
        match width {
            None => width = Some(r.len()),
            Some(w) if w != r.len() => {
                return Err(AgentError::new(
                    "CSV_PARSE_ERROR",
                    format!(
                        "Failed to parse CSV: record {} has {} fields, but the first record has {}",
                        i + 1,
                        r.len(),
                        w
                    ),
                ))
            }
            _ => {}
        }
        out.push(r.iter().map(str::to_string).collect());
    }
    Ok(out)
}

pub fn from_csv(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FROM_CSV, input)?;
    let records = read_records(&a)?;
    if !a.opt_bool("use_header").unwrap_or(true) {
        return Ok(json!(records));
    }
    let mut it = records.into_iter();
    let Some(header) = it.next() else {
        return Ok(json!([]));
    };
    let rows: Vec<Value> = it
        .map(|r| {
            let mut o = Map::new();
            for (i, cell) in r.into_iter().enumerate() {
                match header.get(i) {
                    Some(h) if h.is_empty() => {}
                    Some(h) => {
                        o.insert(h.clone(), Value::String(cell));
                    }
                    None => {
                        o.insert(i.to_string(), Value::String(cell));
                    }
                }
            }
            Value::Object(o)
        })
        .collect();
    Ok(Value::Array(rows))
}

fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => crate::json::to_string(other),
    }
}

fn cells(v: &Value) -> Vec<String> {
    match v {
        Value::Object(o) => o.values().map(cell_text).collect(),
        Value::Array(a) => a.iter().map(cell_text).collect(),
        other => vec![cell_text(other)],
    }
}

pub fn to_csv(input: Value) -> Result<Value, AgentError> {
    let mut a = prepare(&TO_CSV, input)?;
    let delim = byte_of(&a, "delimiter")?.unwrap_or(b',');
    let quote = byte_of(&a, "quote_char")?.unwrap_or(b'"');
    let use_header = a.opt_bool("use_header").unwrap_or(true);
    let rows = match a.take("value") {
        Value::Array(x) => x,
        other => vec![other],
    };
    let Some(first) = rows.first() else {
        return Ok(json!([]));
    };
    let werr =
        |e: csv::Error| AgentError::new("CSV_WRITE_ERROR", format!("Failed to write CSV: {e}"));
    let mut w = csv::WriterBuilder::new()
        .delimiter(delim)
        .quote(quote)
        .from_writer(Vec::new());
    if use_header {
        let header: Vec<String> = match first {
            Value::Object(o) => o.keys().cloned().collect(),
            Value::Array(x) => (1..=x.len()).map(|i| format!("Column {i}")).collect(),
            _ => vec!["value".to_string()],
        };
        w.write_record(&header).map_err(werr)?;
    }
    for r in &rows {
        w.write_record(cells(r)).map_err(werr)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| AgentError::new("CSV_WRITE_ERROR", format!("Failed to write CSV: {e}")))?;
    Ok(json!(bytes))
}

fn infer(cell: Option<&String>) -> &'static str {
    match cell.map(|c| serde_json::from_str::<Value>(c)) {
        Some(Ok(Value::Bool(_))) => "Boolean",
        Some(Ok(Value::Number(n))) if n.is_i64() => "Integer",
        Some(Ok(Value::Number(n))) if n.is_f64() => "Double",
        _ => "String",
    }
}

pub fn get_header(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&GET_HEADER, input)?;
    let records = read_records(&a)?;
    let Some(first) = records.first() else {
        return Err(AgentError::new("CSV_EMPTY_FILE", "CSV file is empty"));
    };
    let (names, data): (Vec<String>, Option<&Vec<String>>) =
        if a.opt_bool("use_header").unwrap_or(true) {
            (first.clone(), records.get(1))
        } else {
            (
                (1..=first.len()).map(|i| format!("Column {i}")).collect(),
                Some(first),
            )
        };
    let mut o = Map::new();
    for (i, n) in names.into_iter().enumerate() {
        if n.is_empty() {
            continue;
        }
        let t = infer(data.and_then(|d| d.get(i)));
        o.insert(n, json!(t));
    }
    Ok(Value::Object(o))
}
