//! `compression` module (RUNTIME §9.12): zip archives in memory.

use std::io::{Cursor, Read, Write};

use serde_json::{json, Value};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::common::{b64_encode, binary_input_as, file_data, mime_by_ext};
use super::{dflt, opt, prepare, req, AgentError, Cap, Module, Ty};

pub static CREATE_ARCHIVE: Cap = Cap {
    id: "create-archive",
    section: "9.12",
    available: true,
    side_effects: false,
    inputs: &[
        req("files", Ty::Array).items("object"),
        dflt("format", Ty::Str, "\"zip\"").one_of(&["zip"]),
        dflt("compressionLevel", Ty::UInt, "6").alias(&["compression_level"]),
        opt("archiveName", Ty::Str).alias(&["archive_name"]),
    ],
    output: "FileData `{content, filename: archiveName or \"archive.zip\", mimeType: \"application/zip\"}`. An entry's path is `path`, else the file's `filename`, else `\"file\"`. Errors `ARCHIVE_NO_FILES`, `ARCHIVE_DECODE_ERROR`, `ARCHIVE_WRITE_ERROR`.",
};

pub static EXTRACT_ARCHIVE: Cap = Cap {
    id: "extract-archive",
    section: "9.12",
    available: true,
    side_effects: false,
    inputs: &[
        req("archive", Ty::Types(&["string", "object"])),
        opt("format", Ty::Str).one_of(&["zip"]),
    ],
    output: "`{\"files\": [{\"file\": FileData, \"path\", \"size\", \"isDirectory\"}], \"count\"}`. Each `file` has `filename` = the text after the last `/` or `\\` of the entry path, and `mimeType` by extension (§9.1). A directory entry (`docs/`) has content `\"\"`, `filename` `\"\"` and no `mimeType`. Errors `ARCHIVE_DECODE_ERROR`, `ARCHIVE_READ_ERROR`.",
};

pub static EXTRACT_FILE: Cap = Cap {
    id: "extract-file",
    section: "9.12",
    available: true,
    side_effects: false,
    inputs: &[
        req("archive", Ty::Types(&["string", "object"])),
        req("filePath", Ty::Str).alias(&["file_path"]),
        opt("format", Ty::Str).one_of(&["zip"]),
    ],
    output: "FileData with `filename` = the text after the last `/` or `\\` of `filePath`, and `mimeType` by extension (§9.1). Errors `ARCHIVE_FILE_NOT_FOUND`, `ARCHIVE_IS_DIRECTORY`, plus the above.",
};

pub static LIST_ARCHIVE: Cap = Cap {
    id: "list-archive",
    section: "9.12",
    available: true,
    side_effects: false,
    inputs: &[
        req("archive", Ty::Types(&["string", "object"])),
        opt("format", Ty::Str).one_of(&["zip"]),
    ],
    output: "`{\"entries\": [{\"path\", \"size\", \"compressedSize\", \"isDirectory\"}], \"totalCount\", \"totalSize\", \"format\": \"zip\"}`",
};

pub static MODULE: Module = Module {
    id: "compression",
    secure: false,
    caps: &[
        (&CREATE_ARCHIVE, Some(create_archive)),
        (&EXTRACT_ARCHIVE, Some(extract_archive)),
        (&EXTRACT_FILE, Some(extract_file)),
        (&LIST_ARCHIVE, Some(list_archive)),
    ],
};

fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn open_archive(v: &Value) -> Result<ZipArchive<Cursor<Vec<u8>>>, AgentError> {
    let bytes = match v {
        Value::String(_) | Value::Object(_) => binary_input_as(v, "ARCHIVE_DECODE_ERROR")?,
        other => {
            return Err(AgentError::new(
                "ARCHIVE_DECODE_ERROR",
                format!(
                    "Archive must be a FileData object or a base64 string, got {}",
                    crate::json::type_name(other)
                ),
            ))
        }
    };
    ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| AgentError::new("ARCHIVE_READ_ERROR", format!("Failed to read archive: {e}")))
}

fn rerr(e: impl std::fmt::Display) -> AgentError {
    AgentError::new("ARCHIVE_READ_ERROR", format!("Failed to read archive: {e}"))
}

fn werr(e: impl std::fmt::Display) -> AgentError {
    AgentError::new(
        "ARCHIVE_WRITE_ERROR",
        format!("Failed to write archive: {e}"),
    )
}

pub fn create_archive(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&CREATE_ARCHIVE, input)?;
    let files = a
        .get("files")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if files.is_empty() {
        return Err(AgentError::new("ARCHIVE_NO_FILES", "No files to archive"));
    }
    let level = a.opt_u64("compressionLevel").unwrap_or(6).min(9);
    let opts = if level == 0 {
        SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
    } else {
        SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(level as i64))
    };
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (i, f) in files.iter().enumerate() {
        let file = f.get("file").unwrap_or(&Value::Null);
        let bytes = binary_input_as(file, "ARCHIVE_DECODE_ERROR")
            .map_err(|e| AgentError::new(&e.code, format!("File {i}: {}", e.message)))?;
        let path = f
            .get("path")
            .and_then(Value::as_str)
            .or_else(|| file.get("filename").and_then(Value::as_str))
            .unwrap_or("file");
        w.start_file(path, opts).map_err(werr)?;
        w.write_all(&bytes).map_err(werr)?;
    }
    let out = w.finish().map_err(werr)?.into_inner();
    let name = a.opt_str("archiveName").unwrap_or("archive.zip");
    Ok(file_data(&out, Some(name), Some("application/zip")))
}

pub fn extract_archive(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&EXTRACT_ARCHIVE, input)?;
    let mut z = open_archive(a.value("archive"))?;
    let mut files = Vec::new();
    for i in 0..z.len() {
        let mut e = z.by_index(i).map_err(rerr)?;
        let path = e.name().to_string();
        if e.is_dir() {
            files.push(
                json!({"file": {"content": "", "filename": ""}, "path": path,
                              "size": 0, "isDirectory": true}),
            );
            continue;
        }
        let mut buf = Vec::new();
        e.read_to_end(&mut buf).map_err(rerr)?;
        let name = base_name(&path);
        files.push(json!({
            "file": {"content": b64_encode(&buf), "filename": name, "mimeType": mime_by_ext(name)},
            "path": path, "size": buf.len(), "isDirectory": false,
        }));
    }
    let n = files.len();
    Ok(json!({"files": files, "count": n}))
}

pub fn extract_file(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&EXTRACT_FILE, input)?;
    let mut z = open_archive(a.value("archive"))?;
    let want = a.str("filePath").to_string();
    let idx = z.index_for_name(&want).ok_or_else(|| {
        AgentError::new(
            "ARCHIVE_FILE_NOT_FOUND",
            format!("File not found in archive: {want}"),
        )
        .attr("file_path", want.as_str())
    })?;
    let mut e = z.by_index(idx).map_err(rerr)?;
    if e.is_dir() {
        return Err(AgentError::new(
            "ARCHIVE_IS_DIRECTORY",
            format!("Archive entry is a directory: {want}"),
        ));
    }
    let mut buf = Vec::new();
    e.read_to_end(&mut buf).map_err(rerr)?;
    let name = base_name(&want);
    Ok(file_data(&buf, Some(name), Some(mime_by_ext(name))))
}

pub fn list_archive(input: Value) -> Result<Value, AgentError> {
    let a = prepare(&LIST_ARCHIVE, input)?;
    let mut z = open_archive(a.value("archive"))?;
    let mut entries = Vec::new();
    let mut total: u64 = 0;
    for i in 0..z.len() {
        let e = z.by_index_raw(i).map_err(rerr)?;
        total += e.size();
        entries.push(json!({"path": e.name(), "size": e.size(),
                            "compressedSize": e.compressed_size(), "isDirectory": e.is_dir()}));
    }
    let n = entries.len();
    Ok(json!({"entries": entries, "totalCount": n, "totalSize": total, "format": "zip"}))
}
