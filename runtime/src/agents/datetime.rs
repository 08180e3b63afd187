//! `datetime` module (RUNTIME §9.6).

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc,
};
use serde_json::{json, Value};

use super::{dflt, fail, opt, prepare, AgentError, Cap, Module, Ty};

pub static GET_CURRENT_DATE: Cap = Cap {
    id: "get-current-date",
    section: "9.6",
    available: true,
    side_effects: false,
    inputs: &[
        dflt("includeTime", Ty::Bool, "true").alias(&["include_time"]),
        opt("timezone", Ty::Str),
    ],
    output: "ISO string, or `YYYY-MM-DD` without time",
};

pub static FORMAT_DATE: Cap = Cap {
    id: "format-date",
    section: "9.6",
    available: true,
    side_effects: false,
    inputs: &[
        opt("date", Ty::Str).rt(),
        dflt("format", Ty::Str, "\"iso8601\"").one_of(&["iso8601", "rfc2822", "date-only", "time-only", "us-short-date", "eu-short-date", "long-date", "date-time", "unix", "unix-ms", "custom"]),
        opt("customFormat", Ty::Str).alias(&["custom_format"]),
        opt("timezone", Ty::Str),
    ],
    output: "string. Patterns: rfc2822 `%a, %d %b %Y %H:%M:%S %z`, date-only `%Y-%m-%d`, time-only `%H:%M:%S`, us-short `%m/%d/%Y`, eu-short `%d/%m/%Y`, long-date `%B %d, %Y`, date-time `%Y-%m-%d %H:%M:%S`; unix and unix-ms as decimal strings. Custom tokens, matched longest first, print (chrono equivalents in brackets): `yyyy` the year [`%Y`], `yy` [`%y`], `MMMM` `January` [`%B`], `MMM` `Jan` [`%b`], `MM` 01–12, `dd` 01–31, `EEEE` `Monday` [`%A`], `EEE` and `E` `Mon` [`%a`], `HH` 00–23, `hh` 01–12 [`%I`], `a` `AM` or `PM` [`%p`], `mm` minutes, `ss` seconds, `SSS` milliseconds 000–999 [`%3f`], `ZZZ` and `Z` the offset as `+05:30`, `+00:00` in UTC [`%:z`], `ZZ` the offset as `+0530` [`%z`], `W` the week of the year 00–53, weeks starting on Monday and days before the first Monday in week 00 [`%W`], `o` the day of the year 001–366 [`%j`]. Every other character, `%` included, is literal.",
};

pub static ADD_TO_DATE: Cap = Cap {
    id: "add-to-date",
    section: "9.6",
    available: true,
    side_effects: false,
    inputs: &[
        opt("date", Ty::Str).rt(),
        dflt("amount", Ty::Int, "0"),
        dflt("unit", Ty::Str, "\"days\"").one_of(&["years", "months", "weeks", "days", "hours", "minutes", "seconds"]),
        opt("timezone", Ty::Str),
    ],
    output: "ISO string, in the `timezone` offset. Months and years move the local date, keeping the day clamped to the month's length (2024-01-31 + 1 month = 2024-02-29) and the local time; the other units add exact durations.",
};

pub static SUBTRACT_FROM_DATE: Cap = Cap {
    id: "subtract-from-date",
    section: "9.6",
    available: true,
    side_effects: false,
    inputs: &[
        opt("date", Ty::Str).rt(),
        dflt("amount", Ty::Int, "0"),
        dflt("unit", Ty::Str, "\"days\"").one_of(&[
            "years", "months", "weeks", "days", "hours", "minutes", "seconds",
        ]),
        opt("timezone", Ty::Str),
    ],
    output: "ISO string",
};

pub static GET_TIME_BETWEEN: Cap = Cap {
    id: "get-time-between",
    section: "9.6",
    available: true,
    side_effects: false,
    inputs: &[
        opt("startDate", Ty::Str).rt().alias(&["start_date"]),
        opt("endDate", Ty::Str).rt().alias(&["end_date"]),
        dflt("unit", Ty::Str, "\"days\"").one_of(&["years", "months", "weeks", "days", "hours", "minutes", "seconds"]),
    ],
    output: "`{\"difference\": <whole units, truncated; years = days/365, months = days/30>, \"unit\": s, \"exactMs\": n}`",
};

pub static EXTRACT_DATE_PART: Cap = Cap {
    id: "extract-date-part",
    section: "9.6",
    available: true,
    side_effects: false,
    inputs: &[
        opt("date", Ty::Str).rt(),
        dflt("part", Ty::Str, "\"day\"").one_of(&[
            "year",
            "month",
            "week",
            "day",
            "day-of-week",
            "day-of-year",
            "hour",
            "minute",
            "second",
            "millisecond",
            "quarter",
        ]),
        opt("timezone", Ty::Str),
    ],
    output: "integer",
};

pub static ROUND_DATE: Cap = Cap {
    id: "round-date",
    section: "9.6",
    available: true,
    side_effects: false,
    inputs: &[
        opt("date", Ty::Str).rt(),
        dflt("unit", Ty::Str, "\"days\"").one_of(&["years", "months", "weeks", "days", "hours", "minutes", "seconds"]),
        dflt("mode", Ty::Str, "\"round\"").one_of(&["floor", "ceil", "round"]),
        opt("timezone", Ty::Str),
    ],
    output: "ISO string, in the `timezone` offset, computed on the local time with fractions of a second ignored. `floor`: the start of the unit. `ceil`: the start of the next unit, unless the value is already at a start (then unchanged). `round`: up when the value is at or after the half point (exactly on it rounds up), else down; half points: year at July 1, month at the 16th, week at Friday (weeks start Monday), day at 12:00, hour at :30, minute at :30 s. Unit `seconds` returns the value unchanged.",
};

pub static DATE_TO_UNIX: Cap = Cap {
    id: "date-to-unix",
    section: "9.6",
    available: true,
    side_effects: false,
    inputs: &[
        opt("date", Ty::Str).rt(),
        dflt("milliseconds", Ty::Bool, "false"),
    ],
    output: "`{\"timestamp\": n, \"isMilliseconds\": bool}`",
};

pub static UNIX_TO_DATE: Cap = Cap {
    id: "unix-to-date",
    section: "9.6",
    available: true,
    side_effects: false,
    inputs: &[
        opt("timestamp", Ty::Int).rt(),
        opt("isMilliseconds", Ty::Bool).alias(&["is_milliseconds"]),
        opt("timezone", Ty::Str),
    ],
    output: "ISO string",
};

pub static MODULE: Module = Module {
    id: "datetime",
    secure: false,
    caps: &[
        (&GET_CURRENT_DATE, Some(get_current_date)),
        (&FORMAT_DATE, Some(format_date)),
        (&ADD_TO_DATE, Some(add_to_date)),
        (&SUBTRACT_FROM_DATE, Some(subtract_from_date)),
        (&GET_TIME_BETWEEN, Some(get_time_between)),
        (&EXTRACT_DATE_PART, Some(extract_date_part)),
        (&ROUND_DATE, Some(round_date)),
        (&DATE_TO_UNIX, Some(date_to_unix)),
        (&UNIX_TO_DATE, Some(unix_to_date)),
    ],
};

type Dt = DateTime<FixedOffset>;

fn utc() -> FixedOffset {
    FixedOffset::east_opt(0).expect("zero offset")
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = match rest.len() {
        5 if rest.as_bytes()[2] == b':' => (&rest[..2], &rest[3..]),
        4 => (&rest[..2], &rest[2..]),
        _ => return None,
    };
    if !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 23 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// A `timezone` input: `UTC`/`Z`, `±HH:MM`, `±HHMM` or an IANA name (its current offset).
pub fn parse_timezone(tz: Option<&str>) -> Result<FixedOffset, AgentError> {
    let Some(name) = tz.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(utc());
    };
    if name.eq_ignore_ascii_case("utc") || name.eq_ignore_ascii_case("z") {
        return Ok(utc());
    }
    if let Some(o) = parse_offset(name) {
        return Ok(o);
    }
    let zone: chrono_tz::Tz = name
        .parse()
        .map_err(|_| AgentError::plain(format!("Invalid timezone: {name}")))?;
    Ok(zone.offset_from_utc_datetime(&Utc::now().naive_utc()).fix())
}

/// Parse a date (RUNTIME §9.6 order); values without a zone are UTC.
pub fn parse_date(s: &str) -> Result<Dt, AgentError> {
    let s = s.trim();
    let bad = || AgentError::plain(format!("Unable to parse date: {s}"));
    if let Ok(n) = s.parse::<i64>() {
        let dt = if n > 1_000_000_000_000 {
            Utc.timestamp_millis_opt(n).single()
        } else {
            Utc.timestamp_opt(n, 0).single()
        };
        return dt.map(|d| d.with_timezone(&utc())).ok_or_else(bad);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Ok(d);
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Ok(d);
    }
    let naive = |n: NaiveDateTime| Ok(utc().from_utc_datetime(&n));
    if let Ok(n) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.fZ") {
        return naive(n);
    }
    if let Ok(d) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%:z") {
        return Ok(d);
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return naive(n);
        }
    }
    for f in [
        "%m/%d/%y", "%m/%d/%Y", "%d/%m/%y", "%d/%m/%Y", "%d.%m.%y", "%d.%m.%Y",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, &format!("{f} %H:%M:%S")) {
            return naive(n);
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return naive(d.and_time(NaiveTime::MIN));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return naive(d.and_time(NaiveTime::MIN));
    }
    Err(bad())
}

/// ISO output: `Z` for a zero offset, else `±HH:MM`; fractions dropped.
pub fn iso(d: &Dt) -> String {
    if d.offset().local_minus_utc() == 0 {
        d.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        d.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }
}

fn in_zone(a: &super::Args, key: &str) -> Result<Dt, AgentError> {
    let tz = parse_timezone(a.opt_str("timezone"))?;
    Ok(parse_date(a.rt_str(key)?)?.with_timezone(&tz))
}

fn local(off: FixedOffset, n: NaiveDateTime) -> Result<Dt, AgentError> {
    off.from_local_datetime(&n)
        .single()
        .ok_or_else(|| AgentError::plain("Date out of range"))
}

fn custom_format(d: &Dt, pattern: &str) -> String {
    const TOKENS: &[(&str, &str)] = &[
        ("yyyy", "%Y"),
        ("MMMM", "%B"),
        ("EEEE", "%A"),
        ("MMM", "%b"),
        ("EEE", "%a"),
        ("SSS", "%3f"),
        ("ZZZ", "%:z"),
        ("yy", "%y"),
        ("MM", "%m"),
        ("dd", "%d"),
        ("HH", "%H"),
        ("hh", "%I"),
        ("mm", "%M"),
        ("ss", "%S"),
        ("ZZ", "%z"),
        ("E", "%a"),
        ("a", "%p"),
        ("Z", "%:z"),
        ("W", "%W"),
        ("o", "%j"),
    ];
    let mut out = String::new();
    let mut rest = pattern;
    'outer: while !rest.is_empty() {
        for (tok, f) in TOKENS {
            if let Some(r) = rest.strip_prefix(tok) {
                out.push_str(&d.format(f).to_string());
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn add_units(d: Dt, amount: i64, unit: &str) -> Result<Dt, AgentError> {
    let overflow = || AgentError::plain("Date arithmetic overflow");
    match unit {
        "years" | "months" => {
            let months = if unit == "years" {
                amount.checked_mul(12).ok_or_else(overflow)?
            } else {
                amount
            };
            let m = Months::new(u32::try_from(months.unsigned_abs()).map_err(|_| overflow())?);
            let n = d.naive_local();
            let moved = if months >= 0 {
                n.checked_add_months(m)
            } else {
                n.checked_sub_months(m)
            }
            .ok_or_else(overflow)?;
            local(*d.offset(), moved)
        }
        _ => {
            let secs = match unit {
                "weeks" => 604_800,
                "hours" => 3_600,
                "minutes" => 60,
                "seconds" => 1,
                _ => 86_400,
            };
            let dur = amount
                .checked_mul(secs)
                .and_then(Duration::try_seconds)
                .ok_or_else(overflow)?;
            d.checked_add_signed(dur).ok_or_else(overflow)
        }
    }
}

// ------------------------------------------------------------------ capabilities

pub fn get_current_date(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&GET_CURRENT_DATE, input)?;
    let tz = parse_timezone(a.opt_str("timezone"))?;
    let now = Utc::now().with_timezone(&tz);
    Ok(json!(if a.opt_bool("includeTime").unwrap_or(true) {
        iso(&now)
    } else {
        now.format("%Y-%m-%d").to_string()
    }))
}

pub fn format_date(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FORMAT_DATE, input)?;
    let d = in_zone(&a, "date")?;
    let f = |p: &str| d.format(p).to_string();
    Ok(json!(match a.str("format") {
        "rfc2822" => f("%a, %d %b %Y %H:%M:%S %z"),
        "date-only" => f("%Y-%m-%d"),
        "time-only" => f("%H:%M:%S"),
        "us-short-date" => f("%m/%d/%Y"),
        "eu-short-date" => f("%d/%m/%Y"),
        "long-date" => f("%B %d, %Y"),
        "date-time" => f("%Y-%m-%d %H:%M:%S"),
        "unix" => d.timestamp().to_string(),
        "unix-ms" => d.timestamp_millis().to_string(),
        "custom" => match a.opt_str("customFormat") {
            Some(p) => custom_format(&d, p),
            None => return fail("customFormat is required when format is 'custom'"),
        },
        _ => iso(&d),
    }))
}

pub fn add_to_date(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&ADD_TO_DATE, input)?;
    let d = in_zone(&a, "date")?;
    Ok(json!(iso(&add_units(d, a.i64("amount"), a.str("unit"))?)))
}

pub fn subtract_from_date(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&SUBTRACT_FROM_DATE, input)?;
    let d = in_zone(&a, "date")?;
    let n = a
        .i64("amount")
        .checked_neg()
        .ok_or_else(|| AgentError::plain("Date arithmetic overflow"))?;
    Ok(json!(iso(&add_units(d, n, a.str("unit"))?)))
}

pub fn get_time_between(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&GET_TIME_BETWEEN, input)?;
    let s = parse_date(a.rt_str("startDate")?)?;
    let e = parse_date(a.rt_str("endDate")?)?;
    let ms = e.timestamp_millis() - s.timestamp_millis();
    let days = ms / 86_400_000;
    let unit = a.str("unit");
    let diff = match unit {
        "years" => days / 365,
        "months" => days / 30,
        "weeks" => ms / 604_800_000,
        "hours" => ms / 3_600_000,
        "minutes" => ms / 60_000,
        "seconds" => ms / 1_000,
        _ => days,
    };
    Ok(json!({"difference": diff, "unit": unit, "exactMs": ms}))
}

pub fn extract_date_part(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&EXTRACT_DATE_PART, input)?;
    let d = in_zone(&a, "date")?;
    let v: i64 = match a.str("part") {
        "year" => d.year().into(),
        "month" => d.month().into(),
        "week" => d.iso_week().week().into(),
        "day-of-week" => d.weekday().number_from_monday().into(),
        "day-of-year" => d.ordinal().into(),
        "hour" => d.hour().into(),
        "minute" => d.minute().into(),
        "second" => d.second().into(),
        "millisecond" => (d.timestamp_subsec_millis() % 1000).into(),
        "quarter" => ((d.month() - 1) / 3 + 1).into(),
        _ => d.day().into(),
    };
    Ok(json!(v))
}

fn floor_unit(n: NaiveDateTime, unit: &str) -> NaiveDateTime {
    let date = n.date();
    let mid = |d: NaiveDate| d.and_time(NaiveTime::MIN);
    match unit {
        "years" => mid(date.with_ordinal(1).unwrap_or(date)),
        "months" => mid(date.with_day(1).unwrap_or(date)),
        "weeks" => mid(date - Duration::days(date.weekday().num_days_from_monday().into())),
        "days" => mid(date),
        "hours" => date.and_time(NaiveTime::from_hms_opt(n.hour(), 0, 0).unwrap_or(NaiveTime::MIN)),
        "minutes" => date
            .and_time(NaiveTime::from_hms_opt(n.hour(), n.minute(), 0).unwrap_or(NaiveTime::MIN)),
        _ => n,
    }
}

fn next_unit(f: NaiveDateTime, unit: &str) -> Option<NaiveDateTime> {
    match unit {
        "years" => f.checked_add_months(Months::new(12)),
        "months" => f.checked_add_months(Months::new(1)),
        "weeks" => f.checked_add_signed(Duration::days(7)),
        "days" => f.checked_add_signed(Duration::days(1)),
        "hours" => f.checked_add_signed(Duration::hours(1)),
        "minutes" => f.checked_add_signed(Duration::minutes(1)),
        _ => Some(f),
    }
}

fn half_point(f: NaiveDateTime, unit: &str) -> Option<NaiveDateTime> {
    match unit {
        "years" => f.with_month(7),
        "months" => f.with_day(16),
        "weeks" => f.checked_add_signed(Duration::days(4)),
        "days" => f.checked_add_signed(Duration::hours(12)),
        "hours" => f.checked_add_signed(Duration::minutes(30)),
        "minutes" => f.checked_add_signed(Duration::seconds(30)),
        _ => Some(f),
    }
}

pub fn round_date(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&ROUND_DATE, input)?;
    let d = in_zone(&a, "date")?;
    let unit = a.str("unit");
    if unit == "seconds" {
        return Ok(json!(iso(&d)));
    }
    let n = d
        .naive_local()
        .with_nanosecond(0)
        .unwrap_or(d.naive_local());
    let f = floor_unit(n, unit);
    let overflow = || AgentError::plain("Date out of range");
    let r = match a.str("mode") {
        "floor" => f,
        "ceil" if n == f => f,
        "ceil" => next_unit(f, unit).ok_or_else(overflow)?,
        _ => {
            let h = half_point(f, unit).ok_or_else(overflow)?;
            if n >= h {
                next_unit(f, unit).ok_or_else(overflow)?
            } else {
                f
            }
        }
    };
    Ok(json!(iso(&local(*d.offset(), r)?)))
}

pub fn date_to_unix(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&DATE_TO_UNIX, input)?;
    let d = parse_date(a.rt_str("date")?)?;
    let ms = a.bool("milliseconds");
    let t = if ms {
        d.timestamp_millis()
    } else {
        d.timestamp()
    };
    Ok(json!({"timestamp": t, "isMilliseconds": ms}))
}

pub fn unix_to_date(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&UNIX_TO_DATE, input)?;
    let Some(t) = a.opt_i64("timestamp") else {
        return fail("Missing required input: timestamp");
    };
    let is_ms = a
        .opt_bool("isMilliseconds")
        .unwrap_or(t > 1_000_000_000_000);
    let tz = parse_timezone(a.opt_str("timezone"))?;
    let d = if is_ms {
        Utc.timestamp_millis_opt(t).single()
    } else {
        Utc.timestamp_opt(t, 0).single()
    }
    .ok_or_else(|| AgentError::plain(format!("Timestamp out of range: {t}")))?;
    Ok(json!(iso(&d.with_timezone(&tz))))
}
