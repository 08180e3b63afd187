//! `text` module (RUNTIME §9.5).

use regex::{Regex, RegexBuilder};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::common::{b64_encode, binary_input, byte_array};
use super::{dflt, fail, opt, prepare, req, AgentError, Args, Cap, Module, Ty};

pub static RENDER_TEMPLATE: Cap = Cap {
    id: "render-template",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str).rt(),
        req("context", Ty::Any),
    ],
    output: "the rendering of `text` with `context`, by the same engine and settings as DSL §3.5. Errors `TEXT_TEMPLATE_PARSE_ERROR`, `TEXT_TEMPLATE_RENDER_ERROR`.",
};

pub static TRIM_NORMALIZE: Cap = Cap {
    id: "trim-normalize",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[opt("text", Ty::Str)],
    output: "whitespace runs collapsed to one space, trimmed",
};

pub static CASE_CONVERSION: Cap = Cap {
    id: "case-conversion",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        dflt("format", Ty::Str, "\"lowercase\"").one_of(&["lowercase", "uppercase", "title-case"]),
    ],
    output: "string. Title case upper-cases the first character of each whitespace-separated word, lower-cases the rest, and joins with single spaces.",
};

pub static FIND_REPLACE: Cap = Cap {
    id: "find-replace",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        opt("pattern", Ty::Str),
        opt("replacement", Ty::Str),
    ],
    output: "every literal occurrence replaced; unchanged if either is missing",
};

pub static EXTRACT_FIRST_LINE: Cap = Cap {
    id: "extract-first-line",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[opt("text", Ty::Str)],
    output: "the text before the first line break",
};

pub static EXTRACT_FIRST_WORD: Cap = Cap {
    id: "extract-first-word",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[opt("text", Ty::Str)],
    output: "the first whitespace-separated token",
};

pub static SPLIT_JOIN: Cap = Cap {
    id: "split-join",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        dflt("delimiter", Ty::Str, "\",\""),
        dflt("join_delimiter", Ty::Str, "\" \""),
    ],
    output: "split on `delimiter`, each part trimmed, joined with `join_delimiter`",
};

pub static SPLIT: Cap = Cap {
    id: "split",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[opt("text", Ty::Str), dflt("delimiter", Ty::Str, "\",\"")],
    output: "array of parts, not trimmed; empty text → `[]`",
};

pub static REMOVE_CHARACTERS: Cap = Cap {
    id: "remove-characters",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[opt("text", Ty::Str), opt("pattern", Ty::Str)],
    output: "every character that occurs in `pattern` removed",
};

pub static SUBSTRING_EXTRACTION: Cap = Cap {
    id: "substring-extraction",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        opt("start_delimiter", Ty::Str),
        opt("end_delimiter", Ty::Str),
    ],
    output: "the text between the first `start_delimiter` and the next `end_delimiter`; `\"\"` if either is not found; the text unchanged if either input is missing",
};

pub static COLLAPSE_EXPAND_LINES: Cap = Cap {
    id: "collapse-expand-lines",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        opt("delimiter", Ty::Str),
    ],
    output: "without a delimiter: lines trimmed and joined with spaces. With one: split on it, trimmed, joined with `\\n`.",
};

pub static SLUGIFY: Cap = Cap {
    id: "slugify",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
    ],
    output: "lower-cased; Latin-1 accented letters folded (à→a, é→e, ñ→n, ç→c, ý→y, ...); whitespace → `-`; characters other than `[a-z0-9-]` dropped; `--` collapsed; leading and trailing `-` trimmed",
};

pub static HASH_TEXT: Cap = Cap {
    id: "hash-text",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[opt("text", Ty::Str)],
    output: "SHA-256 hex of the UTF-8 bytes (`\"\"` for empty text)",
};

pub static AS_BYTE_ARRAY: Cap = Cap {
    id: "as-byte-array",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[opt("text", Ty::Str), dflt("encoding", Ty::Str, "\"UTF-8\"")],
    output: "array of byte values",
};

pub static FROM_BASE64: Cap = Cap {
    id: "from-base64",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        req("data", Ty::Binary),
        dflt("encoding", Ty::Str, "\"UTF-8\""),
    ],
    output: "decoded string. Errors `TEXT_UTF8_DECODE_ERROR`, `TEXT_UNSUPPORTED_ENCODING`, `FILE_BASE64_DECODE_ERROR`, `FILE_INVALID_STRUCTURE`, `FILE_INVALID_BYTE_ARRAY`, `FILE_BYTE_OUT_OF_RANGE`, `FILE_INVALID_INPUT_TYPE`.",
};

pub static TO_BASE64: Cap = Cap {
    id: "to-base64",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        req("data", Ty::Types(&["string", "array", "object"])),
        opt("filename", Ty::Str),
        opt("mimeType", Ty::Str).alias(&["mime_type"]),
    ],
    output: "FileData. Its `filename` and `mimeType` are the inputs when given, else those of a FileData `data`, else absent (never `null`, never inferred). Errors `TEXT_INVALID_FILE_DATA`, `TEXT_INVALID_BYTE_ARRAY`, `TEXT_BYTE_OUT_OF_RANGE`, `TEXT_INVALID_INPUT_TYPE`.",
};

pub static REGEX_REPLACE: Cap = Cap {
    id: "regex-replace",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        opt("pattern", Ty::Str),
        dflt("replacement", Ty::Str, "\"\""),
        dflt("global", Ty::Bool, "true"),
        dflt("case_insensitive", Ty::Bool, "false"),
    ],
    output: "string (only the first match is replaced when `global` is false)",
};

pub static REGEX_MATCH: Cap = Cap {
    id: "regex-match",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        opt("pattern", Ty::Str),
        dflt("capture_group", Ty::UInt, "0"),
        dflt("all_matches", Ty::Bool, "false"),
        dflt("case_insensitive", Ty::Bool, "false"),
    ],
    output: "the matched group as a string, or `null`; with `all_matches`, an array of strings",
};

pub static REGEX_TEST: Cap = Cap {
    id: "regex-test",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        opt("pattern", Ty::Str),
        dflt("case_insensitive", Ty::Bool, "false"),
    ],
    output: "bool",
};

pub static REGEX_SPLIT: Cap = Cap {
    id: "regex-split",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        opt("pattern", Ty::Str),
        dflt("limit", Ty::UInt, "0"),
    ],
    output: "array of strings",
};

pub static PAD_TEXT: Cap = Cap {
    id: "pad-text",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        opt("length", Ty::UInt),
        dflt("pad_char", Ty::Str, "\" \""),
        dflt("direction", Ty::Str, "\"right\"").one_of(&["left", "right", "both"]),
    ],
    output: "padded string: the text plus n copies of the pad character, where n = `length` minus the text's length in **bytes** (no padding if n ≤ 0); each copy counts as one, whatever its own size. `both` puts ⌊n/2⌋ on the left. An empty `pad_char` pads with spaces.",
};

pub static TRUNCATE_TEXT: Cap = Cap {
    id: "truncate-text",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        opt("max_length", Ty::UInt),
        dflt("suffix", Ty::Str, "\"\""),
        dflt("word_boundary", Ty::Bool, "false"),
    ],
    output: "the text if its length in bytes is at most `max_length`. Otherwise, with s the length of `suffix` in bytes: if s ≥ `max_length`, the first `max_length` **characters** of `suffix`; else the first `max_length` − s **characters** of the text, cut before its last whitespace character (then trimmed at the end) if `word_boundary` and it has one, followed by `suffix`.",
};

pub static WRAP_TEXT: Cap = Cap {
    id: "wrap-text",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        dflt("width", Ty::UInt, "80"),
        dflt("preserve_newlines", Ty::Bool, "true"),
    ],
    output: "lines of at most `width`, joined with `\\n`; longer words are split",
};

pub static EXTRACT_NUMBERS: Cap = Cap {
    id: "extract-numbers",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        dflt("include_decimals", Ty::Bool, "true"),
        dflt("include_negative", Ty::Bool, "false"),
    ],
    output: "array of floats: the non-overlapping matches, left to right, of `\\d+(?:\\.\\d+)?` (`include_decimals`) or `\\d+` (otherwise), preceded by `-?` when `include_negative` (Rust `regex` syntax), each parsed as a float; a match that does not parse (non-ASCII digits) is dropped. `include_decimals: false` turns `2.5` into `[2.0, 5.0]`; `4.` gives `[4.0]`.",
};

pub static EXTRACT_EMAILS: Cap = Cap {
    id: "extract-emails",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[opt("text", Ty::Str)],
    output: "array of strings",
};

pub static EXTRACT_URLS: Cap = Cap {
    id: "extract-urls",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[opt("text", Ty::Str)],
    output: "array of `http(s)://` and `ftp://` URLs (case-insensitive)",
};

pub static COMPARE_TEXT: Cap = Cap {
    id: "compare-text",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text_a", Ty::Str),
        opt("text_b", Ty::Str),
        dflt("mode", Ty::Str, "\"exact\"").one_of(&["exact", "case-insensitive", "levenshtein-distance", "contains"]),
    ],
    output: "bool, or an integer distance (in characters). `contains`: `text_a` contains `text_b` (case-sensitive; `\"\"` is contained in every text).",
};

pub static COUNT_OCCURRENCES: Cap = Cap {
    id: "count-occurrences",
    section: "9.5",
    available: true,
    side_effects: false,
    inputs: &[
        opt("text", Ty::Str),
        opt("pattern", Ty::Str),
        dflt("use_regex", Ty::Bool, "false"),
        dflt("case_insensitive", Ty::Bool, "false"),
    ],
    output: "integer (non-overlapping); an empty pattern → 0",
};

pub static MODULE: Module = Module {
    id: "text",
    secure: false,
    caps: &[
        (&RENDER_TEMPLATE, Some(render_template)),
        (&TRIM_NORMALIZE, Some(trim_normalize)),
        (&CASE_CONVERSION, Some(case_conversion)),
        (&FIND_REPLACE, Some(find_replace)),
        (&EXTRACT_FIRST_LINE, Some(extract_first_line)),
        (&EXTRACT_FIRST_WORD, Some(extract_first_word)),
        (&SPLIT_JOIN, Some(split_join)),
        (&SPLIT, Some(split)),
        (&REMOVE_CHARACTERS, Some(remove_characters)),
        (&SUBSTRING_EXTRACTION, Some(substring_extraction)),
        (&COLLAPSE_EXPAND_LINES, Some(collapse_expand_lines)),
        (&SLUGIFY, Some(slugify)),
        (&HASH_TEXT, Some(hash_text)),
        (&AS_BYTE_ARRAY, Some(as_byte_array)),
        (&FROM_BASE64, Some(from_base64)),
        (&TO_BASE64, Some(to_base64)),
        (&REGEX_REPLACE, Some(regex_replace)),
        (&REGEX_MATCH, Some(regex_match)),
        (&REGEX_TEST, Some(regex_test)),
        (&REGEX_SPLIT, Some(regex_split)),
        (&PAD_TEXT, Some(pad_text)),
        (&TRUNCATE_TEXT, Some(truncate_text)),
        (&WRAP_TEXT, Some(wrap_text)),
        (&EXTRACT_NUMBERS, Some(extract_numbers)),
        (&EXTRACT_EMAILS, Some(extract_emails)),
        (&EXTRACT_URLS, Some(extract_urls)),
        (&COMPARE_TEXT, Some(compare_text)),
        (&COUNT_OCCURRENCES, Some(count_occurrences)),
    ],
};

// ------------------------------------------------------------------ helpers

fn text_of(a: &Args) -> &str {
    a.str("text")
}

fn regex(pattern: &str, case_insensitive: bool) -> Result<Regex, AgentError> {
    RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(10 << 20)
        .dfa_size_limit(10 << 20)
        .build()
        .map_err(|e| {
            AgentError::new("TEXT_INVALID_REGEX", format!("Invalid regex pattern: {e}"))
                .attr("pattern", pattern)
                .attr("regex_error", e.to_string())
        })
}

fn pattern_of(a: &Args) -> Result<&str, AgentError> {
    a.opt_str("pattern")
        .ok_or_else(|| AgentError::plain("Pattern is required"))
}

fn strs(v: impl IntoIterator<Item = String>) -> Value {
    Value::Array(v.into_iter().map(Value::String).collect())
}

/// Levenshtein distance in characters.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn is_latin_label(l: &str) -> bool {
    matches!(
        l,
        "LATIN-1" | "LATIN1" | "ISO-8859-1" | "ISO88591" | "WINDOWS-1252" | "CP1252"
    )
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

/// A byte prefix of `s` of at most `n` bytes, cut at a character boundary (at least one
/// character when `s` is not empty).
fn byte_prefix(s: &str, n: usize) -> &str {
    let mut end = n.min(s.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    if end == 0 {
        end = s.chars().next().map_or(0, char::len_utf8);
    }
    &s[..end]
}

// ------------------------------------------------------------------ capabilities

pub fn render_template(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&RENDER_TEMPLATE, input)?;
    let Some(t) = a.opt_str("text") else {
        return Err(AgentError::new(
            "TEXT_TEMPLATE_MISSING",
            "Template text is required",
        ));
    };
    if t.is_empty() {
        return Ok(json!(""));
    }
    match crate::template::try_render(t, a.value("context")) {
        Ok(s) => Ok(json!(s)),
        Err((true, e)) => Err(AgentError::new(
            "TEXT_TEMPLATE_PARSE_ERROR",
            format!("Template parse error: {e}"),
        )
        .attr("parse_error", e)),
        Err((false, e)) => Err(AgentError::new(
            "TEXT_TEMPLATE_RENDER_ERROR",
            format!("Template render error: {e}"),
        )
        .attr("render_error", e)),
    }
}

pub fn trim_normalize(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&TRIM_NORMALIZE, input)?;
    Ok(json!(text_of(&a)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")))
}

pub fn case_conversion(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&CASE_CONVERSION, input)?;
    let t = text_of(&a);
    Ok(json!(match a.str("format") {
        "uppercase" => t.to_uppercase(),
        "title-case" => t
            .split_whitespace()
            .map(|w| {
                let mut cs = w.chars();
                match cs.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + &cs.as_str().to_lowercase(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => t.to_lowercase(),
    }))
}

pub fn find_replace(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FIND_REPLACE, input)?;
    let t = text_of(&a);
    if t.is_empty() {
        return Ok(json!(""));
    }
    Ok(json!(
        match (a.opt_str("pattern"), a.opt_str("replacement")) {
            (Some(p), Some(r)) => t.replace(p, r),
            _ => t.to_string(),
        }
    ))
}

pub fn extract_first_line(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&EXTRACT_FIRST_LINE, input)?;
    Ok(json!(text_of(&a).lines().next().unwrap_or("")))
}

pub fn extract_first_word(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&EXTRACT_FIRST_WORD, input)?;
    Ok(json!(text_of(&a).split_whitespace().next().unwrap_or("")))
}

pub fn split_join(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&SPLIT_JOIN, input)?;
    let t = text_of(&a);
    if t.is_empty() {
        return Ok(json!(""));
    }
    let parts: Vec<&str> = t.split(a.str("delimiter")).map(str::trim).collect();
    Ok(json!(parts.join(a.str("join_delimiter"))))
}

pub fn split(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&SPLIT, input)?;
    let t = text_of(&a);
    if t.is_empty() {
        return Ok(json!([]));
    }
    Ok(strs(t.split(a.str("delimiter")).map(str::to_string)))
}

pub fn remove_characters(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&REMOVE_CHARACTERS, input)?;
    let p = a.str("pattern");
    Ok(json!(text_of(&a)
        .chars()
        .filter(|c| !p.contains(*c))
        .collect::<String>()))
}

pub fn substring_extraction(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&SUBSTRING_EXTRACTION, input)?;
    let t = text_of(&a);
    let (Some(s), Some(e)) = (a.opt_str("start_delimiter"), a.opt_str("end_delimiter")) else {
        return Ok(json!(t));
    };
    let Some(i) = t.find(s) else {
        return Ok(json!(""));
    };
    let rest = &t[i + s.len()..];
    Ok(json!(rest.find(e).map_or("", |j| &rest[..j])))
}

pub fn collapse_expand_lines(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&COLLAPSE_EXPAND_LINES, input)?;
    let t = text_of(&a);
    if t.is_empty() {
        return Ok(json!(""));
    }
    Ok(json!(match a.opt_str("delimiter") {
        Some(d) => t.split(d).map(str::trim).collect::<Vec<_>>().join("\n"),
        None => t.lines().map(str::trim).collect::<Vec<_>>().join(" "),
    }))
}

fn fold_latin1(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

pub fn slugify(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&SLUGIFY, input)?;
    let mut s = String::new();
    for c in text_of(&a).to_lowercase().chars() {
        let c = if c.is_whitespace() {
            '-'
        } else {
            fold_latin1(c)
        };
        if (c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !(c == '-' && s.ends_with('-'))
        {
            s.push(c);
        }
    }
    Ok(json!(s.trim_matches('-')))
}

pub fn hash_text(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&HASH_TEXT, input)?;
    let t = text_of(&a);
    if t.is_empty() {
        return Ok(json!(""));
    }
    Ok(json!(super::crypto::hex(&Sha256::digest(t.as_bytes()))))
}

pub fn as_byte_array(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&AS_BYTE_ARRAY, input)?;
    let t = text_of(&a);
    let label = a.str("encoding").trim().to_uppercase();
    let bytes: Vec<u8> = match label.as_str() {
        "UTF-8" | "UTF8" => t.as_bytes().to_vec(),
        l if is_latin_label(l) => {
            let mut out = Vec::with_capacity(t.len());
            for c in t.chars() {
                match u8::try_from(u32::from(c)) {
                    Ok(b) => out.push(b),
                    Err(_) => return fail(format!("Character '{c}' cannot be encoded as {label}")),
                }
            }
            out
        }
        _ => {
            return Err(AgentError::new(
                "TEXT_UNSUPPORTED_ENCODING",
                format!("Unsupported encoding: {}", a.str("encoding")),
            )
            .attr("encoding", a.str("encoding")))
        }
    };
    Ok(json!(bytes))
}

pub fn from_base64(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FROM_BASE64, input)?;
    let bytes = binary_input(a.value("data"))?;
    let enc = a.str("encoding");
    let label = enc.trim().to_uppercase();
    let utf8 = |b: Vec<u8>| {
        String::from_utf8(b).map_err(|e| {
            AgentError::new(
                "TEXT_UTF8_DECODE_ERROR",
                format!("Decoded content is not valid UTF-8: {e}"),
            )
        })
    };
    let s = match label.as_str() {
        "UTF-8" | "UTF8" => utf8(bytes)?,
        "AUTO" => match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => latin1(e.as_bytes()),
        },
        l if is_latin_label(l) => latin1(&bytes),
        _ => {
            return Err(AgentError::new(
                "TEXT_UNSUPPORTED_ENCODING",
                format!("Unsupported encoding: {enc}"),
            )
            .attr("encoding", enc))
        }
    };
    Ok(json!(s))
}

pub fn to_base64(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&TO_BASE64, input)?;
    let mut name = a.opt_str("filename").map(str::to_string);
    let mut mime = a.opt_str("mimeType").map(str::to_string);
    let content = match a.value("data") {
        Value::String(s) => b64_encode(s.as_bytes()),
        Value::Array(arr) => {
            let b = byte_array(arr).map_err(|(c, m)| AgentError::new(&format!("TEXT_{c}"), m))?;
            b64_encode(&b)
        }
        Value::Object(o) => {
            let Some(c) = o.get("content").and_then(Value::as_str) else {
                return Err(AgentError::new(
                    "TEXT_INVALID_FILE_DATA",
                    "Invalid file data structure: missing string field `content`",
                ));
            };
            if name.is_none() {
                name = o
                    .get("filename")
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
            if mime.is_none() {
                mime = o
                    .get("mimeType")
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
            c.to_string()
        }
        other => {
            return Err(AgentError::new(
                "TEXT_INVALID_INPUT_TYPE",
                "Input must be string, byte array, or file object",
            )
            .attr("received_type", crate::json::type_name(other)))
        }
    };
    let mut o = Map::new();
    o.insert("content".into(), json!(content));
    if let Some(n) = name {
        o.insert("filename".into(), json!(n));
    }
    if let Some(m) = mime {
        o.insert("mimeType".into(), json!(m));
    }
    Ok(Value::Object(o))
}

pub fn regex_replace(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&REGEX_REPLACE, input)?;
    let t = text_of(&a);
    if t.is_empty() {
        return Ok(json!(""));
    }
    let re = regex(pattern_of(&a)?, a.bool("case_insensitive"))?;
    let r = a.str("replacement");
    Ok(json!(if a.opt_bool("global").unwrap_or(true) {
        re.replace_all(t, r).into_owned()
    } else {
        re.replace(t, r).into_owned()
    }))
}

pub fn regex_match(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&REGEX_MATCH, input)?;
    let t = text_of(&a);
    let all = a.bool("all_matches");
    if t.is_empty() {
        return Ok(if all { json!([]) } else { Value::Null });
    }
    let re = regex(pattern_of(&a)?, a.bool("case_insensitive"))?;
    let g = a.usize("capture_group");
    if all {
        Ok(strs(
            re.captures_iter(t)
                .filter_map(|c| c.get(g).map(|m| m.as_str().to_string())),
        ))
    } else {
        Ok(re
            .captures(t)
            .and_then(|c| c.get(g))
            .map_or(Value::Null, |m| json!(m.as_str())))
    }
}

pub fn regex_test(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&REGEX_TEST, input)?;
    let t = text_of(&a);
    if t.is_empty() {
        return Ok(json!(false));
    }
    let re = regex(pattern_of(&a)?, a.bool("case_insensitive"))?;
    Ok(json!(re.is_match(t)))
}

pub fn regex_split(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&REGEX_SPLIT, input)?;
    let t = text_of(&a);
    if t.is_empty() {
        return Ok(json!([]));
    }
    let re = regex(pattern_of(&a)?, false)?;
    let limit = a.usize("limit");
    Ok(if limit > 0 {
        strs(re.splitn(t, limit).map(str::to_string))
    } else {
        strs(re.split(t).map(str::to_string))
    })
}

pub fn pad_text(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&PAD_TEXT, input)?;
    let t = text_of(&a);
    let target = a.opt_usize("length").unwrap_or(t.len());
    if t.len() >= target {
        return Ok(json!(t));
    }
    let c = a.str("pad_char").chars().next().unwrap_or(' ');
    let n = target - t.len();
    let rep = |k: usize| std::iter::repeat_n(c, k).collect::<String>();
    Ok(json!(match a.str("direction") {
        "left" => rep(n) + t,
        "both" => rep(n / 2) + t + &rep(n - n / 2),
        _ => t.to_string() + &rep(n),
    }))
}

pub fn truncate_text(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&TRUNCATE_TEXT, input)?;
    let t = text_of(&a);
    let Some(max) = a.opt_usize("max_length") else {
        return Ok(json!(t));
    };
    if t.len() <= max {
        return Ok(json!(t));
    }
    let suffix = a.str("suffix");
    if suffix.len() >= max {
        return Ok(json!(suffix.chars().take(max).collect::<String>()));
    }
    let head: String = t.chars().take(max - suffix.len()).collect();
    let cut = if a.bool("word_boundary") {
        match head.rfind(char::is_whitespace) {
            Some(i) => head[..i].trim_end().to_string(),
            None => head,
        }
    } else {
        head
    };
    Ok(json!(cut + suffix))
}

fn push_word(lines: &mut Vec<String>, cur: &mut String, word: &str, width: usize) {
    if !cur.is_empty() && cur.len() + 1 + word.len() <= width {
        cur.push(' ');
        cur.push_str(word);
        return;
    }
    if !cur.is_empty() {
        lines.push(std::mem::take(cur));
    }
    let mut rest = word;
    while rest.len() > width {
        let p = byte_prefix(rest, width);
        lines.push(p.to_string());
        rest = &rest[p.len()..];
    }
    *cur = rest.to_string();
}

pub fn wrap_text(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&WRAP_TEXT, input)?;
    let t = text_of(&a);
    let width = a.usize("width");
    if t.is_empty() || width == 0 {
        return Ok(json!(t));
    }
    let src: Vec<&str> = if a.opt_bool("preserve_newlines").unwrap_or(true) {
        t.lines().collect()
    } else {
        vec![t]
    };
    let mut out = Vec::new();
    for line in src {
        if line.len() <= width && !line.contains('\n') {
            out.push(line.to_string());
            continue;
        }
        let mut cur = String::new();
        for w in line.split_whitespace() {
            push_word(&mut out, &mut cur, w, width);
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    Ok(json!(out.join("\n")))
}

pub fn extract_numbers(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&EXTRACT_NUMBERS, input)?;
    let t = text_of(&a);
    let mut p = String::new();
    if a.bool("include_negative") {
        p.push_str("-?");
    }
    p.push_str(if a.opt_bool("include_decimals").unwrap_or(true) {
        r"\d+(?:\.\d+)?"
    } else {
        r"\d+"
    });
    let re = regex(&p, false)?;
    let nums: Vec<Value> = re
        .find_iter(t)
        .filter_map(|m| m.as_str().parse::<f64>().ok())
        .map(|x| json!(x))
        .collect();
    Ok(Value::Array(nums))
}

pub fn extract_emails(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&EXTRACT_EMAILS, input)?;
    let re = regex(r"[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}", false)?;
    Ok(strs(
        re.find_iter(text_of(&a)).map(|m| m.as_str().to_string()),
    ))
}

pub fn extract_urls(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&EXTRACT_URLS, input)?;
    let re = regex(r"(?:https?|ftp)://[^\s<>\[\]{}|\\^`\x00-\x1f]+", true)?;
    Ok(strs(
        re.find_iter(text_of(&a)).map(|m| m.as_str().to_string()),
    ))
}

pub fn compare_text(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&COMPARE_TEXT, input)?;
    let (x, y) = (a.str("text_a"), a.str("text_b"));
    Ok(match a.str("mode") {
        "case-insensitive" => json!(x.to_lowercase() == y.to_lowercase()),
        "levenshtein-distance" => json!(levenshtein(x, y)),
        "contains" => json!(x.contains(y)),
        _ => json!(x == y),
    })
}

pub fn count_occurrences(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&COUNT_OCCURRENCES, input)?;
    let t = text_of(&a);
    if t.is_empty() {
        return Ok(json!(0));
    }
    let p = pattern_of(&a)?;
    if p.is_empty() {
        return Ok(json!(0));
    }
    let ci = a.bool("case_insensitive");
    let n = if a.bool("use_regex") {
        regex(p, ci)?.find_iter(t).count()
    } else if ci {
        t.to_lowercase().matches(&p.to_lowercase()).count()
    } else {
        t.matches(p).count()
    };
    Ok(json!(n))
}
