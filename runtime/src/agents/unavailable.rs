//! Modules known to the registry but not in this runtime (RUNTIME §9.13, §9.14): `sftp` and
//! `xlsx` (every capability `available: false`; the build fails with `E121`) and
//! `object_model` (no capabilities).

use super::{dflt, opt, req, Cap, Module, Ty};

pub static SFTP_LIST_FILES: Cap = Cap {
    id: "sftp-list-files",
    section: "9.14",
    available: false,
    side_effects: false,
    inputs: &[
        req("path", Ty::Str),
        opt("_connection", Ty::Connection).rt(),
    ],
    output: "array of file info",
};

pub static SFTP_DOWNLOAD_FILE: Cap = Cap {
    id: "sftp-download-file",
    section: "9.14",
    available: false,
    side_effects: false,
    inputs: &[
        req("path", Ty::Str),
        dflt("response_format", Ty::Str, "\"text\""),
        opt("_connection", Ty::Connection).rt(),
    ],
    output: "string (text or base64)",
};

pub static SFTP_UPLOAD_FILE: Cap = Cap {
    id: "sftp-upload-file",
    section: "9.14",
    available: false,
    side_effects: true,
    inputs: &[
        req("path", Ty::Str),
        req("content", Ty::Str),
        dflt("content_format", Ty::Str, "\"text\""),
        opt("_connection", Ty::Connection).rt(),
    ],
    output: "integer (bytes written); side effects",
};

pub static SFTP_DELETE_FILE: Cap = Cap {
    id: "sftp-delete-file",
    section: "9.14",
    available: false,
    side_effects: true,
    inputs: &[
        req("path", Ty::Str),
        opt("_connection", Ty::Connection).rt(),
    ],
    output: "`{\"success\", ...}`; side effects",
};

pub static SFTP: Module = Module {
    id: "sftp",
    secure: true,
    caps: &[
        (&SFTP_LIST_FILES, None),
        (&SFTP_DOWNLOAD_FILE, None),
        (&SFTP_UPLOAD_FILE, None),
        (&SFTP_DELETE_FILE, None),
    ],
};

pub static FROM_XLSX: Cap = Cap {
    id: "from-xlsx",
    section: "9.14",
    available: false,
    side_effects: false,
    inputs: &[
        req("data", Ty::Binary),
        opt("sheet", Ty::Str),
        dflt("has_headers", Ty::Bool, "true"),
    ],
    output: "array of rows",
};

pub static GET_SHEETS: Cap = Cap {
    id: "get-sheets",
    section: "9.14",
    available: false,
    side_effects: false,
    inputs: &[req("data", Ty::Binary)],
    output: "array of sheet info",
};

pub static XLSX: Module = Module {
    id: "xlsx",
    secure: false,
    caps: &[(&FROM_XLSX, None), (&GET_SHEETS, None)],
};

pub static OBJECT_MODEL: Module = Module {
    id: "object_model",
    secure: false,
    caps: &[],
};
