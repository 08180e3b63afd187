//! `utils` module (RUNTIME §9.3).

use std::io::Read;

use serde_json::{json, Map, Value};

use super::{dflt, fail, opt, prepare, req, AgentError, Cap, Module, Ty};

pub static RANDOM_DOUBLE: Cap = Cap {
    id: "random-double",
    section: "9.3",
    available: true,
    side_effects: false,
    inputs: &[],
    output: "number in [0, 1)",
};

pub static RANDOM_ARRAY: Cap = Cap {
    id: "random-array",
    section: "9.3",
    available: true,
    side_effects: false,
    inputs: &[req("size", Ty::Int)],
    output: "array of `size` random integers in [0, size]; a negative size → `CAPABILITY_ERROR`",
};

pub static RETURN_INPUT_STRING: Cap = Cap {
    id: "return-input-string",
    section: "9.3",
    available: true,
    side_effects: false,
    inputs: &[req("value", Ty::Str)],
    output: "the string",
};

pub static RETURN_INPUT: Cap = Cap {
    id: "return-input",
    section: "9.3",
    available: true,
    side_effects: false,
    inputs: &[req("value", Ty::Any)],
    output: "the value, unchanged",
};

pub static DO_NOTHING: Cap = Cap {
    id: "do-nothing",
    section: "9.3",
    available: true,
    side_effects: false,
    inputs: &[],
    output: "`null`",
};

pub static DELAY_IN_MS: Cap = Cap {
    id: "delay-in-ms",
    section: "9.3",
    available: true,
    side_effects: false,
    inputs: &[req("delay_value", Ty::UInt)],
    output: "the number. Plain, **non-durable** sleep; use the Delay step for durable waits.",
};

pub static CALCULATE: Cap = Cap {
    id: "calculate",
    section: "9.3",
    available: true,
    side_effects: false,
    inputs: &[
        req("expression", Ty::Str),
        req("variables", Ty::Object),
        dflt("enable_rounding", Ty::Bool, "false"),
        opt("decimal_places", Ty::UInt),
    ],
    output: "number (float). The grammar has `+ - * / %` (`*`, `/` and `%` bind tighter than `+` and `-`; all left to right), parentheses, unary `+`/`-` and decimal literals. `%` is the remainder of truncated division, with the sign of the dividend (Rust's `f64` `%`): `-7 % 3` = `-1`, `7 % -3` = `1`. Identifiers are variable names; the words `true false null and or not in is` are reserved. Allowed characters are alphanumerics, `+-*/%(). _`. Rounding applies only with `enable_rounding` and `decimal_places`. Errors (`CAPABILITY_ERROR`): empty expression, invalid character, a variable that is missing or null, `Division by zero` (`/` or `%` by 0), malformed expression.",
};

pub static FORMAT_DATE_FROM_ISO: Cap = Cap {
    id: "format-date-from-iso",
    section: "9.3",
    available: true,
    side_effects: false,
    inputs: &[req("iso_date", Ty::Str), req("target_format", Ty::Str)],
    output: "string",
};

pub static ISO_TO_UNIX_TIMESTAMP: Cap = Cap {
    id: "iso-to-unix-timestamp",
    section: "9.3",
    available: true,
    side_effects: false,
    inputs: &[req("iso_date", Ty::Str)],
    output: "integer seconds (UTC)",
};

pub static GET_CURRENT_UNIX_TIMESTAMP: Cap = Cap {
    id: "get-current-unix-timestamp",
    section: "9.3",
    available: true,
    side_effects: false,
    inputs: &[],
    output: "integer seconds",
};

pub static GET_CURRENT_ISO_DATETIME: Cap = Cap {
    id: "get-current-iso-datetime",
    section: "9.3",
    available: true,
    side_effects: false,
    inputs: &[],
    output: "RFC 3339 string (UTC)",
};

pub static GET_CURRENT_FORMATTED_DATETIME: Cap = Cap {
    id: "get-current-formatted-datetime",
    section: "9.3",
    available: true,
    side_effects: false,
    inputs: &[req("format", Ty::Str)],
    output: "string (UTC)",
};

pub static COUNTRY_NAME_TO_ISO_CODE: Cap = Cap {
    id: "country-name-to-iso-code",
    section: "9.3",
    available: true,
    side_effects: false,
    inputs: &[
        req("country_name", Ty::Str),
        dflt("code_type", Ty::Str, "\"alpha2\"").one_of(&["alpha2", "alpha3"]),
    ],
    output: "ISO 3166 code. Matching is on normalised names: lower case, alphanumerics and single spaces. The order is exact name, then alternative names, then the nearest name within a Levenshtein distance of max(3, len/4). Otherwise `Country not found: <name>`.",
};

pub static MODULE: Module = Module {
    id: "utils",
    secure: false,
    caps: &[
        (&RANDOM_DOUBLE, Some(random_double)),
        (&RANDOM_ARRAY, Some(random_array)),
        (&RETURN_INPUT_STRING, Some(return_input_string)),
        (&RETURN_INPUT, Some(return_input)),
        (&DO_NOTHING, Some(do_nothing)),
        (&DELAY_IN_MS, Some(delay_in_ms)),
        (&CALCULATE, Some(calculate)),
        (&FORMAT_DATE_FROM_ISO, Some(format_date_from_iso)),
        (&ISO_TO_UNIX_TIMESTAMP, Some(iso_to_unix_timestamp)),
        (
            &GET_CURRENT_UNIX_TIMESTAMP,
            Some(get_current_unix_timestamp),
        ),
        (&GET_CURRENT_ISO_DATETIME, Some(get_current_iso_datetime)),
        (
            &GET_CURRENT_FORMATTED_DATETIME,
            Some(get_current_formatted_datetime),
        ),
        (&COUNTRY_NAME_TO_ISO_CODE, Some(country_name_to_iso_code)),
    ],
};

/// Random bytes from /dev/urandom (falls back to time-based bits).
pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        if f.read_exact(&mut b).is_ok() {
            return u64::from_le_bytes(b);
        }
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t.wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
}

pub fn random_double(input: Value) -> Result<Value, AgentError> {
    prepare(&RANDOM_DOUBLE, input)?;
    Ok(json!((random_u64() >> 11) as f64 / (1u64 << 53) as f64))
}

pub fn random_array(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&RANDOM_ARRAY, input)?;
    let size = a.i64("size");
    if size < 0 {
        return fail(format!("size must not be negative, got {size}"));
    }
    let n = size as u64;
    Ok(Value::Array(
        (0..n).map(|_| json!(random_u64() % (n + 1))).collect(),
    ))
}

pub fn return_input_string(input: Value) -> Result<Value, AgentError> {
    Ok(prepare(&RETURN_INPUT_STRING, input)?.take("value"))
}

pub fn return_input(input: Value) -> Result<Value, AgentError> {
    Ok(prepare(&RETURN_INPUT, input)?.take("value"))
}

pub fn do_nothing(input: Value) -> Result<Value, AgentError> {
    prepare(&DO_NOTHING, input)?;
    Ok(Value::Null)
}

pub fn get_current_unix_timestamp(input: Value) -> Result<Value, AgentError> {
    prepare(&GET_CURRENT_UNIX_TIMESTAMP, input)?;
    Ok(json!(now_secs()))
}

pub fn get_current_iso_datetime(input: Value) -> Result<Value, AgentError> {
    prepare(&GET_CURRENT_ISO_DATETIME, input)?;
    let (y, mo, d, h, mi, s) = civil_from_unix(now_secs());
    Ok(json!(format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"
    )))
}

pub fn get_current_formatted_datetime(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&GET_CURRENT_FORMATTED_DATETIME, input)?;
    Ok(json!(format_tokens(
        a.str("format"),
        civil_from_unix(now_secs())
    )))
}

pub fn delay_in_ms(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&DELAY_IN_MS, input)?;
    let ms = a.u64("delay_value");
    std::thread::sleep(std::time::Duration::from_millis(ms));
    Ok(json!(ms))
}

// ------------------------------------------------------------------ calculate

struct Calc<'a> {
    toks: Vec<Tok>,
    pos: usize,
    vars: &'a Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(char),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let st = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let t: String = chars[st..i].iter().collect();
            out.push(Tok::Num(
                t.parse().map_err(|_| format!("Invalid number: {t}"))?,
            ));
        } else if c.is_alphanumeric() || c == '_' {
            let st = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[st..i].iter().collect()));
        } else if "+-*/%()".contains(c) {
            out.push(Tok::Op(c));
            i += 1;
        } else {
            return Err(format!("Invalid character in expression: '{c}'"));
        }
    }
    Ok(out)
}

impl Calc<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn expr(&mut self) -> Result<f64, String> {
        let mut v = self.term()?;
        while let Some(Tok::Op(c @ ('+' | '-'))) = self.peek().cloned() {
            self.pos += 1;
            let r = self.term()?;
            v = if c == '+' { v + r } else { v - r };
        }
        Ok(v)
    }
    fn term(&mut self) -> Result<f64, String> {
        let mut v = self.unary()?;
        while let Some(Tok::Op(c @ ('*' | '/' | '%'))) = self.peek().cloned() {
            self.pos += 1;
            let r = self.unary()?;
            v = match c {
                '*' => v * r,
                _ if r == 0.0 => return Err("Division by zero".to_string()),
                '/' => v / r,
                _ => v % r,
            };
        }
        Ok(v)
    }
    fn unary(&mut self) -> Result<f64, String> {
        match self.peek().cloned() {
            Some(Tok::Op('-')) => {
                self.pos += 1;
                Ok(-self.unary()?)
            }
            Some(Tok::Op('+')) => {
                self.pos += 1;
                self.unary()
            }
            _ => self.atom(),
        }
    }
    fn atom(&mut self) -> Result<f64, String> {
        let t = self.peek().cloned().ok_or("Unexpected end of expression")?;
        self.pos += 1;
        match t {
            Tok::Num(x) => Ok(x),
            Tok::Op('(') => {
                let v = self.expr()?;
                if self.peek() != Some(&Tok::Op(')')) {
                    return Err("Missing closing parenthesis".to_string());
                }
                self.pos += 1;
                Ok(v)
            }
            Tok::Ident(name) => {
                const RESERVED: [&str; 8] =
                    ["true", "false", "null", "and", "or", "not", "in", "is"];
                if RESERVED.contains(&name.to_lowercase().as_str()) {
                    return Err(format!("Reserved word in expression: {name}"));
                }
                match self.vars.get(&name) {
                    Some(Value::Number(n)) => Ok(n.as_f64().unwrap_or(0.0)),
                    Some(Value::String(s)) => s
                        .trim()
                        .parse()
                        .map_err(|_| format!("Variable '{name}' is not a number: {s}")),
                    Some(Value::Null) | None => Err(format!("Variable not found: {name}")),
                    Some(other) => Err(format!("Variable '{name}' is not a number: {other}")),
                }
            }
            Tok::Op(c) => Err(format!("Unexpected token: {c}")),
        }
    }
}

/// Evaluate a `calculate` expression.
pub fn eval_expression(expr: &str, vars: &Map<String, Value>) -> Result<f64, String> {
    if expr.trim().is_empty() {
        return Err("Expression is empty".to_string());
    }
    let mut c = Calc {
        toks: tokenize(expr)?,
        pos: 0,
        vars,
    };
    let v = c.expr()?;
    if c.pos != c.toks.len() {
        return Err("Malformed expression".to_string());
    }
    Ok(v)
}

pub fn calculate(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&CALCULATE, input)?;
    let empty = Map::new();
    let vars = a
        .get("variables")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut v = eval_expression(a.str("expression"), vars).map_err(AgentError::plain)?;
    if a.bool("enable_rounding") {
        if let Some(dp) = a.get("decimal_places").and_then(Value::as_u64) {
            let p = 10f64.powi(dp.min(15) as i32);
            v = (v * p).round() / p;
        }
    }
    if !v.is_finite() {
        return fail("Result is not a finite number");
    }
    Ok(json!(v))
}

// ------------------------------------------------------------------ dates

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// (year, month, day) of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

type Civil = (i64, u32, u32, u32, u32, u32);

fn civil_from_unix(t: i64) -> Civil {
    let (y, m, d) = civil_from_days(t.div_euclid(86400));
    let s = t.rem_euclid(86400);
    (
        y,
        m,
        d,
        (s / 3600) as u32,
        (s % 3600 / 60) as u32,
        (s % 60) as u32,
    )
}

fn parse_iso(s: &str) -> Result<Civil, AgentError> {
    let bad = || AgentError::plain(format!("Invalid ISO date: {s}"));
    let t = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = t.split_once('T').ok_or_else(bad)?;
    let dp: Vec<&str> = date.split('-').collect();
    let tp: Vec<&str> = time.split(':').collect();
    if dp.len() != 3 || tp.len() != 3 || dp[0].len() != 4 {
        return Err(bad());
    }
    let n = |x: &str| -> Result<u32, AgentError> {
        if x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit()) {
            x.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let y: i64 = dp[0].parse().map_err(|_| bad())?;
    let (mo, d, h, mi, sec) = (n(dp[1])?, n(dp[2])?, n(tp[0])?, n(tp[1])?, n(tp[2])?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 59 {
        return Err(bad());
    }
    let (yy, mm, dd) = civil_from_days(days_from_civil(y, mo, d));
    if (yy, mm, dd) != (y, mo, d) {
        return Err(bad());
    }
    Ok((y, mo, d, h, mi, sec))
}

fn format_tokens(fmt: &str, c: Civil) -> String {
    let (y, mo, d, h, mi, s) = c;
    fmt.replace("yyyy", &format!("{y:04}"))
        .replace("yy", &format!("{:02}", y.rem_euclid(100)))
        .replace("MM", &format!("{mo:02}"))
        .replace("dd", &format!("{d:02}"))
        .replace("HH", &format!("{h:02}"))
        .replace("mm", &format!("{mi:02}"))
        .replace("ss", &format!("{s:02}"))
}

pub fn format_date_from_iso(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FORMAT_DATE_FROM_ISO, input)?;
    let c = parse_iso(a.str("iso_date"))?;
    Ok(json!(format_tokens(a.str("target_format"), c)))
}

pub fn iso_to_unix_timestamp(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&ISO_TO_UNIX_TIMESTAMP, input)?;
    let (y, mo, d, h, mi, s) = parse_iso(a.str("iso_date"))?;
    Ok(json!(
        days_from_civil(y, mo, d) * 86400 + (h * 3600 + mi * 60 + s) as i64
    ))
}

// ------------------------------------------------------------------ countries

/// (normalised name, alpha2, alpha3, normalised alternative names): ISO 3166-1 (all 249).
const COUNTRIES: &[(&str, &str, &str, &[&str])] = &[
    ("aruba", "AW", "ABW", &[]),
    (
        "afghanistan",
        "AF",
        "AFG",
        &["islamic republic of afghanistan"],
    ),
    ("angola", "AO", "AGO", &["republic of angola"]),
    ("anguilla", "AI", "AIA", &[]),
    ("aland islands", "AX", "ALA", &["åland islands"]),
    ("albania", "AL", "ALB", &["republic of albania"]),
    ("andorra", "AD", "AND", &["principality of andorra"]),
    ("united arab emirates", "AE", "ARE", &["uae"]),
    ("argentina", "AR", "ARG", &["argentine republic"]),
    ("armenia", "AM", "ARM", &["republic of armenia"]),
    ("american samoa", "AS", "ASM", &[]),
    ("antarctica", "AQ", "ATA", &[]),
    ("french southern territories", "TF", "ATF", &[]),
    ("antigua and barbuda", "AG", "ATG", &[]),
    ("australia", "AU", "AUS", &[]),
    (
        "austria",
        "AT",
        "AUT",
        &["republic of austria", "osterreich"],
    ),
    ("azerbaijan", "AZ", "AZE", &["republic of azerbaijan"]),
    ("burundi", "BI", "BDI", &["republic of burundi"]),
    ("belgium", "BE", "BEL", &["kingdom of belgium"]),
    ("benin", "BJ", "BEN", &["republic of benin"]),
    ("bonaire sint eustatius and saba", "BQ", "BES", &[]),
    ("burkina faso", "BF", "BFA", &[]),
    (
        "bangladesh",
        "BD",
        "BGD",
        &["people s republic of bangladesh"],
    ),
    ("bulgaria", "BG", "BGR", &["republic of bulgaria"]),
    ("bahrain", "BH", "BHR", &["kingdom of bahrain"]),
    ("bahamas", "BS", "BHS", &["commonwealth of the bahamas"]),
    (
        "bosnia and herzegovina",
        "BA",
        "BIH",
        &["republic of bosnia and herzegovina"],
    ),
    ("saint barthelemy", "BL", "BLM", &["saint barthélemy"]),
    ("belarus", "BY", "BLR", &["republic of belarus"]),
    ("belize", "BZ", "BLZ", &[]),
    ("bermuda", "BM", "BMU", &[]),
    (
        "bolivia",
        "BO",
        "BOL",
        &[
            "bolivia plurinational state of",
            "plurinational state of bolivia",
        ],
    ),
    (
        "brazil",
        "BR",
        "BRA",
        &["federative republic of brazil", "brasil"],
    ),
    ("barbados", "BB", "BRB", &[]),
    ("brunei darussalam", "BN", "BRN", &["brunei"]),
    ("bhutan", "BT", "BTN", &["kingdom of bhutan"]),
    ("bouvet island", "BV", "BVT", &[]),
    ("botswana", "BW", "BWA", &["republic of botswana"]),
    ("central african republic", "CF", "CAF", &[]),
    ("canada", "CA", "CAN", &[]),
    ("cocos keeling islands", "CC", "CCK", &[]),
    (
        "switzerland",
        "CH",
        "CHE",
        &["swiss confederation", "schweiz", "suisse", "svizzera"],
    ),
    ("chile", "CL", "CHL", &["republic of chile"]),
    (
        "china",
        "CN",
        "CHN",
        &[
            "people s republic of china",
            "peoples republic of china",
            "prc",
        ],
    ),
    (
        "cote d ivoire",
        "CI",
        "CIV",
        &[
            "côte d ivoire",
            "republic of côte d ivoire",
            "republic of cote d ivoire",
            "ivory coast",
        ],
    ),
    ("cameroon", "CM", "CMR", &["republic of cameroon"]),
    (
        "congo the democratic republic of the",
        "CD",
        "COD",
        &[
            "dr congo",
            "democratic republic of the congo",
            "congo kinshasa",
        ],
    ),
    (
        "congo",
        "CG",
        "COG",
        &["republic of the congo", "congo brazzaville"],
    ),
    ("cook islands", "CK", "COK", &[]),
    ("colombia", "CO", "COL", &["republic of colombia"]),
    ("comoros", "KM", "COM", &["union of the comoros"]),
    (
        "cabo verde",
        "CV",
        "CPV",
        &["republic of cabo verde", "cape verde"],
    ),
    ("costa rica", "CR", "CRI", &["republic of costa rica"]),
    ("cuba", "CU", "CUB", &["republic of cuba"]),
    ("curacao", "CW", "CUW", &["curaçao"]),
    ("christmas island", "CX", "CXR", &[]),
    ("cayman islands", "KY", "CYM", &[]),
    ("cyprus", "CY", "CYP", &["republic of cyprus"]),
    ("czechia", "CZ", "CZE", &["czech republic"]),
    (
        "germany",
        "DE",
        "DEU",
        &["federal republic of germany", "deutschland"],
    ),
    ("djibouti", "DJ", "DJI", &["republic of djibouti"]),
    ("dominica", "DM", "DMA", &["commonwealth of dominica"]),
    ("denmark", "DK", "DNK", &["kingdom of denmark"]),
    ("dominican republic", "DO", "DOM", &[]),
    (
        "algeria",
        "DZ",
        "DZA",
        &["people s democratic republic of algeria"],
    ),
    ("ecuador", "EC", "ECU", &["republic of ecuador"]),
    ("egypt", "EG", "EGY", &["arab republic of egypt"]),
    ("eritrea", "ER", "ERI", &["the state of eritrea"]),
    ("western sahara", "EH", "ESH", &[]),
    ("spain", "ES", "ESP", &["kingdom of spain", "espana"]),
    ("estonia", "EE", "EST", &["republic of estonia"]),
    (
        "ethiopia",
        "ET",
        "ETH",
        &["federal democratic republic of ethiopia"],
    ),
    ("finland", "FI", "FIN", &["republic of finland"]),
    ("fiji", "FJ", "FJI", &["republic of fiji"]),
    ("falkland islands malvinas", "FK", "FLK", &[]),
    ("france", "FR", "FRA", &["french republic"]),
    ("faroe islands", "FO", "FRO", &[]),
    (
        "micronesia federated states of",
        "FM",
        "FSM",
        &["federated states of micronesia", "micronesia"],
    ),
    ("gabon", "GA", "GAB", &["gabonese republic"]),
    (
        "united kingdom",
        "GB",
        "GBR",
        &[
            "united kingdom of great britain and northern ireland",
            "uk",
            "great britain",
            "britain",
            "england",
            "scotland",
            "wales",
            "northern ireland",
            "u k",
        ],
    ),
    ("georgia", "GE", "GEO", &[]),
    ("guernsey", "GG", "GGY", &[]),
    ("ghana", "GH", "GHA", &["republic of ghana"]),
    ("gibraltar", "GI", "GIB", &[]),
    ("guinea", "GN", "GIN", &["republic of guinea"]),
    ("guadeloupe", "GP", "GLP", &[]),
    ("gambia", "GM", "GMB", &["republic of the gambia"]),
    ("guinea bissau", "GW", "GNB", &["republic of guinea bissau"]),
    (
        "equatorial guinea",
        "GQ",
        "GNQ",
        &["republic of equatorial guinea"],
    ),
    ("greece", "GR", "GRC", &["hellenic republic"]),
    ("grenada", "GD", "GRD", &[]),
    ("greenland", "GL", "GRL", &[]),
    ("guatemala", "GT", "GTM", &["republic of guatemala"]),
    ("french guiana", "GF", "GUF", &[]),
    ("guam", "GU", "GUM", &[]),
    ("guyana", "GY", "GUY", &["republic of guyana"]),
    (
        "hong kong",
        "HK",
        "HKG",
        &["hong kong special administrative region of china"],
    ),
    ("heard island and mcdonald islands", "HM", "HMD", &[]),
    ("honduras", "HN", "HND", &["republic of honduras"]),
    ("croatia", "HR", "HRV", &["republic of croatia"]),
    ("haiti", "HT", "HTI", &["republic of haiti"]),
    ("hungary", "HU", "HUN", &[]),
    ("indonesia", "ID", "IDN", &["republic of indonesia"]),
    ("isle of man", "IM", "IMN", &[]),
    ("india", "IN", "IND", &["republic of india", "bharat"]),
    ("british indian ocean territory", "IO", "IOT", &[]),
    ("ireland", "IE", "IRL", &[]),
    (
        "iran",
        "IR",
        "IRN",
        &["iran islamic republic of", "islamic republic of iran"],
    ),
    ("iraq", "IQ", "IRQ", &["republic of iraq"]),
    ("iceland", "IS", "ISL", &["republic of iceland"]),
    ("israel", "IL", "ISR", &["state of israel"]),
    ("italy", "IT", "ITA", &["italian republic", "italia"]),
    ("jamaica", "JM", "JAM", &[]),
    ("jersey", "JE", "JEY", &[]),
    ("jordan", "JO", "JOR", &["hashemite kingdom of jordan"]),
    ("japan", "JP", "JPN", &["nippon"]),
    ("kazakhstan", "KZ", "KAZ", &["republic of kazakhstan"]),
    ("kenya", "KE", "KEN", &["republic of kenya"]),
    ("kyrgyzstan", "KG", "KGZ", &["kyrgyz republic"]),
    ("cambodia", "KH", "KHM", &["kingdom of cambodia"]),
    ("kiribati", "KI", "KIR", &["republic of kiribati"]),
    ("saint kitts and nevis", "KN", "KNA", &[]),
    (
        "south korea",
        "KR",
        "KOR",
        &["korea republic of", "korea", "republic of korea"],
    ),
    ("kuwait", "KW", "KWT", &["state of kuwait"]),
    ("laos", "LA", "LAO", &["lao people s democratic republic"]),
    ("lebanon", "LB", "LBN", &["lebanese republic"]),
    ("liberia", "LR", "LBR", &["republic of liberia"]),
    ("libya", "LY", "LBY", &[]),
    ("saint lucia", "LC", "LCA", &[]),
    (
        "liechtenstein",
        "LI",
        "LIE",
        &["principality of liechtenstein"],
    ),
    (
        "sri lanka",
        "LK",
        "LKA",
        &["democratic socialist republic of sri lanka"],
    ),
    ("lesotho", "LS", "LSO", &["kingdom of lesotho"]),
    ("lithuania", "LT", "LTU", &["republic of lithuania"]),
    ("luxembourg", "LU", "LUX", &["grand duchy of luxembourg"]),
    ("latvia", "LV", "LVA", &["republic of latvia"]),
    (
        "macao",
        "MO",
        "MAC",
        &["macao special administrative region of china"],
    ),
    ("saint martin french part", "MF", "MAF", &[]),
    ("morocco", "MA", "MAR", &["kingdom of morocco"]),
    ("monaco", "MC", "MCO", &["principality of monaco"]),
    (
        "moldova",
        "MD",
        "MDA",
        &["moldova republic of", "republic of moldova"],
    ),
    ("madagascar", "MG", "MDG", &["republic of madagascar"]),
    ("maldives", "MV", "MDV", &["republic of maldives"]),
    ("mexico", "MX", "MEX", &["united mexican states"]),
    (
        "marshall islands",
        "MH",
        "MHL",
        &["republic of the marshall islands"],
    ),
    (
        "north macedonia",
        "MK",
        "MKD",
        &["republic of north macedonia", "macedonia"],
    ),
    ("mali", "ML", "MLI", &["republic of mali"]),
    ("malta", "MT", "MLT", &["republic of malta"]),
    ("myanmar", "MM", "MMR", &["republic of myanmar", "burma"]),
    ("montenegro", "ME", "MNE", &[]),
    ("mongolia", "MN", "MNG", &[]),
    (
        "northern mariana islands",
        "MP",
        "MNP",
        &["commonwealth of the northern mariana islands"],
    ),
    ("mozambique", "MZ", "MOZ", &["republic of mozambique"]),
    (
        "mauritania",
        "MR",
        "MRT",
        &["islamic republic of mauritania"],
    ),
    ("montserrat", "MS", "MSR", &[]),
    ("martinique", "MQ", "MTQ", &[]),
    ("mauritius", "MU", "MUS", &["republic of mauritius"]),
    ("malawi", "MW", "MWI", &["republic of malawi"]),
    ("malaysia", "MY", "MYS", &[]),
    ("mayotte", "YT", "MYT", &[]),
    ("namibia", "NA", "NAM", &["republic of namibia"]),
    ("new caledonia", "NC", "NCL", &[]),
    ("niger", "NE", "NER", &["republic of the niger"]),
    ("norfolk island", "NF", "NFK", &[]),
    ("nigeria", "NG", "NGA", &["federal republic of nigeria"]),
    ("nicaragua", "NI", "NIC", &["republic of nicaragua"]),
    ("niue", "NU", "NIU", &[]),
    (
        "netherlands",
        "NL",
        "NLD",
        &["kingdom of the netherlands", "holland", "the netherlands"],
    ),
    ("norway", "NO", "NOR", &["kingdom of norway"]),
    (
        "nepal",
        "NP",
        "NPL",
        &["federal democratic republic of nepal"],
    ),
    ("nauru", "NR", "NRU", &["republic of nauru"]),
    ("new zealand", "NZ", "NZL", &[]),
    ("oman", "OM", "OMN", &["sultanate of oman"]),
    ("pakistan", "PK", "PAK", &["islamic republic of pakistan"]),
    ("panama", "PA", "PAN", &["republic of panama"]),
    ("pitcairn", "PN", "PCN", &[]),
    ("peru", "PE", "PER", &["republic of peru"]),
    ("philippines", "PH", "PHL", &["republic of the philippines"]),
    ("palau", "PW", "PLW", &["republic of palau"]),
    (
        "papua new guinea",
        "PG",
        "PNG",
        &["independent state of papua new guinea"],
    ),
    ("poland", "PL", "POL", &["republic of poland"]),
    ("puerto rico", "PR", "PRI", &[]),
    (
        "north korea",
        "KP",
        "PRK",
        &[
            "korea democratic people s republic of",
            "democratic people s republic of korea",
        ],
    ),
    ("portugal", "PT", "PRT", &["portuguese republic"]),
    ("paraguay", "PY", "PRY", &["republic of paraguay"]),
    (
        "palestine state of",
        "PS",
        "PSE",
        &["the state of palestine", "palestine"],
    ),
    ("french polynesia", "PF", "PYF", &[]),
    ("qatar", "QA", "QAT", &["state of qatar"]),
    ("reunion", "RE", "REU", &["réunion"]),
    ("romania", "RO", "ROU", &[]),
    ("russian federation", "RU", "RUS", &["russia"]),
    ("rwanda", "RW", "RWA", &["rwandese republic"]),
    ("saudi arabia", "SA", "SAU", &["kingdom of saudi arabia"]),
    ("sudan", "SD", "SDN", &["republic of the sudan"]),
    ("senegal", "SN", "SEN", &["republic of senegal"]),
    ("singapore", "SG", "SGP", &["republic of singapore"]),
    (
        "south georgia and the south sandwich islands",
        "GS",
        "SGS",
        &[],
    ),
    (
        "saint helena ascension and tristan da cunha",
        "SH",
        "SHN",
        &[],
    ),
    ("svalbard and jan mayen", "SJ", "SJM", &[]),
    ("solomon islands", "SB", "SLB", &[]),
    ("sierra leone", "SL", "SLE", &["republic of sierra leone"]),
    ("el salvador", "SV", "SLV", &["republic of el salvador"]),
    ("san marino", "SM", "SMR", &["republic of san marino"]),
    ("somalia", "SO", "SOM", &["federal republic of somalia"]),
    ("saint pierre and miquelon", "PM", "SPM", &[]),
    ("serbia", "RS", "SRB", &["republic of serbia"]),
    ("south sudan", "SS", "SSD", &["republic of south sudan"]),
    (
        "sao tome and principe",
        "ST",
        "STP",
        &["democratic republic of sao tome and principe"],
    ),
    ("suriname", "SR", "SUR", &["republic of suriname"]),
    ("slovakia", "SK", "SVK", &["slovak republic"]),
    ("slovenia", "SI", "SVN", &["republic of slovenia"]),
    ("sweden", "SE", "SWE", &["kingdom of sweden"]),
    (
        "eswatini",
        "SZ",
        "SWZ",
        &["kingdom of eswatini", "swaziland"],
    ),
    ("sint maarten dutch part", "SX", "SXM", &[]),
    ("seychelles", "SC", "SYC", &["republic of seychelles"]),
    ("syria", "SY", "SYR", &["syrian arab republic"]),
    ("turks and caicos islands", "TC", "TCA", &[]),
    ("chad", "TD", "TCD", &["republic of chad"]),
    ("togo", "TG", "TGO", &["togolese republic"]),
    ("thailand", "TH", "THA", &["kingdom of thailand"]),
    ("tajikistan", "TJ", "TJK", &["republic of tajikistan"]),
    ("tokelau", "TK", "TKL", &[]),
    ("turkmenistan", "TM", "TKM", &[]),
    (
        "timor leste",
        "TL",
        "TLS",
        &["democratic republic of timor leste", "east timor"],
    ),
    ("tonga", "TO", "TON", &["kingdom of tonga"]),
    (
        "trinidad and tobago",
        "TT",
        "TTO",
        &["republic of trinidad and tobago"],
    ),
    ("tunisia", "TN", "TUN", &["republic of tunisia"]),
    (
        "turkiye",
        "TR",
        "TUR",
        &[
            "türkiye",
            "republic of türkiye",
            "republic of turkiye",
            "turkey",
        ],
    ),
    ("tuvalu", "TV", "TUV", &[]),
    ("taiwan", "TW", "TWN", &["taiwan province of china"]),
    (
        "tanzania",
        "TZ",
        "TZA",
        &["tanzania united republic of", "united republic of tanzania"],
    ),
    ("uganda", "UG", "UGA", &["republic of uganda"]),
    ("ukraine", "UA", "UKR", &[]),
    ("united states minor outlying islands", "UM", "UMI", &[]),
    ("uruguay", "UY", "URY", &["eastern republic of uruguay"]),
    (
        "united states",
        "US",
        "USA",
        &[
            "united states of america",
            "usa",
            "america",
            "us",
            "u s a",
            "u s",
        ],
    ),
    ("uzbekistan", "UZ", "UZB", &["republic of uzbekistan"]),
    (
        "holy see vatican city state",
        "VA",
        "VAT",
        &["vatican", "vatican city", "holy see"],
    ),
    ("saint vincent and the grenadines", "VC", "VCT", &[]),
    (
        "venezuela",
        "VE",
        "VEN",
        &[
            "venezuela bolivarian republic of",
            "bolivarian republic of venezuela",
        ],
    ),
    (
        "virgin islands british",
        "VG",
        "VGB",
        &["british virgin islands"],
    ),
    (
        "virgin islands u s",
        "VI",
        "VIR",
        &["virgin islands of the united states"],
    ),
    (
        "vietnam",
        "VN",
        "VNM",
        &["viet nam", "socialist republic of viet nam"],
    ),
    ("vanuatu", "VU", "VUT", &["republic of vanuatu"]),
    ("wallis and futuna", "WF", "WLF", &[]),
    ("samoa", "WS", "WSM", &["independent state of samoa"]),
    ("yemen", "YE", "YEM", &["republic of yemen"]),
    ("south africa", "ZA", "ZAF", &["republic of south africa"]),
    ("zambia", "ZM", "ZMB", &["republic of zambia"]),
    ("zimbabwe", "ZW", "ZWE", &["republic of zimbabwe"]),
];

fn normalise(s: &str) -> String {
    let mut out = String::new();
    for w in s
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + (ca != cb) as usize)
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

pub fn country_name_to_iso_code(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&COUNTRY_NAME_TO_ISO_CODE, input)?;
    let name = a.str("country_name");
    let n = normalise(name);
    let alpha3 = a.str("code_type") == "alpha3";
    let pick = |c: &(&str, &str, &str, &[&str])| json!(if alpha3 { c.2 } else { c.1 });
    if let Some(c) = COUNTRIES.iter().find(|c| c.0 == n) {
        return Ok(pick(c));
    }
    if let Some(c) = COUNTRIES.iter().find(|c| c.3.contains(&n.as_str())) {
        return Ok(pick(c));
    }
    let limit = 3.max(n.chars().count() / 4);
    COUNTRIES
        .iter()
        .map(|c| (levenshtein(&n, c.0), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| pick(c))
        .ok_or_else(|| AgentError::plain(format!("Country not found: {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::call;

    fn calc(e: &str, v: Value) -> Result<Value, AgentError> {
        call(
            "utils",
            "calculate",
            json!({"expression": e, "variables": v}),
        )
    }

    #[test]
    fn calculate_grammar() {
        assert_eq!(calc("1 + 2 * 3", json!({})).unwrap(), json!(7.0));
        assert_eq!(calc("(1 + 2) * 3", json!({})).unwrap(), json!(9.0));
        assert_eq!(calc("-7 % 3", json!({})).unwrap(), json!(-1.0));
        assert_eq!(calc("7 % -3", json!({})).unwrap(), json!(1.0));
        assert_eq!(
            calc("a / b", json!({"a": 10, "b": "4"})).unwrap(),
            json!(2.5)
        );
        assert_eq!(calc("10 - 2 - 3", json!({})).unwrap(), json!(5.0));
        assert_eq!(
            calc("1 / 0", json!({})).unwrap_err().message,
            "Division by zero"
        );
        assert_eq!(
            calc("1 % 0", json!({})).unwrap_err().message,
            "Division by zero"
        );
        assert!(calc("", json!({})).is_err());
        assert!(calc("1 + $", json!({})).is_err());
        assert!(calc("x + 1", json!({})).is_err());
        assert!(calc("x + 1", json!({"x": null})).is_err());
        assert!(calc("true + 1", json!({"true": 1})).is_err());
        assert!(calc("(1 + 2", json!({})).is_err());
        let r = call(
            "utils",
            "calculate",
            json!({"expression": "10 / 3", "variables": {}, "enable_rounding": true, "decimal_places": 2}),
        );
        assert_eq!(r.unwrap(), json!(3.33));
    }

    #[test]
    fn dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(19723), (2024, 1, 1));
        let r = call(
            "utils",
            "iso-to-unix-timestamp",
            json!({"iso_date": "2024-01-01T00:00:00Z"}),
        );
        assert_eq!(r.unwrap(), json!(1704067200));
        let r = call(
            "utils",
            "format-date-from-iso",
            json!({"iso_date": "2024-03-05T07:08:09", "target_format": "dd/MM/yyyy HH:mm:ss yy"}),
        );
        assert_eq!(r.unwrap(), json!("05/03/2024 07:08:09 24"));
        assert!(call(
            "utils",
            "iso-to-unix-timestamp",
            json!({"iso_date": "2024-02-30T00:00:00Z"})
        )
        .is_err());
    }

    #[test]
    fn countries() {
        let c = |n: &str, t: &str| {
            call(
                "utils",
                "country-name-to-iso-code",
                json!({"country_name": n, "code_type": t}),
            )
        };
        assert_eq!(c("Germany", "alpha2").unwrap(), json!("DE"));
        assert_eq!(c("  united   STATES ", "alpha3").unwrap(), json!("USA"));
        assert_eq!(c("Germny", "alpha2").unwrap(), json!("DE"));
        assert_eq!(c("UK", "alpha2").unwrap(), json!("GB"));
        assert!(c("Atlantis", "alpha2").is_err());
    }
}
