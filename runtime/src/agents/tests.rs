//! Tests of the registry, coercion, the catalogue and every capability (http: `tests_http`).

use serde_json::{json, Value};

use super::*;

fn ok(m: &str, c: &str, input: Value) -> Value {
    match call(m, c, input) {
        Ok(v) => v,
        Err(e) => panic!("{m}/{c} failed: {e:?}"),
    }
}

fn err(m: &str, c: &str, input: Value) -> AgentError {
    match call(m, c, input) {
        Ok(v) => panic!("{m}/{c} succeeded: {v}"),
        Err(e) => e,
    }
}

// ------------------------------------------------------------------ registry & coercion

#[test]
fn unknown_and_coercion() {
    assert_eq!(err("utils", "nope", json!({})).code, "CAPABILITY_ERROR");
    assert_eq!(err("nomod", "x", json!({})).code, "CAPABILITY_ERROR");
    assert_eq!(
        err("sftp", "sftp-list-files", json!({"path": "x"})).code,
        "CAPABILITY_ERROR"
    );
    let e = err("utils", "return-input-string", json!({}));
    assert_eq!(e.code, "INPUT_DESERIALIZATION_ERROR");
    assert_eq!(e.category, "permanent");
    assert_eq!(
        ok("utils", "return-input-string", json!({"value": 12})),
        json!("12")
    );
    assert_eq!(
        ok("utils", "return-input-string", json!({"value": 1.5})),
        json!("1.5")
    );
    assert_eq!(
        ok("utils", "return-input-string", json!({"value": true})),
        json!("true")
    );
    assert_eq!(
        err("utils", "return-input-string", json!({"value": [1]})).code,
        "INPUT_DESERIALIZATION_ERROR"
    );
    assert_eq!(
        err("utils", "return-input-string", json!(5)).code,
        "INPUT_DESERIALIZATION_ERROR"
    );
    assert_eq!(
        ok("utils", "random-array", json!({"size": " 3 "}))
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(
        err("utils", "random-array", json!({"size": "x"})).code,
        "INPUT_DESERIALIZATION_ERROR"
    );
    assert_eq!(
        err(
            "utils",
            "country-name-to-iso-code",
            json!({"country_name": "France", "code_type": "x"})
        )
        .code,
        "INPUT_DESERIALIZATION_ERROR"
    );
    // null for an optional input = absent (default applies)
    assert_eq!(
        ok(
            "utils",
            "country-name-to-iso-code",
            json!({"country_name": "France", "code_type": null})
        ),
        json!("FR")
    );
    // bool coercion
    let r = ok(
        "transform",
        "sort",
        json!({"value": [1, 3, 2], "ascending": "no"}),
    );
    assert_eq!(r["items"], json!([3, 2, 1]));
    let r = ok(
        "transform",
        "sort",
        json!({"value": [1, 3, 2], "ascending": 1}),
    );
    assert_eq!(r["items"], json!([1, 2, 3]));
    // unsigned integer coercion and rejection of negatives
    assert_eq!(
        err("utils", "delay-in-ms", json!({"delay_value": -1})).code,
        "INPUT_DESERIALIZATION_ERROR"
    );
    assert_eq!(
        ok("utils", "delay-in-ms", json!({"delay_value": "0"})),
        json!(0)
    );
}

#[test]
fn aliases_wire_name_wins() {
    let r = ok(
        "datetime",
        "get-time-between",
        json!({"start_date": "2024-01-01", "end_date": "2024-01-03"}),
    );
    assert_eq!(r["difference"], 2);
    let r = ok(
        "datetime",
        "get-time-between",
        json!({"startDate": "2024-01-02", "start_date": "2024-01-01", "endDate": "2024-01-03"}),
    );
    assert_eq!(r["difference"], 1);
    let r = ok(
        "text",
        "to-base64",
        json!({"data": "hi", "mime_type": "text/plain"}),
    );
    assert_eq!(r, json!({"content": "aGk=", "mimeType": "text/plain"}));
}

#[test]
fn panics_become_capability_errors() {
    fn boom(_: Value) -> Result<Value, AgentError> {
        panic!("kaboom")
    }
    let e = run_guarded(boom, json!({})).unwrap_err();
    assert_eq!(e.code, "CAPABILITY_ERROR");
    assert_eq!(e.message, "kaboom");
}

#[test]
fn structured_error_shape() {
    let e = err(
        "transform",
        "from-json-string",
        json!({"value": "{not json"}),
    );
    let v = e.to_value();
    assert_eq!(v["code"], "TRANSFORM_JSON_PARSE_ERROR");
    assert_eq!(v["category"], "permanent");
    assert_eq!(v["severity"], "error");
    assert!(v["attributes"]["parse_error"].is_string());
}

// ------------------------------------------------------------------ catalogue

#[test]
fn catalogue_is_complete_and_matches_spec() {
    let text = catalogue_json();
    assert!(text.ends_with("}\n"));
    let cat: Value = serde_json::from_str(&text).unwrap();
    let ids: Vec<&str> = cat["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "utils",
            "transform",
            "text",
            "datetime",
            "csv",
            "crypto",
            "http",
            "xml",
            "file",
            "compression",
            "sftp",
            "xlsx",
            "object_model"
        ]
    );
    // Every available capability has a function; unavailable ones have none.
    for m in MODULES {
        for (c, f) in m.caps {
            assert_eq!(c.available, f.is_some(), "{}/{}", m.id, c.id);
        }
    }
    let shared = std::env::var("RUNTARA_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let spec = shared.join("spec/agents.json");
    if let Ok(t) = std::fs::read_to_string(&spec) {
        let want: Value = serde_json::from_str(&t).unwrap();
        assert_eq!(cat, want, "catalogue differs from {}", spec.display());
    }
    let saved = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../runtara_build/catalogue/agents.json");
    if let Ok(t) = std::fs::read_to_string(&saved) {
        assert_eq!(t, text, "runtara_build/catalogue/agents.json is stale");
    }
}

// ------------------------------------------------------------------ utils

#[test]
fn utils_simple() {
    let d = ok("utils", "random-double", json!({})).as_f64().unwrap();
    assert!((0.0..1.0).contains(&d));
    let a = ok("utils", "random-array", json!({"size": 5}));
    assert!(a
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x.as_u64().unwrap() <= 5));
    assert_eq!(ok("utils", "random-array", json!({"size": 0})), json!([]));
    assert_eq!(
        ok("utils", "return-input", json!({"value": {"a": [1, null]}})),
        json!({"a": [1, null]})
    );
    assert_eq!(
        ok("utils", "return-input", json!({"value": null})),
        Value::Null
    );
    assert_eq!(
        err("utils", "return-input", json!({})).code,
        "INPUT_DESERIALIZATION_ERROR"
    );
    assert_eq!(ok("utils", "do-nothing", json!({"x": 1})), Value::Null);
    assert!(ok("utils", "get-current-unix-timestamp", json!({})).is_i64());
    let iso = ok("utils", "get-current-iso-datetime", json!({}));
    assert!(iso.as_str().unwrap().ends_with('Z'));
    let f = ok(
        "utils",
        "get-current-formatted-datetime",
        json!({"format": "yyyy"}),
    );
    assert_eq!(f.as_str().unwrap().len(), 4);
}

#[test]
fn countries_full_table() {
    let c = |n: &str, t: &str| {
        call(
            "utils",
            "country-name-to-iso-code",
            json!({"country_name": n, "code_type": t}),
        )
    };
    assert_eq!(c("Côte d'Ivoire", "alpha3").unwrap(), json!("CIV"));
    assert_eq!(c("Ivory Coast", "alpha2").unwrap(), json!("CI"));
    assert_eq!(c("Bolivia", "alpha2").unwrap(), json!("BO"));
    assert_eq!(c("Korea, Republic of", "alpha2").unwrap(), json!("KR"));
    assert_eq!(c("Zimbabwe", "alpha3").unwrap(), json!("ZWE"));
    assert_eq!(c("Åland Islands", "alpha2").unwrap(), json!("AX"));
    assert_eq!(c("Viet Nam", "alpha2").unwrap(), json!("VN"));
    assert_eq!(c("Switzerlnd", "alpha2").unwrap(), json!("CH"));
    assert_eq!(c("", "alpha2").unwrap_err().message, "Country not found: ");
}

// ------------------------------------------------------------------ transform

#[test]
fn transform_paths() {
    let people = json!([{"n": "a", "t": {"x": 1}}, {"n": "b"}, 5]);
    assert_eq!(
        ok(
            "transform",
            "extract",
            json!({"value": people, "property_path": "$.t.x"})
        ),
        json!({"values": [1, null, null], "count": 3})
    );
    assert_eq!(
        ok(
            "transform",
            "extract",
            json!({"value": [1, 2], "property_path": ""})
        ),
        json!({"values": [1, 2], "count": 2})
    );
    assert_eq!(
        ok(
            "transform",
            "extract",
            json!({"value": [], "property_path": "a"})
        ),
        json!({"values": [], "count": 0})
    );
    assert_eq!(
        ok(
            "transform",
            "get-value-by-path",
            json!({"value": {"a": [{"b": 7}]}, "property_path": "a.0.b"})
        ),
        json!(7)
    );
    assert_eq!(
        ok(
            "transform",
            "get-value-by-path",
            json!({"value": {"a": 1}, "property_path": ""})
        ),
        Value::Null
    );
    assert_eq!(ok("transform", "get-value-by-path", json!({})), Value::Null);
    assert_eq!(
        ok(
            "transform",
            "set-value-by-path",
            json!({"target": {"a": 1}, "property_path": "b.c", "value": 2})
        ),
        json!({"a": 1, "b": {"c": 2}})
    );
    assert_eq!(
        ok(
            "transform",
            "set-value-by-path",
            json!({"target": [1], "property_path": "0", "value": 2})
        ),
        json!([1])
    );
    assert_eq!(
        ok(
            "transform",
            "set-value-by-path",
            json!({"property_path": "a"})
        ),
        Value::Null
    );
}

#[test]
fn transform_filters() {
    let v = json!([null, "", " ", 0, "0", "x", 1]);
    let r = ok(
        "transform",
        "filter-non-values",
        json!({"value": v, "filter_null_values": true, "filter_blank_strings": true,
               "filter_zero_values": true}),
    );
    assert_eq!(
        r,
        json!({"items": ["x", 1], "count": 2, "removed_count": 5})
    );
    let r = ok(
        "transform",
        "filter-non-values",
        json!({"value": [{"a": ""}, {"a": "y"}, {}], "property_path": "a",
               "filter_empty_strings": true}),
    );
    assert_eq!(r["count"], 2);
    assert_eq!(
        ok(
            "transform",
            "select-first",
            json!({"value": [null, " ", 0, false, "ok", 2]})
        ),
        json!("ok")
    );
    assert_eq!(ok("transform", "select-first", json!({})), Value::Null);
    assert_eq!(
        ok(
            "transform",
            "coalesce",
            json!({"values": [null, 0, "a"], "treat_zero_as_null": true})
        ),
        json!("a")
    );
    assert_eq!(
        ok("transform", "coalesce", json!({"values": [null, 0]})),
        json!(0)
    );
    assert_eq!(
        ok("transform", "coalesce", json!({"values": []})),
        Value::Null
    );
}

#[test]
fn transform_filter_conditions() {
    let v = json!([{"t": "apple", "tags": ["a", "b"]}, {"t": "banana", "tags": ["c"]},
                   {"t": null}, {"t": 1}]);
    let f = |p: &str, m: Value, c: &str| {
        ok(
            "transform",
            "filter",
            json!({"value": v, "property_path": p, "match_values": m, "match_condition": c}),
        )
    };
    assert_eq!(f("t", json!("apple"), "INCLUDES")["count"], 1);
    assert_eq!(f("tags", json!(["b"]), "INCLUDES")["count"], 1);
    assert_eq!(f("t", json!(1.0), "INCLUDES")["count"], 1);
    assert_eq!(f("t", json!([null]), "INCLUDES")["count"], 0);
    assert_eq!(f("t", json!("apple"), "EXCLUDES")["count"], 3);
    assert_eq!(f("t", json!(["ba", "zz"]), "STARTS_WITH")["count"], 1);
    assert_eq!(f("t", json!("le"), "ENDS_WITH")["count"], 1);
    assert_eq!(f("t", json!("an"), "CONTAINS")["count"], 1);
    let r = ok(
        "transform",
        "filter",
        json!({"value": null, "property_path": "$", "match_values": 1, "match_condition": "INCLUDES"}),
    );
    assert_eq!(r, json!({"items": [], "count": 0, "removed_count": 0}));
    let r = ok(
        "transform",
        "filter",
        json!({"value": [1, 2, 3], "property_path": "", "match_values": [2, 3],
               "match_condition": "INCLUDES"}),
    );
    assert_eq!(r["items"], json!([2, 3]));
    assert_eq!(
        err(
            "transform",
            "filter",
            json!({"value": [], "property_path": "", "match_values": 1, "match_condition": "LIKE"})
        )
        .code,
        "INPUT_DESERIALIZATION_ERROR"
    );
}

#[test]
fn transform_sort() {
    let v = json!([{"k": 2, "i": 0}, {"k": null, "i": 1}, {"k": 1, "i": 2}, {"i": 3},
                   {"k": 2, "i": 4}]);
    let order = |asc: bool| -> Vec<i64> {
        ok(
            "transform",
            "sort",
            json!({"value": v, "property_path": "k", "ascending": asc}),
        )["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["i"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(order(true), [2, 0, 4, 1, 3]);
    assert_eq!(order(false), [1, 3, 0, 4, 2]);
    let r = ok(
        "transform",
        "sort",
        json!({"value": ["b", "B", "a", true, false, 10, 9.5]}),
    );
    assert_eq!(r["items"], json!(["B", "a", "b", 9.5, 10, false, true]));
    let r = ok("transform", "sort", json!({"value": [true, false, 3, 1]}));
    assert_eq!(r["items"][0], json!(1));
    let r = ok("transform", "sort", json!({"value": ["é", "z", "a"]}));
    assert_eq!(r["items"], json!(["a", "z", "é"]));
}

#[test]
fn transform_map_group_misc() {
    let r = ok(
        "transform",
        "map-fields",
        json!({"source_data": {"a": {"b": 1}, "n": null}, "mappings": {"a.b": "x", "n": "y", "zz": "z"}}),
    );
    assert_eq!(r, json!({"result": {"x": 1}, "field_count": 1}));
    let items = json!([{"k": "a", "v": 1}, {"k": 1, "v": 2}, {"k": "a", "v": 3}, {"v": 4},
                       {"k": {"o": 1}, "v": 5}, {"k": true, "v": 6}]);
    let r = ok(
        "transform",
        "group-by",
        json!({"value": items, "key": "k", "as_map": true}),
    );
    assert_eq!(r["group_count"], 4);
    assert_eq!(r["groups"]["a"].as_array().unwrap().len(), 2);
    assert!(r["groups"]["1"].is_array());
    assert!(r["groups"]["true"].is_array());
    assert!(r["groups"]["{\"o\":1}"].is_array());
    let r = ok("transform", "group-by", json!({"value": items, "key": "k"}));
    assert_eq!(r["groups"].as_array().unwrap().len(), 4);
    let e = err(
        "transform",
        "group-by",
        json!({"value": {"a": 1}, "key": "k"}),
    );
    assert_eq!(e.code, "TRANSFORM_INVALID_INPUT");
    assert_eq!(e.attributes["received_type"], "object");
    assert_eq!(
        ok("transform", "append", json!({"array": [1], "item": null})),
        json!({"array": [1, null], "length": 2})
    );
    assert_eq!(
        ok(
            "transform",
            "flat-map",
            json!({"value": [{"a": [1]}, {"a": 2}, {"a": [3, 4]}], "property_path": "a"})
        ),
        json!({"items": [1, 3, 4], "count": 3})
    );
    assert_eq!(
        ok("transform", "array-length", json!({"value": "héllo"})),
        json!({"length": 6, "is_array": false})
    );
    assert_eq!(
        ok("transform", "array-length", json!({"value": {"a": 1}})),
        json!({"length": 1, "is_array": false})
    );
    assert_eq!(
        ok("transform", "array-length", json!({"value": 5})),
        json!({"length": 0, "is_array": false})
    );
    assert_eq!(
        ok("transform", "ensure-array", json!({"value": [1]})),
        json!({"items": [1], "count": 1, "was_array": true})
    );
    assert_eq!(
        ok("transform", "ensure-array", json!({"value": null})),
        json!({"items": [], "count": 0, "was_array": false})
    );
    assert_eq!(
        err("transform", "ensure-array", json!({})).code,
        "INPUT_DESERIALIZATION_ERROR"
    );
    assert_eq!(
        ok("transform", "from-json-string", json!({"value": ""})),
        Value::Null
    );
    assert_eq!(
        ok(
            "transform",
            "from-json-string",
            json!({"value": "[1,{\"a\":2}]"})
        ),
        json!([1, {"a": 2}])
    );
    assert_eq!(
        ok(
            "transform",
            "to-json-string",
            json!({"value": {"b": 1, "a": "é"}})
        ),
        json!({"json": "{\"a\":\"é\",\"b\":1}", "length": 16})
    );
}

#[test]
fn transform_huge_input() {
    let big: Vec<Value> = (0..100_000)
        .map(|i| json!({"i": (i * 7919) % 100_000}))
        .collect();
    let r = ok(
        "transform",
        "sort",
        json!({"value": big, "property_path": "i"}),
    );
    assert_eq!(r["count"], 100_000);
    assert_eq!(r["items"][0]["i"], 0);
    assert_eq!(r["items"][99_999]["i"], 99_999);
}

// ------------------------------------------------------------------ text

fn t(cap: &str, input: Value) -> Value {
    ok("text", cap, input)
}

#[test]
fn text_basics() {
    assert_eq!(
        t(
            "render-template",
            json!({"text": "Hi {{ name }}!", "context": {"name": "Ada"}})
        ),
        json!("Hi Ada!")
    );
    assert_eq!(
        err("text", "render-template", json!({"context": {}})).code,
        "TEXT_TEMPLATE_MISSING"
    );
    assert_eq!(
        err(
            "text",
            "render-template",
            json!({"text": "{{ x", "context": {}})
        )
        .code,
        "TEXT_TEMPLATE_PARSE_ERROR"
    );
    assert_eq!(
        err(
            "text",
            "render-template",
            json!({"text": "{{ \"a\" + 1 }}", "context": {}})
        )
        .code,
        "TEXT_TEMPLATE_RENDER_ERROR"
    );
    assert_eq!(
        t("trim-normalize", json!({"text": "  a \n\t b  "})),
        json!("a b")
    );
    assert_eq!(t("trim-normalize", json!({"text": null})), json!(""));
    assert_eq!(
        t(
            "case-conversion",
            json!({"text": "hELLO  wORLD", "format": "title-case"})
        ),
        json!("Hello World")
    );
    assert_eq!(t("case-conversion", json!({"text": "ÀB"})), json!("àb"));
    assert_eq!(
        t(
            "case-conversion",
            json!({"text": "straße", "format": "uppercase"})
        ),
        json!("STRASSE")
    );
    assert_eq!(
        t("find-replace", json!({"text": "a-b", "pattern": "-"})),
        json!("a-b")
    );
    assert_eq!(
        t(
            "find-replace",
            json!({"text": "a-b-c", "pattern": "-", "replacement": ""})
        ),
        json!("abc")
    );
    assert_eq!(
        t("extract-first-line", json!({"text": "one\r\ntwo"})),
        json!("one")
    );
    assert_eq!(
        t("extract-first-word", json!({"text": "  hello world"})),
        json!("hello")
    );
    assert_eq!(
        t(
            "split-join",
            json!({"text": "a | b|c", "delimiter": "|", "join_delimiter": "+"})
        ),
        json!("a+b+c")
    );
    assert_eq!(t("split", json!({"text": ""})), json!([]));
    assert_eq!(
        t("split", json!({"text": "ab", "delimiter": ""})),
        json!(["", "a", "b", ""])
    );
    assert_eq!(
        t(
            "find-replace",
            json!({"text": "ab", "pattern": "", "replacement": "-"})
        ),
        json!("-a-b-")
    );
    assert_eq!(
        t(
            "find-replace",
            json!({"text": "", "pattern": "", "replacement": "-"})
        ),
        json!("")
    );
    assert_eq!(t("split", json!({"text": "a,,b"})), json!(["a", "", "b"]));
    assert_eq!(
        t(
            "remove-characters",
            json!({"text": "h,e!l l-o", "pattern": ",! "})
        ),
        json!("hell-o")
    );
    assert_eq!(
        t(
            "substring-extraction",
            json!({"text": "x [a] [b]", "start_delimiter": "[", "end_delimiter": "]"})
        ),
        json!("a")
    );
    assert_eq!(
        t(
            "substring-extraction",
            json!({"text": "x [a", "start_delimiter": "[", "end_delimiter": "]"})
        ),
        json!("")
    );
    assert_eq!(
        t(
            "substring-extraction",
            json!({"text": "x [a", "start_delimiter": "["})
        ),
        json!("x [a")
    );
    assert_eq!(
        t("collapse-expand-lines", json!({"text": " a \n b "})),
        json!("a b")
    );
    assert_eq!(
        t(
            "collapse-expand-lines",
            json!({"text": "a, b,c", "delimiter": ","})
        ),
        json!("a\nb\nc")
    );
    assert_eq!(
        t("slugify", json!({"text": "  Ça  va -- Ñandú ÿes ß! "})),
        json!("ca-va-nandu-yes")
    );
    assert_eq!(t("hash-text", json!({"text": ""})), json!(""));
    assert_eq!(
        t("hash-text", json!({"text": "hello"})),
        json!("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
    );
    assert_eq!(t("as-byte-array", json!({"text": "é"})), json!([195, 169]));
    assert_eq!(
        t("as-byte-array", json!({"text": "é", "encoding": "latin1"})),
        json!([233])
    );
}

#[test]
fn text_base64() {
    assert_eq!(t("from-base64", json!({"data": "aMOp"})), json!("hé"));
    assert_eq!(
        t(
            "from-base64",
            json!({"data": {"content": "gOk="}, "encoding": "iso-8859-1"})
        ),
        json!("\u{80}é")
    );
    assert_eq!(
        t(
            "from-base64",
            json!({"data": [128, 233], "encoding": "Auto"})
        ),
        json!("\u{80}é")
    );
    assert_eq!(
        t(
            "from-base64",
            json!({"data": [104, 105], "encoding": "auto"})
        ),
        json!("hi")
    );
    let code = |v: Value| err("text", "from-base64", v).code;
    assert_eq!(code(json!({"data": [255]})), "TEXT_UTF8_DECODE_ERROR");
    assert_eq!(
        code(json!({"data": "aGk=", "encoding": "EBCDIC"})),
        "TEXT_UNSUPPORTED_ENCODING"
    );
    assert_eq!(code(json!({"data": "%%%"})), "FILE_BASE64_DECODE_ERROR");
    assert_eq!(code(json!({"data": {"x": 1}})), "FILE_INVALID_STRUCTURE");
    assert_eq!(code(json!({"data": [1, "a"]})), "FILE_INVALID_BYTE_ARRAY");
    assert_eq!(code(json!({"data": [300]})), "FILE_BYTE_OUT_OF_RANGE");
    assert_eq!(code(json!({"data": true})), "FILE_INVALID_INPUT_TYPE");
    assert_eq!(
        t("to-base64", json!({"data": "hi", "filename": "a.txt"})),
        json!({"content": "aGk=", "filename": "a.txt"})
    );
    assert_eq!(
        t("to-base64", json!({"data": [104, 105]})),
        json!({"content": "aGk="})
    );
    assert_eq!(
        t(
            "to-base64",
            json!({"data": {"content": "aGk=", "filename": "x", "mimeType": "m"}, "filename": "y"})
        ),
        json!({"content": "aGk=", "filename": "y", "mimeType": "m"})
    );
    let code = |v: Value| err("text", "to-base64", v).code;
    assert_eq!(code(json!({"data": {"x": 1}})), "TEXT_INVALID_FILE_DATA");
    assert_eq!(code(json!({"data": [1.5]})), "TEXT_INVALID_BYTE_ARRAY");
    assert_eq!(code(json!({"data": [256]})), "TEXT_BYTE_OUT_OF_RANGE");
    assert_eq!(code(json!({"data": 5})), "TEXT_INVALID_INPUT_TYPE");
}

#[test]
fn text_regex() {
    assert_eq!(
        t(
            "regex-replace",
            json!({"text": "a1b22", "pattern": "\\d+", "replacement": "#", "global": false})
        ),
        json!("a#b22")
    );
    assert_eq!(
        t(
            "regex-replace",
            json!({"text": "John Smith", "pattern": "(?P<f>\\w+) (?P<l>\\w+)", "replacement": "${l}, $f"})
        ),
        json!("Smith, John")
    );
    assert_eq!(
        t("regex-replace", json!({"text": "", "pattern": "("})),
        json!("")
    );
    let e = err(
        "text",
        "regex-replace",
        json!({"text": "x", "pattern": "("}),
    );
    assert_eq!(e.code, "TEXT_INVALID_REGEX");
    assert_eq!(e.attributes["pattern"], "(");
    assert!(e.attributes.contains_key("regex_error"));
    let e = err("text", "regex-test", json!({"text": "x"}));
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("CAPABILITY_ERROR", "Pattern is required")
    );
    assert_eq!(
        t(
            "regex-match",
            json!({"text": "id=12 id=34", "pattern": "id=(\\d+)", "capture_group": 1})
        ),
        json!("12")
    );
    assert_eq!(
        t(
            "regex-match",
            json!({"text": "id=12 id=34", "pattern": "id=(\\d+)", "capture_group": "1", "all_matches": true})
        ),
        json!(["12", "34"])
    );
    assert_eq!(
        t("regex-match", json!({"text": "abc", "pattern": "z"})),
        Value::Null
    );
    assert_eq!(
        t("regex-match", json!({"text": "", "all_matches": true})),
        json!([])
    );
    assert_eq!(
        t(
            "regex-test",
            json!({"text": "ABC", "pattern": "^abc$", "case_insensitive": true})
        ),
        json!(true)
    );
    assert_eq!(
        t("regex-split", json!({"text": "a1b22c", "pattern": "\\d+"})),
        json!(["a", "b", "c"])
    );
    assert_eq!(
        t(
            "regex-split",
            json!({"text": "a1b22c", "pattern": "\\d+", "limit": 2})
        ),
        json!(["a", "b22c"])
    );
}

#[test]
fn text_pad_truncate_wrap() {
    assert_eq!(
        t(
            "pad-text",
            json!({"text": "ab", "length": 5, "pad_char": "*", "direction": "both"})
        ),
        json!("*ab**")
    );
    assert_eq!(
        t(
            "pad-text",
            json!({"text": "é", "length": 4, "pad_char": "ü"})
        ),
        json!("éüü")
    );
    assert_eq!(
        t(
            "pad-text",
            json!({"text": "ab", "length": 3, "pad_char": ""})
        ),
        json!("ab ")
    );
    assert_eq!(
        t("pad-text", json!({"text": "abc", "length": 2})),
        json!("abc")
    );
    assert_eq!(t("pad-text", json!({"text": "abc"})), json!("abc"));
    assert_eq!(
        t(
            "truncate-text",
            json!({"text": "héllo world", "max_length": 6, "suffix": "…"})
        ),
        json!("hél…")
    );
    assert_eq!(
        t(
            "truncate-text",
            json!({"text": "hello world", "max_length": 2, "suffix": "...."})
        ),
        json!("..")
    );
    assert_eq!(
        t(
            "truncate-text",
            json!({"text": "hello world", "max_length": 11})
        ),
        json!("hello world")
    );
    assert_eq!(
        t(
            "truncate-text",
            json!({"text": "The quick brown fox", "max_length": 12, "suffix": "...", "word_boundary": true})
        ),
        json!("The...")
    );
    assert_eq!(
        t("wrap-text", json!({"text": "aaa bbb ccc", "width": 7})),
        json!("aaa bbb\nccc")
    );
    assert_eq!(
        t("wrap-text", json!({"text": "abcdefgh", "width": 3})),
        json!("abc\ndef\ngh")
    );
    assert_eq!(
        t(
            "wrap-text",
            json!({"text": "ab\ncd ef", "width": 4, "preserve_newlines": false})
        ),
        json!("ab\ncd\nef")
    );
    assert_eq!(
        t("wrap-text", json!({"text": "ab\ncd", "width": 80})),
        json!("ab\ncd")
    );
    assert_eq!(
        t("wrap-text", json!({"text": "éééé", "width": 3})),
        json!("é\né\né\né")
    );
}

#[test]
fn text_extract_compare_count() {
    assert_eq!(
        t("extract-numbers", json!({"text": "a -2.5 b 4. c ٣ 10"})),
        json!([2.5, 4.0, 10.0])
    );
    assert_eq!(
        t(
            "extract-numbers",
            json!({"text": "-2.5", "include_negative": true})
        ),
        json!([-2.5])
    );
    assert_eq!(
        t(
            "extract-numbers",
            json!({"text": "2.5", "include_decimals": false})
        ),
        json!([2.0, 5.0])
    );
    assert_eq!(
        t("extract-emails", json!({"text": "mail a.b@ex.com, x@y"})),
        json!(["a.b@ex.com"])
    );
    assert_eq!(
        t(
            "extract-urls",
            json!({"text": "see HTTPS://a.b/c?d=1 and ftp://f.g <http://h.i>"})
        ),
        json!(["HTTPS://a.b/c?d=1", "ftp://f.g", "http://h.i"])
    );
    assert_eq!(
        t(
            "compare-text",
            json!({"text_a": "Ab", "text_b": "aB", "mode": "case-insensitive"})
        ),
        json!(true)
    );
    assert_eq!(
        t(
            "compare-text",
            json!({"text_a": "kitten", "text_b": "sitting", "mode": "levenshtein-distance"})
        ),
        json!(3)
    );
    assert_eq!(
        t("compare-text", json!({"text_a": "abc", "mode": "contains"})),
        json!(true)
    );
    assert_eq!(t("compare-text", json!({"text_a": "a"})), json!(false));
    assert_eq!(
        t(
            "count-occurrences",
            json!({"text": "aaaa", "pattern": "aa"})
        ),
        json!(2)
    );
    assert_eq!(
        t(
            "count-occurrences",
            json!({"text": "a1b2", "pattern": "\\d", "use_regex": true})
        ),
        json!(2)
    );
    assert_eq!(
        t("count-occurrences", json!({"text": "abc", "pattern": ""})),
        json!(0)
    );
    assert_eq!(
        t(
            "count-occurrences",
            json!({"text": "Banana bandana", "pattern": "AN", "case_insensitive": "yes"})
        ),
        json!(4)
    );
}

#[test]
fn text_huge_input() {
    let big = "word ".repeat(200_000);
    let r = t("trim-normalize", json!({"text": big}));
    assert_eq!(r.as_str().unwrap().len(), 200_000 * 5 - 1);
    assert_eq!(
        t("count-occurrences", json!({"text": big, "pattern": "word"})),
        json!(200_000)
    );
}

// ------------------------------------------------------------------ datetime

fn dt(cap: &str, input: Value) -> Value {
    ok("datetime", cap, input)
}

#[test]
fn datetime_parsing_and_format() {
    let f = |d: &str| dt("format-date", json!({"date": d}));
    assert_eq!(f("1704067200"), json!("2024-01-01T00:00:00Z"));
    assert_eq!(f("1704067200000"), json!("2024-01-01T00:00:00Z"));
    assert_eq!(
        f("2024-01-01T05:30:00+05:30"),
        json!("2024-01-01T00:00:00Z")
    );
    assert_eq!(
        f("2024-01-01T00:00:00-00:00"),
        json!("2024-01-01T00:00:00Z")
    );
    assert_eq!(
        f("Mon, 1 Jan 2024 10:00:00 +0000"),
        json!("2024-01-01T10:00:00Z")
    );
    assert_eq!(f("2024-01-01T10:00:00.123Z"), json!("2024-01-01T10:00:00Z"));
    assert_eq!(f("2024-01-01T10:00:00"), json!("2024-01-01T10:00:00Z"));
    assert_eq!(f("2024-01-01 10:00:00.5"), json!("2024-01-01T10:00:00Z"));
    assert_eq!(f("01/15/2024"), json!("2024-01-15T00:00:00Z"));
    assert_eq!(f("15/01/2024 08:09:10"), json!("2024-01-15T08:09:10Z"));
    assert_eq!(f("15.01.24"), json!("2024-01-15T00:00:00Z"));
    assert_eq!(f("2024-02-29"), json!("2024-02-29T00:00:00Z"));
    let e = err("datetime", "format-date", json!({"date": "yesterday"}));
    assert!(e.message.starts_with("Unable to parse date"));
    assert_eq!(
        err("datetime", "format-date", json!({})).code,
        "CAPABILITY_ERROR"
    );
    let g = |fmt: &str, extra: Value| {
        let mut i = json!({"date": "2024-07-04T15:30:05.042Z", "format": fmt});
        if let Value::Object(o) = extra {
            i.as_object_mut().unwrap().extend(o);
        }
        dt("format-date", i)
    };
    assert_eq!(
        g("rfc2822", json!({})),
        json!("Thu, 04 Jul 2024 15:30:05 +0000")
    );
    assert_eq!(g("date-only", json!({})), json!("2024-07-04"));
    assert_eq!(g("time-only", json!({})), json!("15:30:05"));
    assert_eq!(g("us-short-date", json!({})), json!("07/04/2024"));
    assert_eq!(g("eu-short-date", json!({})), json!("04/07/2024"));
    assert_eq!(g("long-date", json!({})), json!("July 04, 2024"));
    assert_eq!(g("date-time", json!({})), json!("2024-07-04 15:30:05"));
    assert_eq!(g("unix", json!({})), json!("1720107005"));
    assert_eq!(g("unix-ms", json!({})), json!("1720107005042"));
    assert_eq!(
        g(
            "custom",
            json!({"customFormat": "EEEE E MMMM MMM yy/MM/dd hh:mm:ss.SSS a Z ZZ W o %"})
        ),
        json!("Thursday Thu July Jul 24/07/04 03:30:05.042 PM +00:00 +0000 27 186 %")
    );
    assert_eq!(
        g(
            "custom",
            json!({"custom_format": "HH:mm ZZZ", "timezone": "+0530"})
        ),
        json!("21:00 +05:30")
    );
    assert_eq!(
        err(
            "datetime",
            "format-date",
            json!({"date": "2024-01-01", "format": "custom"})
        )
        .code,
        "CAPABILITY_ERROR"
    );
    assert_eq!(
        g("iso8601", json!({"timezone": "Asia/Kolkata"})),
        json!("2024-07-04T21:00:05+05:30")
    );
    assert_eq!(
        err(
            "datetime",
            "format-date",
            json!({"date": "2024-01-01", "timezone": "Mars/Base"})
        )
        .code,
        "CAPABILITY_ERROR"
    );
}

#[test]
fn datetime_arithmetic() {
    let add =
        |d: &str, n: i64, u: &str| dt("add-to-date", json!({"date": d, "amount": n, "unit": u}));
    assert_eq!(
        add("2024-01-31T10:00:00Z", 1, "months"),
        json!("2024-02-29T10:00:00Z")
    );
    assert_eq!(
        add("2024-02-29T00:00:00Z", 1, "years"),
        json!("2025-02-28T00:00:00Z")
    );
    assert_eq!(
        add("2024-03-31T00:00:00Z", -1, "months"),
        json!("2024-02-29T00:00:00Z")
    );
    assert_eq!(
        add("2024-01-01T00:00:00Z", 2, "weeks"),
        json!("2024-01-15T00:00:00Z")
    );
    assert_eq!(
        add("2024-01-01T00:00:00Z", 90, "minutes"),
        json!("2024-01-01T01:30:00Z")
    );
    assert_eq!(
        add("2024-01-01T00:00:00Z", 0, "days"),
        json!("2024-01-01T00:00:00Z")
    );
    assert_eq!(
        dt(
            "add-to-date",
            json!({"date": "2024-01-31T22:00:00Z", "amount": 1, "unit": "months", "timezone": "+03:00"})
        ),
        json!("2024-03-01T01:00:00+03:00")
    );
    assert_eq!(
        dt(
            "subtract-from-date",
            json!({"date": "2024-03-01", "amount": 1})
        ),
        json!("2024-02-29T00:00:00Z")
    );
    let between = |u: &str| {
        dt(
            "get-time-between",
            json!({"startDate": "2024-01-01T00:00:00Z", "endDate": "2025-03-01T12:00:00Z", "unit": u}),
        )
    };
    assert_eq!(between("days")["difference"], 425);
    assert_eq!(between("years")["difference"], 1);
    assert_eq!(between("months")["difference"], 14);
    assert_eq!(between("weeks")["difference"], 60);
    assert_eq!(between("hours")["difference"], 425 * 24 + 12);
    let r = dt(
        "get-time-between",
        json!({"startDate": "2024-01-02", "endDate": "2024-01-01T12:00:00Z"}),
    );
    assert_eq!(
        r,
        json!({"difference": 0, "unit": "days", "exactMs": -43_200_000})
    );
}

#[test]
fn datetime_parts_round_unix() {
    let p = |part: &str| {
        dt(
            "extract-date-part",
            json!({"date": "2024-12-30T23:45:59.123Z", "part": part}),
        )
    };
    assert_eq!(p("year"), json!(2024));
    assert_eq!(p("month"), json!(12));
    assert_eq!(p("week"), json!(1));
    assert_eq!(p("day"), json!(30));
    assert_eq!(p("day-of-week"), json!(1));
    assert_eq!(p("day-of-year"), json!(365));
    assert_eq!(p("hour"), json!(23));
    assert_eq!(p("minute"), json!(45));
    assert_eq!(p("second"), json!(59));
    assert_eq!(p("millisecond"), json!(123));
    assert_eq!(p("quarter"), json!(4));
    assert_eq!(
        dt(
            "extract-date-part",
            json!({"date": "2024-12-30T23:45:00Z", "part": "day", "timezone": "+01:00"})
        ),
        json!(31)
    );
    let r = |d: &str, u: &str, m: &str| dt("round-date", json!({"date": d, "unit": u, "mode": m}));
    assert_eq!(
        r("2024-07-01T00:00:00Z", "years", "round"),
        json!("2025-01-01T00:00:00Z")
    );
    assert_eq!(
        r("2024-06-30T23:59:59Z", "years", "round"),
        json!("2024-01-01T00:00:00Z")
    );
    assert_eq!(
        r("2024-02-16T00:00:00Z", "months", "round"),
        json!("2024-03-01T00:00:00Z")
    );
    assert_eq!(
        r("2024-07-05T00:00:00Z", "weeks", "round"),
        json!("2024-07-08T00:00:00Z")
    );
    assert_eq!(
        r("2024-07-04T23:00:00Z", "weeks", "floor"),
        json!("2024-07-01T00:00:00Z")
    );
    assert_eq!(
        r("2024-07-04T12:00:00Z", "days", "round"),
        json!("2024-07-05T00:00:00Z")
    );
    assert_eq!(
        r("2024-07-04T00:00:00.900Z", "days", "ceil"),
        json!("2024-07-04T00:00:00Z")
    );
    assert_eq!(
        r("2024-07-04T00:00:01Z", "days", "ceil"),
        json!("2024-07-05T00:00:00Z")
    );
    assert_eq!(
        r("2024-07-04T10:29:59Z", "hours", "round"),
        json!("2024-07-04T10:00:00Z")
    );
    assert_eq!(
        r("2024-07-04T10:10:30Z", "minutes", "round"),
        json!("2024-07-04T10:11:00Z")
    );
    assert_eq!(
        r("2024-07-04T10:10:31Z", "seconds", "floor"),
        json!("2024-07-04T10:10:31Z")
    );
    assert_eq!(
        dt(
            "round-date",
            json!({"date": "2024-07-04T23:30:00Z", "unit": "days", "mode": "floor", "timezone": "+02:00"})
        ),
        json!("2024-07-05T00:00:00+02:00")
    );
    assert_eq!(
        dt(
            "date-to-unix",
            json!({"date": "2024-01-01T00:00:01.5Z", "milliseconds": true})
        ),
        json!({"timestamp": 1_704_067_201_500i64, "isMilliseconds": true})
    );
    assert_eq!(
        dt("unix-to-date", json!({"timestamp": 1704067200})),
        json!("2024-01-01T00:00:00Z")
    );
    assert_eq!(
        dt("unix-to-date", json!({"timestamp": "1704067200000"})),
        json!("2024-01-01T00:00:00Z")
    );
    assert_eq!(
        dt(
            "unix-to-date",
            json!({"timestamp": 1000, "is_milliseconds": true, "timezone": "-01:00"})
        ),
        json!("1969-12-31T23:00:01-01:00")
    );
    assert_eq!(
        err("datetime", "unix-to-date", json!({})).code,
        "CAPABILITY_ERROR"
    );
    let now = dt("get-current-date", json!({"includeTime": false}));
    assert_eq!(now.as_str().unwrap().len(), 10);
    let now = dt("get-current-date", json!({"timezone": "UTC"}));
    assert!(now.as_str().unwrap().ends_with('Z'));
}

// ------------------------------------------------------------------ csv

fn b64(s: &str) -> String {
    common::b64_encode(s.as_bytes())
}

#[test]
fn csv_from_csv() {
    let c = |text: &str, extra: Value| {
        let mut i = json!({"data": b64(text)});
        if let Value::Object(o) = extra {
            i.as_object_mut().unwrap().extend(o);
        }
        call("csv", "from-csv", i)
    };
    assert_eq!(
        c("a,b\n1,2\n\n3,4\n", json!({})).unwrap(),
        json!([{"a": "1", "b": "2"}, {"a": "3", "b": "4"}])
    );
    assert_eq!(
        c("a,,b\n1,x,2\n", json!({})).unwrap(),
        json!([{"a": "1", "b": "2"}])
    );
    assert_eq!(
        c(
            "x;\"y;z\"\n1; 2 \n",
            json!({"delimiter": ";", "use_header": false, "trim_whitespace": true})
        )
        .unwrap(),
        json!([["x", "y;z"], ["1", "2"]])
    );
    assert_eq!(
        c("a\n \nb\n", json!({"use_header": false})).unwrap(),
        json!([["a"], ["b"]])
    );
    assert_eq!(
        c(
            "a\n \nb\n",
            json!({"use_header": false, "skip_empty_lines": false})
        )
        .unwrap(),
        json!([["a"], [" "], ["b"]])
    );
    assert_eq!(c("", json!({})).unwrap(), json!([]));
    assert_eq!(
        c("a,b\n1\n", json!({})).unwrap_err().code,
        "CSV_PARSE_ERROR"
    );
    assert_eq!(
        call("csv", "from-csv", json!({"data": "@@"}))
            .unwrap_err()
            .code,
        "CSV_DECODE_ERROR"
    );
    assert_eq!(
        call("csv", "from-csv", json!({"data": [0xff, 0x0a]}))
            .unwrap_err()
            .code,
        "CSV_ENCODING_ERROR"
    );
    assert_eq!(
        call(
            "csv",
            "from-csv",
            json!({"data": [0x6e, 0x0a, 0xe9, 0x0a], "encoding": "latin1"})
        )
        .unwrap(),
        json!([{"n": "é"}])
    );
    assert_eq!(
        call(
            "csv",
            "from-csv",
            json!({"data": [0x6e, 0x0a, 0xe9, 0x0a], "encoding": "no-such"})
        )
        .unwrap(),
        json!([{"n": "\u{fffd}"}])
    );
    assert_eq!(
        call(
            "csv",
            "from-csv",
            json!({"data": {"content": b64("k\nv\n")}, "quote_char": "'"})
        )
        .unwrap(),
        json!([{"k": "v"}])
    );
    assert_eq!(
        call(
            "csv",
            "from-csv",
            json!({"data": b64("a"), "delimiter": ";;"})
        )
        .unwrap_err()
        .code,
        "INPUT_DESERIALIZATION_ERROR"
    );
}

#[test]
fn csv_to_csv_and_header() {
    let to = |v: Value, extra: Value| -> String {
        let mut i = json!({"value": v});
        if let Value::Object(o) = extra {
            i.as_object_mut().unwrap().extend(o);
        }
        let bytes: Vec<u8> = ok("csv", "to-csv", i)
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect();
        String::from_utf8(bytes).unwrap()
    };
    assert_eq!(
        to(
            json!([{"b": 1, "a": "x,y"}, {"b": null, "a": "q\"r"}]),
            json!({})
        ),
        "a,b\n\"x,y\",1\n\"q\"\"r\",\n"
    );
    assert_eq!(
        to(json!([[1, [2]], [true, {"k": 1}]]), json!({})),
        "Column 1,Column 2\n1,[2]\ntrue,\"{\"\"k\"\":1}\"\n"
    );
    assert_eq!(to(json!(["", "a"]), json!({})), "value\n\"\"\na\n");
    assert_eq!(
        to(
            json!({"a": 1}),
            json!({"use_header": false, "delimiter": ";"})
        ),
        "1\n"
    );
    assert_eq!(to(json!([]), json!({})), "");
    assert_eq!(
        err("csv", "to-csv", json!({"value": [[1, 2], [1]]})).code,
        "CSV_WRITE_ERROR"
    );
    let h = ok(
        "csv",
        "get-header",
        json!({"data": b64("i,d,b,s,e,u,big,neg0\n 7 ,2.5,true,TRUE,,18446744073709551615,1e400,-0\n")}),
    );
    assert_eq!(
        h,
        json!({"i": "Integer", "d": "Double", "b": "Boolean", "s": "String", "e": "String",
               "u": "String", "big": "String", "neg0": "Double"})
    );
    assert_eq!(
        ok("csv", "get-header", json!({"data": b64("a,b\n")})),
        json!({"a": "String", "b": "String"})
    );
    assert_eq!(
        ok(
            "csv",
            "get-header",
            json!({"data": b64("1,x\n"), "use_header": false})
        ),
        json!({"Column 1": "Integer", "Column 2": "String"})
    );
    assert_eq!(
        err("csv", "get-header", json!({"data": ""})).code,
        "CSV_EMPTY_FILE"
    );
}

// ------------------------------------------------------------------ crypto

#[test]
fn crypto_hash_hmac() {
    let h = |alg: &str, fmt: &str| {
        ok(
            "crypto",
            "hash",
            json!({"data": "hello", "algorithm": alg, "output_format": fmt}),
        )["hash"]
            .clone()
    };
    assert_eq!(h("md5", "hex"), json!("5d41402abc4b2a76b9719d911017c592"));
    assert_eq!(h("md5", "base64"), json!("XUFAKrxLKna5cZ2REBfFkg=="));
    assert_eq!(
        h("sha1", "hex"),
        json!("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")
    );
    assert!(h("sha512", "hex")
        .as_str()
        .unwrap()
        .starts_with("9b71d224bd62f378"));
    let r = ok("crypto", "hash", json!({"data": {"content": "aGVsbG8="}}));
    assert_eq!(
        r,
        json!({"hash": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
               "algorithm": "sha256", "format": "hex"})
    );
    assert_eq!(
        ok("crypto", "hash", json!({"data": ""}))["hash"],
        json!("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(
        err("crypto", "hash", json!({"data": "x", "algorithm": "crc32"})).code,
        "INPUT_DESERIALIZATION_ERROR"
    );
    assert_eq!(
        err("crypto", "hash", json!({"data": 5})).code,
        "CAPABILITY_ERROR"
    );
    let r = ok(
        "crypto",
        "hmac",
        json!({"data": "The quick brown fox jumps over the lazy dog", "secret": "key"}),
    );
    assert_eq!(
        r["hash"],
        json!("f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
    );
    assert_eq!(r["algorithm"], "hmac-sha256");
    let r = ok(
        "crypto",
        "hmac",
        json!({"data": "x", "secret": "", "algorithm": "hmac-sha512", "output_format": "base64"}),
    );
    assert!(r["hash"].as_str().unwrap().ends_with("=="));
    assert_eq!(
        err("crypto", "hmac", json!({"data": "x"})).code,
        "INPUT_DESERIALIZATION_ERROR"
    );
}

// ------------------------------------------------------------------ xml

#[test]
fn xml_from_xml() {
    let x = |s: &str, extra: Value| {
        let mut i = json!({"data": b64(s)});
        if let Value::Object(o) = extra {
            i.as_object_mut().unwrap().extend(o);
        }
        call("xml", "from-xml", i)
    };
    let doc = r#"<?xml version="1.0"?><!-- c --><root a="1"><item id="x">one</item><item>two</item>
        <empty/><mixed>  hi <b>bold</b> there </mixed><t>a &amp; b</t><c><![CDATA[<raw>]]></c></root>"#;
    assert_eq!(
        x(doc, json!({})).unwrap(),
        json!({"root": {
            "@attributes": {"a": "1"},
            "item": [{"@attributes": {"id": "x"}, "@text": "one"}, "two"],
            "empty": {},
            "mixed": {"@text": "hi there", "b": "bold"},
            "t": "a & b",
            "c": "<raw>",
        }})
    );
    assert_eq!(
        x(doc, json!({"include_attributes": false})).unwrap()["root"]["item"],
        json!(["one", "two"])
    );
    assert_eq!(
        x("<a> x </a>", json!({"trim_text": false})).unwrap(),
        json!({"a": " x "})
    );
    assert_eq!(
        x("<a>x</a>", json!({"preserve_text": false})).unwrap(),
        json!({"a": {}})
    );
    assert_eq!(
        x("<a><b></a>", json!({})).unwrap_err().code,
        "XML_PARSE_ERROR"
    );
    assert_eq!(x("", json!({})).unwrap_err().code, "XML_PARSE_ERROR");
    assert_eq!(
        x("<a/><b/>", json!({})).unwrap_err().code,
        "XML_PARSE_ERROR"
    );
    assert_eq!(
        call("xml", "from-xml", json!({"data": "!!"}))
            .unwrap_err()
            .code,
        "XML_DECODE_ERROR"
    );
    assert_eq!(
        call("xml", "from-xml", json!({"data": [0x3c, 0xff]}))
            .unwrap_err()
            .code,
        "XML_ENCODING_ERROR"
    );
    assert_eq!(
        call(
            "xml",
            "from-xml",
            json!({"data": {"content": b64("<é>ü</é>")}})
        )
        .unwrap(),
        json!({"é": "ü"})
    );
}

// ------------------------------------------------------------------ compression

#[test]
fn compression_roundtrip() {
    let files = json!([
        {"file": {"content": b64("hello"), "filename": "h.txt"}},
        {"file": b64("{}"), "path": "dir/data.json"},
        {"file": {"content": b64("")}},
    ]);
    let arc = ok(
        "compression",
        "create-archive",
        json!({"files": files, "compression_level": 12, "archiveName": "x.zip"}),
    );
    assert_eq!(arc["filename"], "x.zip");
    assert_eq!(arc["mimeType"], "application/zip");
    let list = ok("compression", "list-archive", json!({"archive": arc}));
    assert_eq!(list["totalCount"], 3);
    assert_eq!(list["totalSize"], 7);
    assert_eq!(list["format"], "zip");
    assert_eq!(list["entries"][1]["path"], "dir/data.json");
    let all = ok(
        "compression",
        "extract-archive",
        json!({"archive": arc["content"]}),
    );
    assert_eq!(all["count"], 3);
    assert_eq!(
        all["files"][1],
        json!({"file": {"content": b64("{}"), "filename": "data.json", "mimeType": "application/json"},
               "path": "dir/data.json", "size": 2, "isDirectory": false})
    );
    assert_eq!(all["files"][2]["path"], "file");
    let one = ok(
        "compression",
        "extract-file",
        json!({"archive": arc, "file_path": "h.txt"}),
    );
    assert_eq!(
        one,
        json!({"content": b64("hello"), "filename": "h.txt", "mimeType": "text/plain"})
    );
    let stored = ok(
        "compression",
        "create-archive",
        json!({"files": [{"file": b64("abc"), "path": "a"}], "compressionLevel": 0}),
    );
    assert_eq!(stored["filename"], "archive.zip");
    let l = ok("compression", "list-archive", json!({"archive": stored}));
    assert_eq!(l["entries"][0]["compressedSize"], 3);
    let code = |cap: &str, v: Value| err("compression", cap, v).code;
    assert_eq!(
        code("create-archive", json!({"files": []})),
        "ARCHIVE_NO_FILES"
    );
    assert_eq!(
        code("create-archive", json!({"files": [{"file": "%%"}]})),
        "ARCHIVE_DECODE_ERROR"
    );
    assert_eq!(
        code("list-archive", json!({"archive": "%%"})),
        "ARCHIVE_DECODE_ERROR"
    );
    assert_eq!(
        code("list-archive", json!({"archive": b64("not a zip")})),
        "ARCHIVE_READ_ERROR"
    );
    assert_eq!(
        code("extract-file", json!({"archive": arc, "filePath": "nope"})),
        "ARCHIVE_FILE_NOT_FOUND"
    );
    assert_eq!(
        code("list-archive", json!({"archive": arc, "format": "tar"})),
        "INPUT_DESERIALIZATION_ERROR"
    );
}

#[test]
fn compression_directory_entries() {
    use std::io::Write as _;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    w.add_directory("docs/", o).unwrap();
    w.start_file("docs\\win.csv", o).unwrap();
    w.write_all(b"a").unwrap();
    let bytes = w.finish().unwrap().into_inner();
    let arc = common::b64_encode(&bytes);
    let all = ok("compression", "extract-archive", json!({"archive": arc}));
    assert_eq!(
        all["files"][0],
        json!({"file": {"content": "", "filename": ""}, "path": "docs/", "size": 0, "isDirectory": true})
    );
    assert_eq!(all["files"][1]["file"]["filename"], "win.csv");
    assert_eq!(all["files"][1]["file"]["mimeType"], "text/csv");
    assert_eq!(
        err(
            "compression",
            "extract-file",
            json!({"archive": arc, "filePath": "docs/"})
        )
        .code,
        "ARCHIVE_IS_DIRECTORY"
    );
}

// ------------------------------------------------------------------ file

/// File tests change `RUNTARA_WORKSPACE_DIR`; run them one at a time.
static FILE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn workspace(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rt-file-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("ws")).unwrap();
    std::env::set_var("RUNTARA_WORKSPACE_DIR", d.join("ws"));
    d
}

#[test]
fn file_capabilities() {
    let _g = FILE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let d = workspace("caps");
    let f = |cap: &str, v: Value| call("file", cap, v);
    // "test" is valid base64; "hello world" is not.
    let r = f(
        "file-write-file",
        json!({"path": "a/b/t.txt", "data": "hello world"}),
    )
    .unwrap();
    assert_eq!(
        r,
        json!({"path": "a/b/t.txt", "bytes_written": 11, "created_dirs": true})
    );
    assert_eq!(
        f(
            "file-read-file",
            json!({"path": "a/b/t.txt", "response_format": "text"})
        )
        .unwrap(),
        json!("hello world")
    );
    assert_eq!(
        f("file-read-file", json!({"path": "./a/../a/b/t.txt"})).unwrap(),
        json!({"content": common::b64_encode(b"hello world"), "filename": "t.txt", "mimeType": "text/plain"})
    );
    f("file-write-file", json!({"path": "x.bin", "data": "test"})).unwrap();
    assert_eq!(
        std::fs::read(d.join("ws/x.bin")).unwrap(),
        vec![0xb5, 0xeb, 0x2d]
    );
    f(
        "file-write-file",
        json!({"path": "y.txt", "data": {"text": "yo"}}),
    )
    .unwrap();
    f(
        "file-write-file",
        json!({"path": "z.txt", "data": [104, 105]}),
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(d.join("ws/z.txt")).unwrap(), "hi");
    assert!(f(
        "file-write-file",
        json!({"path": "z.txt", "data": "x", "overwrite": false})
    )
    .is_err());
    assert!(f(
        "file-write-file",
        json!({"path": "q/r.txt", "data": "x", "create_dirs": false})
    )
    .is_err());
    let r = f(
        "file-append-file",
        json!({"path": "y.txt", "data": {"text": "!"}, "newline": true}),
    )
    .unwrap();
    assert_eq!(
        r,
        json!({"path": "y.txt", "bytes_appended": 2, "total_size": 4, "created": false})
    );
    let r = f(
        "file-append-file",
        json!({"path": "new/n.txt", "data": {"text": "1"}}),
    )
    .unwrap();
    assert_eq!(r["created"], true);
    assert!(f(
        "file-append-file",
        json!({"path": "none.txt", "data": "x", "create_if_missing": false})
    )
    .is_err());
    let list = f("file-list-files", json!({})).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "new", "x.bin", "y.txt", "z.txt"]);
    let list = f(
        "file-list-files",
        json!({"recursive": true, "pattern": "*.txt"}),
    )
    .unwrap();
    let paths: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a/b/t.txt", "new/n.txt", "y.txt", "z.txt"]);
    assert!(list[0]["modified_time"].is_u64());
    let ex = f("file-file-exists", json!({"path": "a/b/t.txt"})).unwrap();
    assert_eq!(
        ex,
        json!({"exists": true, "is_directory": false, "size": 11})
    );
    assert_eq!(
        f("file-file-exists", json!({"path": "a"})).unwrap()["is_directory"],
        true
    );
    assert_eq!(
        f("file-file-exists", json!({"path": "nope"})).unwrap(),
        json!({"exists": false, "is_directory": false, "size": null})
    );
    let r = f(
        "file-copy-file",
        json!({"source": "z.txt", "destination": "c/z2.txt"}),
    )
    .unwrap();
    assert_eq!(
        r,
        json!({"source": "z.txt", "destination": "c/z2.txt", "bytes_copied": 2})
    );
    assert!(f(
        "file-copy-file",
        json!({"source": "z.txt", "destination": "c/z2.txt"})
    )
    .is_err());
    f(
        "file-copy-file",
        json!({"source": "z.txt", "destination": "c/z2.txt", "overwrite": true}),
    )
    .unwrap();
    let r = f(
        "file-move-file",
        json!({"source": "c/z2.txt", "destination": "m.csv"}),
    )
    .unwrap();
    assert_eq!(r, json!({"source": "c/z2.txt", "destination": "m.csv"}));
    let info = f("file-get-file-info", json!({"path": "m.csv"})).unwrap();
    assert_eq!(info["name"], "m.csv");
    assert_eq!(info["extension"], "csv");
    assert_eq!(info["mime_type"], "text/csv");
    assert_eq!(info["size"], 2);
    assert!(info["modified_time"].is_u64());
    let info = f("file-get-file-info", json!({"path": "a"})).unwrap();
    assert_eq!(
        (info["extension"].clone(), info["mime_type"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(
        f("file-create-directory", json!({"path": "d1/d2"})).unwrap(),
        json!({"path": "d1/d2", "created": true})
    );
    assert_eq!(
        f("file-create-directory", json!({"path": "d1/d2"})).unwrap(),
        json!({"path": "d1/d2", "created": false})
    );
    assert!(f(
        "file-create-directory",
        json!({"path": "e1/e2", "recursive": false})
    )
    .is_err());
    assert!(f("file-delete-file", json!({"path": "a"})).is_err());
    assert_eq!(
        f("file-delete-file", json!({"path": "a", "recursive": true})).unwrap(),
        json!({"success": true, "path": "a", "items_deleted": 3})
    );
    assert_eq!(
        f("file-delete-file", json!({"path": "m.csv"})).unwrap()["items_deleted"],
        1
    );
    assert!(f("file-delete-file", json!({"path": "m.csv"})).is_err());
    assert!(f("file-delete-file", json!({"path": ""})).is_err());
    std::env::remove_var("RUNTARA_WORKSPACE_DIR");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn file_confinement_and_limits() {
    let _g = FILE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let d = workspace("conf");
    std::fs::write(d.join("secret.txt"), "s").unwrap();
    std::os::unix::fs::symlink(d.join("secret.txt"), d.join("ws/link")).unwrap();
    std::os::unix::fs::symlink(&d, d.join("ws/outdir")).unwrap();
    std::os::unix::fs::symlink(d.join("ws"), d.join("ws/self")).unwrap();
    let bad = [
        json!({"path": "/etc/passwd"}),
        json!({"path": "../secret.txt"}),
        json!({"path": "a/../../secret.txt"}),
        json!({"path": "link"}),
        json!({"path": "outdir/secret.txt"}),
        json!({"path": "outdir/new/file.txt"}),
    ];
    let caps = [
        "file-write-file",
        "file-read-file",
        "file-list-files",
        "file-delete-file",
        "file-file-exists",
        "file-create-directory",
        "file-get-file-info",
        "file-append-file",
    ];
    for cap in caps {
        for b in &bad {
            let mut i = b.clone();
            i["data"] = json!("eA==");
            let e = call("file", cap, i).unwrap_err();
            assert_eq!(
                (e.code.as_str(), e.category),
                ("CAPABILITY_ERROR", "permanent"),
                "{cap} {b}"
            );
        }
    }
    for (s, dst) in [("../secret.txt", "x"), ("link", "x"), ("self/../x", "../y")] {
        for cap in ["file-copy-file", "file-move-file"] {
            let e = call("file", cap, json!({"source": s, "destination": dst})).unwrap_err();
            assert_eq!(e.code, "CAPABILITY_ERROR");
        }
    }
    // a symlink inside the root that stays inside is fine
    call(
        "file",
        "file-write-file",
        json!({"path": "self/in.txt", "data": {"text": "ok"}}),
    )
    .unwrap();
    assert_eq!(std::fs::read_to_string(d.join("ws/in.txt")).unwrap(), "ok");
    assert!(std::fs::read_to_string(d.join("secret.txt")).unwrap() == "s");
    // size limits
    std::env::set_var("RUNTARA_MAX_FILE_SIZE", "4");
    assert!(call(
        "file",
        "file-write-file",
        json!({"path": "big", "data": {"text": "12345"}})
    )
    .is_err());
    call(
        "file",
        "file-write-file",
        json!({"path": "big", "data": {"text": "1234"}}),
    )
    .unwrap();
    assert!(call(
        "file",
        "file-append-file",
        json!({"path": "big", "data": {"text": "5"}})
    )
    .is_err());
    std::env::set_var("RUNTARA_MAX_READ_SIZE", "3");
    assert!(call("file", "file-read-file", json!({"path": "big"})).is_err());
    std::env::remove_var("RUNTARA_MAX_FILE_SIZE");
    std::env::remove_var("RUNTARA_MAX_READ_SIZE");
    std::env::remove_var("RUNTARA_WORKSPACE_DIR");
    let _ = std::fs::remove_dir_all(&d);
}

// ------------------------------------------------------------------ conformance 042–045

/// Runs the linear agent cases of the shared conformance suite (when present) step by step:
/// each Agent's `inputMapping` is evaluated, the capability called, and the Finish output
/// compared with `expected.json`.
#[test]
fn conformance_agent_cases() {
    let shared = std::env::var("RUNTARA_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let Ok(dir) = std::fs::read_dir(shared.join("conformance")) else {
        return;
    };
    let mut cases: Vec<_> = dir
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            ["042", "043", "044", "045"]
                .iter()
                .any(|c| n.starts_with(c))
        })
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 4);
    let read = |p: std::path::PathBuf| -> Value {
        std::fs::read_to_string(p)
            .ok()
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap_or(Value::Null)
    };
    for case in cases {
        let g = read(case.join("scenario.json"));
        let input = read(case.join("input.json"));
        let expected = read(case.join("expected.json"));
        let data = input.get("data").cloned().unwrap_or_else(|| json!({}));
        let mut f = crate::Frame::for_tests(data, json!({}));
        let mut cur = g["entryPoint"].as_str().unwrap().to_string();
        let out = loop {
            let step = &g["steps"][&cur];
            let mapped = crate::eval_mapping(&f, &step["inputMapping"]);
            if step["stepType"] == "Finish" {
                break mapped;
            }
            let m = step["agentId"].as_str().unwrap();
            let c = step["capabilityId"].as_str().unwrap();
            let v =
                call(m, c, mapped).unwrap_or_else(|e| panic!("{}: {cur}: {e:?}", case.display()));
            f.store_envelope(&cur, json!({"outputs": v}));
            cur = g["executionPlan"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["fromStep"] == json!(cur))
                .and_then(|e| e["toStep"].as_str())
                .unwrap()
                .to_string();
        };
        assert_eq!(out, expected["output"], "{}", case.display());
    }
}
