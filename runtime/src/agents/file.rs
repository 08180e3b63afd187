//! `file` module (RUNTIME §9.10): files under `RUNTARA_WORKSPACE_DIR` (default: the working
//! directory). Absolute paths and paths resolving outside the root are refused. Every error
//! is `CAPABILITY_ERROR`.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use serde_json::{json, Value};

use super::common::{b64_decode, file_data, mime_by_ext};
use super::{dflt, fail, opt, prepare, req, AgentError, Cap, Module, Ty};

pub static FILE_WRITE_FILE: Cap = Cap {
    id: "file-write-file",
    section: "9.10",
    available: true,
    side_effects: true,
    inputs: &[
        req("path", Ty::Str),
        req("data", Ty::FileData),
        dflt("create_dirs", Ty::Bool, "true"),
        dflt("overwrite", Ty::Bool, "true"),
    ],
    output: "`{\"path\", \"bytes_written\", \"created_dirs\"}`",
};

pub static FILE_READ_FILE: Cap = Cap {
    id: "file-read-file",
    section: "9.10",
    available: true,
    side_effects: false,
    inputs: &[
        req("path", Ty::Str),
        dflt("response_format", Ty::Str, "\"file\"").one_of(&["file", "text"]),
    ],
    output: "FileData (`filename` = the file's name, `mimeType` by extension, §9.1), or a string",
};

pub static FILE_LIST_FILES: Cap = Cap {
    id: "file-list-files",
    section: "9.10",
    available: true,
    side_effects: false,
    inputs: &[
        dflt("path", Ty::Str, "\"\""),
        dflt("recursive", Ty::Bool, "false"),
        opt("pattern", Ty::Str),
    ],
    output: "array of `{\"name\", \"path\", \"size\", \"is_directory\", \"modified_time\"}`",
};

pub static FILE_DELETE_FILE: Cap = Cap {
    id: "file-delete-file",
    section: "9.10",
    available: true,
    side_effects: true,
    inputs: &[req("path", Ty::Str), dflt("recursive", Ty::Bool, "false")],
    output: "`{\"success\", \"path\", \"items_deleted\"}`",
};

pub static FILE_FILE_EXISTS: Cap = Cap {
    id: "file-file-exists",
    section: "9.10",
    available: true,
    side_effects: false,
    inputs: &[req("path", Ty::Str)],
    output: "`{\"exists\", \"is_directory\", \"size\"}`",
};

pub static FILE_COPY_FILE: Cap = Cap {
    id: "file-copy-file",
    section: "9.10",
    available: true,
    side_effects: true,
    inputs: &[
        req("source", Ty::Str),
        req("destination", Ty::Str),
        dflt("overwrite", Ty::Bool, "false"),
    ],
    output: "`{\"source\", \"destination\", \"bytes_copied\"}`",
};

pub static FILE_MOVE_FILE: Cap = Cap {
    id: "file-move-file",
    section: "9.10",
    available: true,
    side_effects: true,
    inputs: &[
        req("source", Ty::Str),
        req("destination", Ty::Str),
        dflt("overwrite", Ty::Bool, "false"),
    ],
    output: "`{\"source\", \"destination\"}`",
};

pub static FILE_CREATE_DIRECTORY: Cap = Cap {
    id: "file-create-directory",
    section: "9.10",
    available: true,
    side_effects: true,
    inputs: &[req("path", Ty::Str), dflt("recursive", Ty::Bool, "true")],
    output: "`{\"path\", \"created\"}`",
};

pub static FILE_GET_FILE_INFO: Cap = Cap {
    id: "file-get-file-info",
    section: "9.10",
    available: true,
    side_effects: false,
    inputs: &[
        req("path", Ty::Str),
    ],
    output: "`{\"path\", \"name\", \"extension\", \"size\", \"is_directory\", \"created_time\", \"modified_time\", \"mime_type\"}` (times in unix seconds)",
};

pub static FILE_APPEND_FILE: Cap = Cap {
    id: "file-append-file",
    section: "9.10",
    available: true,
    side_effects: true,
    inputs: &[
        req("path", Ty::Str),
        req("data", Ty::FileData),
        dflt("create_if_missing", Ty::Bool, "true"),
        dflt("newline", Ty::Bool, "false"),
    ],
    output: "`{\"path\", \"bytes_appended\", \"total_size\", \"created\"}`",
};

pub static MODULE: Module = Module {
    id: "file",
    secure: false,
    caps: &[
        (&FILE_WRITE_FILE, Some(file_write_file)),
        (&FILE_READ_FILE, Some(file_read_file)),
        (&FILE_LIST_FILES, Some(file_list_files)),
        (&FILE_DELETE_FILE, Some(file_delete_file)),
        (&FILE_FILE_EXISTS, Some(file_file_exists)),
        (&FILE_COPY_FILE, Some(file_copy_file)),
        (&FILE_MOVE_FILE, Some(file_move_file)),
        (&FILE_CREATE_DIRECTORY, Some(file_create_directory)),
        (&FILE_GET_FILE_INFO, Some(file_get_file_info)),
        (&FILE_APPEND_FILE, Some(file_append_file)),
    ],
};

const DEFAULT_MAX_FILE_SIZE: u64 = 104_857_600;
const DEFAULT_MAX_READ_SIZE: u64 = 52_428_800;

fn env_u64(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(d)
}

fn max_write() -> u64 {
    env_u64("RUNTARA_MAX_FILE_SIZE", DEFAULT_MAX_FILE_SIZE)
}

fn max_read() -> u64 {
    env_u64("RUNTARA_MAX_READ_SIZE", DEFAULT_MAX_READ_SIZE)
}

/// The canonical workspace root.
fn root() -> Result<PathBuf, AgentError> {
    let r = match std::env::var_os("RUNTARA_WORKSPACE_DIR").filter(|s| !s.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => std::env::current_dir()
            .map_err(|e| AgentError::plain(format!("Workspace not accessible: {e}")))?,
    };
    r.canonicalize()
        .map_err(|e| AgentError::plain(format!("Workspace not accessible: {e}")))
}

/// Resolve a workspace path: relative only, no escape through `..` or symlinks.
pub(crate) fn resolve(path: &str) -> Result<PathBuf, AgentError> {
    let escape = || {
        AgentError::plain(format!(
            "Path traversal not allowed - path must be within workspace: {path}"
        ))
    };
    let p = Path::new(path);
    if p.is_absolute() || path.starts_with('/') || path.starts_with('\\') {
        return Err(AgentError::plain(format!(
            "Absolute paths are not allowed: {path}"
        )));
    }
    let root = root()?;
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => parts.push(s),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop().ok_or_else(escape)?;
            }
            _ => return Err(escape()),
        }
    }
    // Longest existing prefix (symlinks count as existing), canonicalised.
    let mut n = parts.len();
    loop {
        let mut cand = root.clone();
        cand.extend(&parts[..n]);
        if n == 0 || fs::symlink_metadata(&cand).is_ok() {
            let canon = cand.canonicalize().map_err(|_| escape())?;
            if !canon.starts_with(&root) {
                return Err(escape());
            }
            let mut full = canon;
            full.extend(&parts[n..]);
            return Ok(full);
        }
        n -= 1;
    }
}

fn rel(p: &Path) -> String {
    match root() {
        Ok(r) => p
            .strip_prefix(&r)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/"),
        Err(_) => p.to_string_lossy().into_owned(),
    }
}

fn io(what: &str, e: std::io::Error) -> AgentError {
    AgentError::plain(format!("{what}: {e}"))
}

/// *file data* (RUNTIME §9.10).
fn file_bytes(v: &Value) -> Result<Vec<u8>, AgentError> {
    match v {
        Value::String(s) => Ok(b64_decode(s).unwrap_or_else(|_| s.as_bytes().to_vec())),
        Value::Object(o) => match (o.get("content"), o.get("text")) {
            (Some(Value::String(c)), _) => b64_decode(c)
                .map_err(|e| AgentError::plain(format!("Failed to decode base64 content: {e}"))),
            (Some(_), _) => fail("FileData content must be a string"),
            (None, Some(Value::String(t))) => Ok(t.as_bytes().to_vec()),
            (None, Some(_)) => fail("text field must be a string"),
            (None, None) => fail("Object must have 'content' (base64) or 'text' field"),
        },
        Value::Array(a) => super::common::byte_array(a).map_err(|(_, m)| AgentError::plain(m)),
        other => fail(format!(
            "Data must be a string, FileData object, or byte array, got {}",
            crate::json::type_name(other)
        )),
    }
}

fn unix(t: std::io::Result<SystemTime>) -> Value {
    t.ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(Value::Null, |d| json!(d.as_secs()))
}

fn glob_match(p: &[char], s: &[char]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some('*'), _) => glob_match(&p[1..], s) || (!s.is_empty() && glob_match(p, &s[1..])),
        (Some('?'), Some(_)) => glob_match(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob_match(&p[1..], &s[1..]),
        _ => false,
    }
}

fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    glob_match(&p, &s)
}

// ------------------------------------------------------------------ capabilities

pub fn file_write_file(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FILE_WRITE_FILE, input)?;
    let path = a.str("path");
    let target = resolve(path)?;
    let bytes = file_bytes(a.value("data"))?;
    let max = max_write();
    if bytes.len() as u64 > max {
        return fail(format!(
            "File size {} bytes exceeds maximum {max} bytes",
            bytes.len()
        ));
    }
    if target.is_dir() {
        return fail(format!("'{path}' is a directory"));
    }
    if target.exists() && !a.opt_bool("overwrite").unwrap_or(true) {
        return fail(format!(
            "File '{path}' already exists and overwrite is false"
        ));
    }
    let mut created = false;
    if let Some(parent) = target.parent() {
        if !parent.exists() {
            if !a.opt_bool("create_dirs").unwrap_or(true) {
                return fail(format!(
                    "Parent directory of '{path}' does not exist and create_dirs is false"
                ));
            }
            fs::create_dir_all(parent).map_err(|e| io("Failed to create directories", e))?;
            created = true;
        }
    }
    fs::write(&target, &bytes).map_err(|e| io("Failed to write file", e))?;
    Ok(json!({"path": path, "bytes_written": bytes.len(), "created_dirs": created}))
}

pub fn file_read_file(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FILE_READ_FILE, input)?;
    let path = a.str("path");
    let target = resolve(path)?;
    let md = fs::metadata(&target).map_err(|e| io(&format!("File '{path}' not found"), e))?;
    if md.is_dir() {
        return fail(format!("'{path}' is a directory"));
    }
    let max = max_read();
    if md.len() > max {
        return fail(format!(
            "File size {} bytes exceeds maximum read size {max} bytes",
            md.len()
        ));
    }
    let mut bytes = Vec::new();
    fs::File::open(&target)
        .and_then(|f| f.take(max.saturating_add(1)).read_to_end(&mut bytes))
        .map_err(|e| io("Failed to read file", e))?;
    if bytes.len() as u64 > max {
        return fail(format!("File exceeds maximum read size {max} bytes"));
    }
    if a.str("response_format") == "text" {
        return Ok(json!(String::from_utf8_lossy(&bytes)));
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(file_data(&bytes, Some(&name), Some(mime_by_ext(&name))))
}

fn list_dir(
    dir: &Path,
    recursive: bool,
    pattern: Option<&str>,
    out: &mut Vec<Value>,
) -> Result<(), AgentError> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(|e| io("Failed to list directory", e))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let md = match fs::metadata(&p) {
            Ok(m) => m,
            Err(_) => continue,
        };
        if pattern.is_none_or(|g| glob(g, &name)) {
            out.push(json!({
                "name": name, "path": rel(&p), "size": if md.is_dir() { 0 } else { md.len() },
                "is_directory": md.is_dir(), "modified_time": unix(md.modified()),
            }));
        }
        if recursive && md.is_dir() && !fs::symlink_metadata(&p).is_ok_and(|m| m.is_symlink()) {
            list_dir(&p, true, pattern, out)?;
        }
    }
    Ok(())
}

pub fn file_list_files(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FILE_LIST_FILES, input)?;
    let path = a.str("path");
    let dir = resolve(path)?;
    if !dir.is_dir() {
        return fail(format!("Directory '{path}' not found"));
    }
    let mut out = Vec::new();
    list_dir(&dir, a.bool("recursive"), a.opt_str("pattern"), &mut out)?;
    Ok(Value::Array(out))
}

fn count_items(p: &Path) -> usize {
    match fs::read_dir(p) {
        Ok(rd) => {
            1 + rd
                .filter_map(Result::ok)
                .map(|e| {
                    let p = e.path();
                    if fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                        count_items(&p)
                    } else {
                        1
                    }
                })
                .sum::<usize>()
        }
        Err(_) => 1,
    }
}

pub fn file_delete_file(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FILE_DELETE_FILE, input)?;
    let path = a.str("path");
    let target = resolve(path)?;
    if target == root()? {
        return fail("Refusing to delete the workspace root");
    }
    let md =
        fs::symlink_metadata(&target).map_err(|e| io(&format!("Path '{path}' not found"), e))?;
    let n = if md.is_dir() {
        if a.bool("recursive") {
            let n = count_items(&target);
            fs::remove_dir_all(&target).map_err(|e| io("Failed to delete directory", e))?;
            n
        } else {
            fs::remove_dir(&target).map_err(|e| {
                io(
                    "Failed to delete directory (use recursive to delete a non-empty directory)",
                    e,
                )
            })?;
            1
        }
    } else {
        fs::remove_file(&target).map_err(|e| io("Failed to delete file", e))?;
        1
    };
    Ok(json!({"success": true, "path": path, "items_deleted": n}))
}

pub fn file_file_exists(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FILE_FILE_EXISTS, input)?;
    let target = resolve(a.str("path"))?;
    Ok(match fs::metadata(&target) {
        Ok(m) => json!({"exists": true, "is_directory": m.is_dir(), "size": m.len()}),
        Err(_) => json!({"exists": false, "is_directory": false, "size": null}),
    })
}

fn prepare_destination(dst: &Path, name: &str, overwrite: bool) -> Result<(), AgentError> {
    if dst.is_dir() {
        return fail(format!("Destination '{name}' is a directory"));
    }
    if dst.exists() && !overwrite {
        return fail(format!(
            "Destination '{name}' already exists and overwrite is false"
        ));
    }
    if let Some(parent) = dst.parent() {
        if !parent.exists() {
            fs::create_dir_all(parent).map_err(|e| io("Failed to create directories", e))?;
        }
    }
    Ok(())
}

pub fn file_copy_file(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FILE_COPY_FILE, input)?;
    let (s, d) = (a.str("source"), a.str("destination"));
    let (src, dst) = (resolve(s)?, resolve(d)?);
    let md = fs::metadata(&src).map_err(|e| io(&format!("Source '{s}' not found"), e))?;
    if md.is_dir() {
        return fail(format!("Source '{s}' is a directory"));
    }
    if md.len() > max_write() {
        return fail(format!(
            "File size {} bytes exceeds maximum {} bytes",
            md.len(),
            max_write()
        ));
    }
    prepare_destination(&dst, d, a.bool("overwrite"))?;
    let n = fs::copy(&src, &dst).map_err(|e| io("Failed to copy file", e))?;
    Ok(json!({"source": s, "destination": d, "bytes_copied": n}))
}

pub fn file_move_file(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FILE_MOVE_FILE, input)?;
    let (s, d) = (a.str("source"), a.str("destination"));
    let (src, dst) = (resolve(s)?, resolve(d)?);
    if fs::symlink_metadata(&src).is_err() {
        return fail(format!("Source '{s}' not found"));
    }
    if src == root()? {
        return fail("Refusing to move the workspace root");
    }
    prepare_destination(&dst, d, a.bool("overwrite"))?;
    fs::rename(&src, &dst).map_err(|e| io("Failed to move file", e))?;
    Ok(json!({"source": s, "destination": d}))
}

pub fn file_create_directory(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FILE_CREATE_DIRECTORY, input)?;
    let path = a.str("path");
    let target = resolve(path)?;
    if target.exists() {
        if target.is_dir() {
            return Ok(json!({"path": path, "created": false}));
        }
        return fail(format!("'{path}' exists but is not a directory"));
    }
    if a.opt_bool("recursive").unwrap_or(true) {
        fs::create_dir_all(&target).map_err(|e| io("Failed to create directories", e))?;
    } else {
        fs::create_dir(&target).map_err(|e| io("Failed to create directory", e))?;
    }
    Ok(json!({"path": path, "created": true}))
}

pub fn file_get_file_info(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FILE_GET_FILE_INFO, input)?;
    let path = a.str("path");
    let target = resolve(path)?;
    let md = fs::metadata(&target).map_err(|e| io(&format!("Path '{path}' not found"), e))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = target
        .extension()
        .map_or(Value::Null, |e| json!(e.to_string_lossy()));
    let mime = if md.is_file() {
        json!(mime_by_ext(&name))
    } else {
        Value::Null
    };
    Ok(json!({
        "path": path, "name": name, "extension": ext, "size": md.len(),
        "is_directory": md.is_dir(), "created_time": unix(md.created()),
        "modified_time": unix(md.modified()), "mime_type": mime,
    }))
}

pub fn file_append_file(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&FILE_APPEND_FILE, input)?;
    let path = a.str("path");
    let target = resolve(path)?;
    let mut bytes = file_bytes(a.value("data"))?;
    if a.bool("newline") {
        bytes.insert(0, b'\n');
    }
    if target.is_dir() {
        return fail(format!("'{path}' is a directory"));
    }
    let existed = target.exists();
    if !existed && !a.opt_bool("create_if_missing").unwrap_or(true) {
        return fail(format!(
            "File '{path}' does not exist and create_if_missing is false"
        ));
    }
    let current = if existed {
        fs::metadata(&target).map(|m| m.len()).unwrap_or(0)
    } else {
        0
    };
    let total = current + bytes.len() as u64;
    if total > max_write() {
        return fail(format!(
            "Resulting file size {total} bytes would exceed maximum {} bytes",
            max_write()
        ));
    }
    if let Some(parent) = target.parent() {
        if !parent.exists() {
            fs::create_dir_all(parent).map_err(|e| io("Failed to create directories", e))?;
        }
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&target)
        .and_then(|mut f| f.write_all(&bytes))
        .map_err(|e| io("Failed to append to file", e))?;
    let total = fs::metadata(&target).map(|m| m.len()).unwrap_or(total);
    Ok(
        json!({"path": path, "bytes_appended": bytes.len(), "total_size": total, "created": !existed}),
    )
}
