//! `crypto` module (RUNTIME §9.8).

use hmac::{Hmac, Mac};
use md5::Md5;
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::common::{b64_decode, b64_encode};
use super::{dflt, fail, prepare, req, AgentError, Cap, Module, Ty};

pub static HASH: Cap = Cap {
    id: "hash",
    section: "9.8",
    available: true,
    side_effects: false,
    inputs: &[
        req("data", Ty::Types(&["string", "object"])),
        dflt("algorithm", Ty::Str, "\"sha256\"").one_of(&["sha256", "sha512", "sha1", "md5"]),
        dflt("output_format", Ty::Str, "\"hex\"").one_of(&["hex", "base64"]),
    ],
    output: "`{\"hash\": s, \"algorithm\": s, \"format\": s}` (hex is lower case)",
};

pub static HMAC: Cap = Cap {
    id: "hmac",
    section: "9.8",
    available: true,
    side_effects: false,
    inputs: &[
        req("data", Ty::Types(&["string", "object"])),
        req("secret", Ty::Str),
        dflt("algorithm", Ty::Str, "\"hmac-sha256\"").one_of(&["hmac-sha256", "hmac-sha512"]),
        dflt("output_format", Ty::Str, "\"hex\"").one_of(&["hex", "base64"]),
    ],
    output: "`{\"hash\", \"algorithm\", \"format\"}`",
};

pub static MODULE: Module = Module {
    id: "crypto",
    secure: false,
    caps: &[(&HASH, Some(hash)), (&HMAC, Some(hmac))],
};

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

/// The bytes of a `data` input: a string's UTF-8 bytes, or a FileData's decoded content.
fn data_bytes(v: &Value) -> Result<Vec<u8>, AgentError> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Object(o) => match o.get("content").and_then(Value::as_str) {
            Some(c) => b64_decode(c.trim()).map_err(|e| {
                AgentError::plain(format!("Failed to decode base64 file content: {e}"))
            }),
            None => fail("Invalid file data: expected an object with a base64 'content' string"),
        },
        other => fail(format!(
            "Invalid data: expected a string or a FileData object, got {}",
            crate::json::type_name(other)
        )),
    }
}

fn encode(digest: &[u8], format: &str) -> String {
    if format == "base64" {
        b64_encode(digest)
    } else {
        hex(digest)
    }
}

pub fn hash(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&HASH, input)?;
    let data = data_bytes(a.value("data"))?;
    let alg = a.str("algorithm");
    let digest: Vec<u8> = match alg {
        "sha512" => Sha512::digest(&data).to_vec(),
        "sha1" => Sha1::digest(&data).to_vec(),
        "md5" => Md5::digest(&data).to_vec(),
        _ => Sha256::digest(&data).to_vec(),
    };
    let format = a.str("output_format");
    Ok(json!({"hash": encode(&digest, format), "algorithm": alg, "format": format}))
}

pub fn hmac(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&HMAC, input)?;
    let data = data_bytes(a.value("data"))?;
    let key = a.str("secret").as_bytes();
    let alg = a.str("algorithm");
    let digest: Vec<u8> = if alg == "hmac-sha512" {
        let mut m = Hmac::<Sha512>::new_from_slice(key)
            .map_err(|e| AgentError::plain(format!("Invalid HMAC key: {e}")))?;
        m.update(&data);
        m.finalize().into_bytes().to_vec()
    } else {
        let mut m = Hmac::<Sha256>::new_from_slice(key)
            .map_err(|e| AgentError::plain(format!("Invalid HMAC key: {e}")))?;
        m.update(&data);
        m.finalize().into_bytes().to_vec()
    };
    let format = a.str("output_format");
    Ok(json!({"hash": encode(&digest, format), "algorithm": alg, "format": format}))
}
