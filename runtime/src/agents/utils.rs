//! `utils` module (RUNTIME §9.3).

use std::io::Read;

use serde_json::{json, Map, Value};

use super::{arg, dflt, opt, req, AgentError, Capability, Input, Ty};

const CODE_TYPE: Input = Input {
    name: "code_type",
    aliases: &[],
    ty: Ty::Str,
    required: false,
    default: Some("\"alpha2\""),
    allowed: &["alpha2", "alpha3"],
};

pub static CAPS: &[Capability] = &[
    Capability {
        id: "random-double",
        inputs: &[],
        run: random_double,
    },
    Capability {
        id: "random-array",
        inputs: &[req("size", Ty::Int)],
        run: random_array,
    },
    Capability {
        id: "return-input-string",
        inputs: &[req("value", Ty::Str)],
        run: return_value,
    },
    Capability {
        id: "return-input",
        inputs: &[req("value", Ty::Any)],
        run: return_value,
    },
    Capability {
        id: "do-nothing",
        inputs: &[],
        run: |_| Ok(Value::Null),
    },
    Capability {
        id: "delay-in-ms",
        inputs: &[req("delay_value", Ty::UInt)],
        run: delay_in_ms,
    },
    Capability {
        id: "calculate",
        inputs: &[
            req("expression", Ty::Str),
            req("variables", Ty::Object),
            dflt("enable_rounding", Ty::Bool, "false"),
            opt("decimal_places", Ty::UInt),
        ],
        run: calculate,
    },
    Capability {
        id: "format-date-from-iso",
        inputs: &[req("iso_date", Ty::Str), req("target_format", Ty::Str)],
        run: format_date_from_iso,
    },
    Capability {
        id: "iso-to-unix-timestamp",
        inputs: &[req("iso_date", Ty::Str)],
        run: iso_to_unix,
    },
    Capability {
        id: "get-current-unix-timestamp",
        inputs: &[],
        run: |_| Ok(json!(now_secs())),
    },
    Capability {
        id: "get-current-iso-datetime",
        inputs: &[],
        run: |_| {
            let (y, mo, d, h, mi, s) = civil_from_unix(now_secs());
            Ok(json!(format!(
                "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"
            )))
        },
    },
    Capability {
        id: "get-current-formatted-datetime",
        inputs: &[req("format", Ty::Str)],
        run: |a| {
            Ok(json!(format_tokens(
                arg::str(a, "format"),
                civil_from_unix(now_secs())
            )))
        },
    },
    Capability {
        id: "country-name-to-iso-code",
        inputs: &[req("country_name", Ty::Str), CODE_TYPE],
        run: country,
    },
];

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

fn random_double(_: &Map<String, Value>) -> Result<Value, AgentError> {
    Ok(json!((random_u64() >> 11) as f64 / (1u64 << 53) as f64))
}

fn random_array(a: &Map<String, Value>) -> Result<Value, AgentError> {
    let size = arg::i64(a, "size");
    if size < 0 {
        return arg::fail(format!("size must not be negative, got {size}"));
    }
    let n = size as u64;
    Ok(Value::Array(
        (0..n).map(|_| json!(random_u64() % (n + 1))).collect(),
    ))
}

fn return_value(a: &Map<String, Value>) -> Result<Value, AgentError> {
    Ok(arg::value(a, "value").clone())
}

fn delay_in_ms(a: &Map<String, Value>) -> Result<Value, AgentError> {
    let ms = a.get("delay_value").and_then(Value::as_u64).unwrap_or(0);
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

fn calculate(a: &Map<String, Value>) -> Result<Value, AgentError> {
    let empty = Map::new();
    let vars = a
        .get("variables")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut v = eval_expression(arg::str(a, "expression"), vars).map_err(AgentError::plain)?;
    if arg::bool(a, "enable_rounding") {
        if let Some(dp) = a.get("decimal_places").and_then(Value::as_u64) {
            let p = 10f64.powi(dp.min(15) as i32);
            v = (v * p).round() / p;
        }
    }
    if !v.is_finite() {
        return arg::fail("Result is not a finite number");
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

fn format_date_from_iso(a: &Map<String, Value>) -> Result<Value, AgentError> {
    let c = parse_iso(arg::str(a, "iso_date"))?;
    Ok(json!(format_tokens(arg::str(a, "target_format"), c)))
}

fn iso_to_unix(a: &Map<String, Value>) -> Result<Value, AgentError> {
    let (y, mo, d, h, mi, s) = parse_iso(arg::str(a, "iso_date"))?;
    Ok(json!(
        days_from_civil(y, mo, d) * 86400 + (h * 3600 + mi * 60 + s) as i64
    ))
}

// ------------------------------------------------------------------ countries

/// (name, alpha2, alpha3, alternative names). Partial table; the full ISO 3166 list is
/// a later issue.
const COUNTRIES: &[(&str, &str, &str, &[&str])] = &[
    (
        "united states",
        "US",
        "USA",
        &["usa", "united states of america", "america", "us"],
    ),
    (
        "united kingdom",
        "GB",
        "GBR",
        &["uk", "great britain", "britain", "england"],
    ),
    ("germany", "DE", "DEU", &["deutschland"]),
    ("france", "FR", "FRA", &[]),
    ("spain", "ES", "ESP", &["espana"]),
    ("italy", "IT", "ITA", &["italia"]),
    ("netherlands", "NL", "NLD", &["holland", "the netherlands"]),
    ("belgium", "BE", "BEL", &[]),
    ("switzerland", "CH", "CHE", &[]),
    ("austria", "AT", "AUT", &[]),
    ("poland", "PL", "POL", &[]),
    ("portugal", "PT", "PRT", &[]),
    ("sweden", "SE", "SWE", &[]),
    ("norway", "NO", "NOR", &[]),
    ("denmark", "DK", "DNK", &[]),
    ("finland", "FI", "FIN", &[]),
    ("ireland", "IE", "IRL", &[]),
    ("canada", "CA", "CAN", &[]),
    ("mexico", "MX", "MEX", &[]),
    ("brazil", "BR", "BRA", &["brasil"]),
    ("argentina", "AR", "ARG", &[]),
    ("japan", "JP", "JPN", &[]),
    ("china", "CN", "CHN", &["peoples republic of china", "prc"]),
    ("india", "IN", "IND", &[]),
    ("australia", "AU", "AUS", &[]),
    ("new zealand", "NZ", "NZL", &[]),
    ("south korea", "KR", "KOR", &["korea", "republic of korea"]),
    ("russia", "RU", "RUS", &["russian federation"]),
    ("ukraine", "UA", "UKR", &[]),
    ("czech republic", "CZ", "CZE", &["czechia"]),
    ("greece", "GR", "GRC", &[]),
    ("turkey", "TR", "TUR", &["turkiye"]),
    ("south africa", "ZA", "ZAF", &[]),
    ("egypt", "EG", "EGY", &[]),
    ("israel", "IL", "ISR", &[]),
    ("singapore", "SG", "SGP", &[]),
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

fn country(a: &Map<String, Value>) -> Result<Value, AgentError> {
    let name = arg::str(a, "country_name");
    let n = normalise(name);
    let alpha3 = arg::str(a, "code_type") == "alpha3";
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
