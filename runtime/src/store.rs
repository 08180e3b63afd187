//! Embedded SQLite store (RUNTIME §4.2).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::config::DbConfig;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS instances (
  instance_id    TEXT PRIMARY KEY,
  tenant_id      TEXT NOT NULL,
  scenario_id    TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('running','suspended','completed','failed','cancelled')),
  input          TEXT NOT NULL,
  output         TEXT,
  error          TEXT,
  suspend_reason TEXT,
  wake_at_ms     INTEGER,
  checkpoint_id  TEXT,
  created_at_ms  INTEGER NOT NULL,
  updated_at_ms  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  instance_id   TEXT NOT NULL,
  checkpoint_id TEXT NOT NULL,
  state         BLOB NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (instance_id, checkpoint_id)
);
CREATE TABLE IF NOT EXISTS signals (
  instance_id        TEXT PRIMARY KEY,
  signal_type        TEXT NOT NULL CHECK (signal_type IN ('cancel','pause','resume')),
  payload            BLOB,
  created_at_ms      INTEGER NOT NULL,
  acknowledged_at_ms INTEGER
);
CREATE TABLE IF NOT EXISTS custom_signals (
  instance_id   TEXT NOT NULL,
  signal_id     TEXT NOT NULL,
  payload       BLOB NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (instance_id, signal_id)
);
CREATE TABLE IF NOT EXISTS events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id   TEXT NOT NULL,
  event_type    TEXT NOT NULL,
  subtype       TEXT,
  payload       BLOB,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_instance ON events(instance_id, id);
";

struct Pending {
    event_type: String,
    subtype: Option<String>,
    payload: Option<String>,
    at: i64,
}

struct Inner {
    conn: Connection,
    events: Vec<Pending>,
    /// `PRAGMA data_version` when the signals table was last read and held no pending
    /// instance signal. The value changes only when another connection commits, so while it
    /// stays the same the signals SELECT would find nothing new (RUNTIME §6.2).
    quiet_version: Option<i64>,
    /// The instance had no checkpoint when this run registered. Only the process running an
    /// instance writes its checkpoints (RUNTIME §4.3), so then a key this process has not
    /// written is absent without asking SQLite.
    fresh: bool,
    /// Checkpoint keys written by this process (used only while `fresh`).
    written: HashSet<String>,
}

/// One instance's view of the store. All operations are serialised by a mutex.
pub struct Store {
    inner: Mutex<Inner>,
    instance: String,
}

/// What `register` found.
pub struct Registered {
    /// Status before this run (`None` for a new instance).
    pub previous: Option<String>,
    /// The stored input document (compact JSON).
    pub input: String,
    /// The stored output of a completed instance.
    pub output: Option<String>,
    /// The instance exists and `same_input` refused its stored input: nothing was changed.
    pub mismatch: bool,
}

type R<T> = Result<T, String>;

fn err(e: rusqlite::Error) -> String {
    e.to_string()
}

const SELECT_STATE: &str =
    "SELECT state FROM checkpoints WHERE instance_id = ?1 AND checkpoint_id = ?2";

/// Run one statement through the connection's statement cache.
fn exec(c: &Connection, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(p)
}

/// Run a statement without parameters (BEGIN, COMMIT, ROLLBACK), cached.
fn run(c: &Connection, sql: &str) -> rusqlite::Result<()> {
    exec(c, sql, []).map(|_| ())
}

/// `put` inside a transaction (RUNTIME §4.2): `INSERT OR IGNORE`, then the stored state.
/// Returns `None` when this call inserted `state` (the stored state is `state` itself, so the
/// read-back is skipped), else the state that was already stored.
fn put_in(
    c: &Connection,
    instance: &str,
    key: &str,
    state: &str,
    now: i64,
) -> rusqlite::Result<Option<String>> {
    let n = exec(
        c,
        "INSERT OR IGNORE INTO checkpoints (instance_id, checkpoint_id, state, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
        params![instance, key, state.as_bytes(), now],
    )?;
    if n > 0 {
        exec(
            c,
            "UPDATE instances SET checkpoint_id = ?2, updated_at_ms = ?3 WHERE instance_id = ?1",
            params![instance, key, now],
        )?;
        return Ok(None);
    }
    let b: Vec<u8> = c
        .prepare_cached(SELECT_STATE)?
        .query_row(params![instance, key], |r| r.get(0))?;
    Ok(Some(String::from_utf8_lossy(&b).into_owned()))
}

/// Switch a store to WAL mode, waiting up to the busy timeout. Processes that create a
/// store at the same moment contend for it: the switch needs the file to themselves, and
/// when it cannot be made SQLite answers with the old mode (or "database is locked")
/// rather than an error. A process that went on in rollback mode would fail its first
/// concurrent commit (seen once in CI: one of twenty instances created together failed
/// with STORE_ERROR "database is locked").
fn wal_mode(conn: &Connection) -> R<()> {
    let deadline = std::time::Instant::now() + Duration::from_millis(10_000);
    loop {
        let mode = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0));
        match mode {
            Ok(m) if m.eq_ignore_ascii_case("wal") || m.eq_ignore_ascii_case("memory") => {
                return Ok(())
            }
            Ok(m) if std::time::Instant::now() >= deadline => {
                return Err(format!(
                    "the store must be in WAL mode, but it stayed in {m} mode"
                ))
            }
            Err(e) if std::time::Instant::now() >= deadline => return Err(err(e)),
            Err(e) if e.sqlite_error_code() != Some(rusqlite::ErrorCode::DatabaseBusy) => {
                return Err(err(e))
            }
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

impl Store {
    /// Open (creating if needed) the store file. `full` selects `synchronous=FULL`.
    pub fn open(path: &str, full: bool, instance: &str) -> R<Store> {
        crate::sqlmem::install();
        let conn = if walbuf::register() {
            Connection::open_with_flags_and_vfs(path, OpenFlags::default(), walbuf::NAME)
        } else {
            Connection::open(path)
        }
        .map_err(err)?;
        Self::setup(conn, full, instance)
    }

    /// An in-memory store (tests).
    pub fn memory(instance: &str) -> Store {
        let conn = Connection::open_in_memory().expect("in-memory sqlite");
        Self::setup(conn, false, instance).expect("in-memory schema")
    }

    fn setup(conn: Connection, full: bool, instance: &str) -> R<Store> {
        let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
        // Every statement the store runs is prepared once per process (`prepare_cached`).
        conn.set_prepared_statement_cache_capacity(32);
        conn.busy_timeout(Duration::from_millis(10_000))
            .map_err(err)?;
        // A new store gets 1 KiB pages (before WAL mode writes its first page; an existing
        // file keeps its page size). A step commits about six small rows in different
        // b-trees, one page each: with 4 KiB pages that is ~25 KB of WAL per step, which
        // every checkpoint must fsync. See docs/STORE.md, "Page size".
        conn.execute_batch("PRAGMA page_size=1024").map_err(err)?;
        wal_mode(&conn)?;
        conn.execute_batch(if full {
            "PRAGMA synchronous=FULL;"
        } else {
            "PRAGMA synchronous=NORMAL;"
        })
        .map_err(err)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if version < 1 {
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE;{SCHEMA}PRAGMA user_version = 1;COMMIT;"
            ))
            .map_err(err)?;
        }
        Ok(Store {
            inner: Mutex::new(Inner {
                conn,
                events: Vec::new(),
                quiet_version: None,
                fresh: false,
                written: HashSet::new(),
            }),
            instance: instance.to_string(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn flush(&self, inner: &mut Inner) -> R<()> {
        if inner.events.is_empty() {
            return Ok(());
        }
        let events = std::mem::take(&mut inner.events);
        let mut stmt = inner
            .conn
            .prepare_cached(
                "INSERT INTO events (instance_id, event_type, subtype, payload, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(err)?;
        for e in events {
            stmt.execute(params![
                self.instance,
                e.event_type,
                e.subtype,
                e.payload.map(|p| p.into_bytes()),
                e.at
            ])
            .map_err(err)?;
        }
        Ok(())
    }

    /// Run `f` in one IMMEDIATE transaction, writing buffered events first.
    fn tx<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> R<T> {
        self.tx_writing(None, f)
    }

    /// [`Store::tx`] for a transaction that may write checkpoint `key`: once it commits, the
    /// key is recorded (under the same lock) so that `lookup` asks SQLite for it.
    fn tx_writing<T>(
        &self,
        key: Option<&str>,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> R<T> {
        let mut inner = self.lock();
        run(&inner.conn, "BEGIN IMMEDIATE").map_err(err)?;
        let res = self
            .flush(&mut inner)
            .and_then(|_| f(&inner.conn).map_err(err));
        match res {
            Ok(v) => match run(&inner.conn, "COMMIT") {
                Ok(()) => {
                    if let Some(k) = key.filter(|_| inner.fresh) {
                        inner.written.insert(k.to_string());
                    }
                    Ok(v)
                }
                Err(e) => {
                    let _ = run(&inner.conn, "ROLLBACK");
                    Err(err(e))
                }
            },
            Err(e) => {
                let _ = run(&inner.conn, "ROLLBACK");
                Err(e)
            }
        }
    }

    /// Buffer an event; it is written with the next transaction.
    pub fn event(&self, event_type: &str, subtype: Option<&str>, payload: Option<String>) {
        self.lock().events.push(Pending {
            event_type: event_type.to_string(),
            subtype: subtype.map(str::to_string),
            payload,
            at: now_ms(),
        });
    }

    /// Write the buffered events now.
    pub fn flush_events(&self) -> R<()> {
        self.tx(|_| Ok(()))
    }

    /// Create or load the instance (RUNTIME §4.1). For an existing instance, `same_input` is
    /// asked about the stored input first; if it refuses, nothing changes (`INPUT_MISMATCH`).
    pub fn register(
        &self,
        tenant: &str,
        scenario: &str,
        input: &str,
        same_input: impl FnOnce(&str) -> bool,
    ) -> R<Registered> {
        let now = now_ms();
        let (reg, fresh) = self.tx(|c| {
            let row: Option<(String, String, Option<String>)> = c
                .prepare_cached("SELECT status, input, output FROM instances WHERE instance_id = ?1")?
                .query_row(params![self.instance], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            let fresh = !c
                .prepare_cached("SELECT 1 FROM checkpoints WHERE instance_id = ?1 LIMIT 1")?
                .exists(params![self.instance])?;
            let reg = match row {
                None => {
                    exec(
                        c,
                        "INSERT INTO instances (instance_id, tenant_id, scenario_id, status, input, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?5)",
                        params![self.instance, tenant, scenario, input, now],
                    )?;
                    Registered { previous: None, input: input.to_string(), output: None, mismatch: false }
                }
                Some((status, stored, output)) => {
                    if !same_input(&stored) {
                        return Ok((Registered { previous: Some(status), input: stored, output, mismatch: true }, false));
                    }
                    if status != "cancelled" && status != "completed" {
                        exec(
                            c,
                            "UPDATE instances SET status = 'running', suspend_reason = NULL, wake_at_ms = NULL, updated_at_ms = ?2 WHERE instance_id = ?1",
                            params![self.instance, now],
                        )?;
                    }
                    Registered { previous: Some(status), input: stored, output, mismatch: false }
                }
            };
            Ok((reg, fresh))
        })?;
        self.lock().fresh = fresh;
        Ok(reg)
    }

    /// Read-only checkpoint lookup.
    pub fn lookup(&self, key: &str) -> R<Option<String>> {
        let inner = self.lock();
        if inner.fresh && !inner.written.contains(key) {
            return Ok(None);
        }
        let v: Option<Vec<u8>> = inner
            .conn
            .prepare_cached(SELECT_STATE)
            .map_err(err)?
            .query_row(params![self.instance, key], |r| r.get(0))
            .optional()
            .map_err(err)?;
        Ok(v.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Get-or-put a checkpoint; returns the stored state.
    pub fn put(&self, key: &str, state: &str) -> R<String> {
        let now = now_ms();
        let stored = self.tx_writing(Some(key), |c| put_in(c, &self.instance, key, state, now))?;
        Ok(stored.unwrap_or_else(|| state.to_string()))
    }

    /// The pending unacknowledged instance signal type, if any.
    ///
    /// Reads `PRAGMA data_version` first: when no other connection has committed since the
    /// last read found nothing pending, the signals table cannot have changed (only this
    /// process writes its own acknowledgements), and the SELECT is skipped.
    pub fn poll_signal(&self) -> R<Option<String>> {
        let mut inner = self.lock();
        let version: i64 = inner
            .conn
            .prepare_cached("PRAGMA data_version")
            .map_err(err)?
            .query_row([], |r| r.get(0))
            .map_err(err)?;
        if inner.quiet_version == Some(version) {
            return Ok(None);
        }
        let r: Option<String> = inner
            .conn
            .prepare_cached("SELECT signal_type FROM signals WHERE instance_id = ?1 AND acknowledged_at_ms IS NULL")
            .map_err(err)?
            .query_row(params![self.instance], |r| r.get(0))
            .optional()
            .map_err(err)?;
        inner.quiet_version = if r.is_none() { Some(version) } else { None };
        Ok(r)
    }

    /// Acknowledge the pending signal and apply its status change (unless `keep_status`).
    pub fn ack_signal(&self, kind: &str, keep_status: bool) -> R<()> {
        let now = now_ms();
        self.tx(|c| {
            exec(
                c,
                "UPDATE signals SET acknowledged_at_ms = ?2 WHERE instance_id = ?1 AND acknowledged_at_ms IS NULL",
                params![self.instance, now],
            )?;
            if !keep_status {
                match kind {
                    "cancel" => {
                        exec(
                            c,
                            "UPDATE instances SET status = 'cancelled', updated_at_ms = ?2 WHERE instance_id = ?1",
                            params![self.instance, now],
                        )?;
                        exec(
                            c,
                            "INSERT INTO events (instance_id, event_type, created_at_ms) VALUES (?1, 'cancelled', ?2)",
                            params![self.instance, now],
                        )?;
                    }
                    "pause" => {
                        exec(
                            c,
                            "UPDATE instances SET status = 'suspended', suspend_reason = 'paused', wake_at_ms = NULL, updated_at_ms = ?2 WHERE instance_id = ?1",
                            params![self.instance, now],
                        )?;
                        exec(
                            c,
                            "INSERT INTO events (instance_id, event_type, payload, created_at_ms) VALUES (?1, 'suspended', ?2, ?3)",
                            params![self.instance, br#"{"reason":"paused","wake_at_ms":null}"#.to_vec(), now],
                        )?;
                    }
                    _ => {}
                }
            }
            Ok(())
        })
    }

    /// Atomically take a custom signal and store it as checkpoint `key` (`{"payload": p}`).
    /// Returns the stored checkpoint state when a signal was taken.
    pub fn take_custom_into(
        &self,
        signal_id: &str,
        key: &str,
        make_state: impl FnOnce(&[u8]) -> String,
    ) -> R<Option<String>> {
        let now = now_ms();
        self.tx_writing(Some(key), |c| {
            let p: Option<Vec<u8>> = c
                .prepare_cached(
                    "SELECT payload FROM custom_signals WHERE instance_id = ?1 AND signal_id = ?2",
                )?
                .query_row(params![self.instance, signal_id], |r| r.get(0))
                .optional()?;
            let Some(p) = p else { return Ok(None) };
            exec(
                c,
                "DELETE FROM custom_signals WHERE instance_id = ?1 AND signal_id = ?2",
                params![self.instance, signal_id],
            )?;
            let state = make_state(&p);
            let stored = put_in(c, &self.instance, key, &state, now)?;
            Ok(Some(stored.unwrap_or(state)))
        })
    }

    fn finish(
        &self,
        status: &str,
        col: &str,
        text: Option<&str>,
        event: &str,
        payload: Option<String>,
    ) -> R<()> {
        let now = now_ms();
        self.tx(|c| {
            let sql = format!(
                "UPDATE instances SET status = ?2, {col} = ?3, updated_at_ms = ?4 WHERE instance_id = ?1 AND status != 'cancelled'"
            );
            exec(c, &sql, params![self.instance, status, text, now])?;
            exec(
                c,
                "INSERT INTO events (instance_id, event_type, payload, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![self.instance, event, payload.map(|p| p.into_bytes()), now],
            )?;
            Ok(())
        })
    }

    pub fn complete(&self, output: &str) -> R<()> {
        self.finish(
            "completed",
            "output",
            Some(output),
            "completed",
            Some(output.to_string()),
        )
    }

    pub fn fail(&self, error: &str) -> R<()> {
        self.finish(
            "failed",
            "error",
            Some(error),
            "failed",
            Some(error.to_string()),
        )
    }

    pub fn suspend(&self, reason: &str, wake_at: Option<i64>) -> R<()> {
        let now = now_ms();
        let payload =
            crate::json::to_string(&serde_json::json!({"reason": reason, "wake_at_ms": wake_at}));
        self.tx(|c| {
            exec(
                c,
                "UPDATE instances SET status = 'suspended', suspend_reason = ?2, wake_at_ms = ?3, updated_at_ms = ?4 WHERE instance_id = ?1 AND status != 'cancelled'",
                params![self.instance, reason, wake_at, now],
            )?;
            exec(
                c,
                "INSERT INTO events (instance_id, event_type, payload, created_at_ms) VALUES (?1, 'suspended', ?2, ?3)",
                params![self.instance, payload.into_bytes(), now],
            )?;
            Ok(())
        })
    }

    /// The instance's current status (tests and tools).
    pub fn status(&self) -> R<Option<String>> {
        let inner = self.lock();
        inner
            .conn
            .query_row(
                "SELECT status FROM instances WHERE instance_id = ?1",
                params![self.instance],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)
    }
}

/// A VFS over SQLite's default one that hands each commit to the kernel in one write (or
/// 64 KiB pieces of it).
///
/// SQLite appends a WAL frame as two writes (its 24-byte header, then the page), so a step's
/// commit of ~8 frames was ~16 `pwrite`s. WAL files opened through this VFS collect
/// contiguous writes in a buffer and write it when the commit frame's page arrives (a frame
/// header with a non-zero "database size" field marks the commit frame), before SQLite
/// publishes the commit in the wal-index; an error of that write is the error of SQLite's
/// write, so a failed commit fails as before. The buffer is also written before any other
/// operation on the file (read, sync, truncate, size, file control, close), when a write is
/// not contiguous, and when it exceeds 1 MiB. Other files use the default VFS unchanged.
mod walbuf {
    use std::ffi::{c_int, c_void, CStr};
    use std::ptr;
    use std::sync::atomic::{AtomicPtr, Ordering};
    use std::sync::OnceLock;

    use rusqlite::ffi;

    pub const NAME: &str = "runtara-wal";
    const ZNAME: &CStr = c"runtara-wal";
    const CAP: usize = 1 << 20;
    /// Largest single write handed to the unix VFS.
    const CHUNK: usize = 64 << 10;
    const FRAME_HEADER: c_int = 24;

    static ROOT: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(ptr::null_mut());

    #[repr(C)]
    struct WalFile {
        base: ffi::sqlite3_file,
        real: *mut ffi::sqlite3_file,
        buf: Vec<u8>,
        off: i64,
        commit_header: bool,
    }

    /// Register the VFS once; false if that failed (the default VFS is used then).
    pub fn register() -> bool {
        static DONE: OnceLock<bool> = OnceLock::new();
        *DONE.get_or_init(|| unsafe {
            let root = ffi::sqlite3_vfs_find(ptr::null());
            if root.is_null() || (*root).iVersion < 1 {
                return false;
            }
            ROOT.store(root, Ordering::SeqCst);
            let mut vfs: ffi::sqlite3_vfs = ptr::read(root);
            vfs.pNext = ptr::null_mut();
            vfs.zName = ZNAME.as_ptr();
            vfs.szOsFile = (*root).szOsFile + std::mem::size_of::<WalFile>() as c_int;
            vfs.xOpen = Some(x_open);
            let vfs: &'static mut ffi::sqlite3_vfs = Box::leak(Box::new(vfs));
            ffi::sqlite3_vfs_register(vfs, 0) == ffi::SQLITE_OK
        })
    }

    unsafe fn root() -> *mut ffi::sqlite3_vfs {
        ROOT.load(Ordering::SeqCst)
    }

    unsafe fn real_methods(f: *mut WalFile) -> &'static ffi::sqlite3_io_methods {
        &*(*(*f).real).pMethods
    }

    unsafe extern "C" fn x_open(
        _vfs: *mut ffi::sqlite3_vfs,
        name: ffi::sqlite3_filename,
        file: *mut ffi::sqlite3_file,
        flags: c_int,
        out_flags: *mut c_int,
    ) -> c_int {
        let root = root();
        let open = (*root).xOpen.expect("default VFS has xOpen");
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            return open(root, name, file, flags, out_flags);
        }
        let f = file as *mut WalFile;
        let real = (file as *mut u8).add(std::mem::size_of::<WalFile>()) as *mut ffi::sqlite3_file;
        (*real).pMethods = ptr::null();
        let rc = open(root, name, real, flags, out_flags);
        if rc != ffi::SQLITE_OK || (*real).pMethods.is_null() {
            (*file).pMethods = ptr::null();
            return if rc != ffi::SQLITE_OK {
                rc
            } else {
                ffi::SQLITE_CANTOPEN
            };
        }
        ptr::write(
            f,
            WalFile {
                base: ffi::sqlite3_file { pMethods: &METHODS },
                real,
                buf: Vec::new(),
                off: 0,
                commit_header: false,
            },
        );
        ffi::SQLITE_OK
    }

    /// Write the buffered bytes, if any.
    unsafe fn flush(f: *mut WalFile) -> c_int {
        let f = &mut *f;
        if f.buf.is_empty() {
            return ffi::SQLITE_OK;
        }
        let write = (*(*f.real).pMethods).xWrite.expect("xWrite");
        let mut rc = ffi::SQLITE_OK;
        let mut off = f.off;
        // The unix VFS takes writes below 128 KiB only (`seekAndWrite` masks the length).
        for chunk in f.buf.chunks(CHUNK) {
            rc = write(
                f.real,
                chunk.as_ptr() as *const c_void,
                chunk.len() as c_int,
                off,
            );
            if rc != ffi::SQLITE_OK {
                break;
            }
            off += chunk.len() as i64;
        }
        f.buf.clear();
        f.commit_header = false;
        rc
    }

    unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
        let f = file as *mut WalFile;
        let rc = flush(f);
        let close = real_methods(f).xClose.expect("xClose");
        let rc2 = close((*f).real);
        ptr::drop_in_place(ptr::addr_of_mut!((*f).buf));
        (*file).pMethods = ptr::null();
        if rc != ffi::SQLITE_OK {
            rc
        } else {
            rc2
        }
    }

    unsafe extern "C" fn x_read(
        file: *mut ffi::sqlite3_file,
        out: *mut c_void,
        amt: c_int,
        off: i64,
    ) -> c_int {
        let f = file as *mut WalFile;
        let rc = flush(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        real_methods(f).xRead.expect("xRead")((*f).real, out, amt, off)
    }

    unsafe extern "C" fn x_write(
        file: *mut ffi::sqlite3_file,
        data: *const c_void,
        amt: c_int,
        off: i64,
    ) -> c_int {
        let f = file as *mut WalFile;
        if amt <= 0 {
            return real_methods(f).xWrite.expect("xWrite")((*f).real, data, amt, off);
        }
        let fr = &mut *f;
        if !fr.buf.is_empty() && off != fr.off + fr.buf.len() as i64 {
            let rc = flush(f);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
        }
        let fr = &mut *f;
        if fr.buf.is_empty() {
            fr.off = off;
        }
        let bytes = std::slice::from_raw_parts(data as *const u8, amt as usize);
        fr.buf.extend_from_slice(bytes);
        if amt == FRAME_HEADER {
            // A frame header: bytes 4..8 are the database size after a commit, 0 otherwise.
            if bytes[4..8] != [0, 0, 0, 0] {
                fr.commit_header = true;
            }
            return ffi::SQLITE_OK;
        }
        if fr.commit_header || fr.buf.len() >= CAP {
            return flush(f);
        }
        ffi::SQLITE_OK
    }

    unsafe extern "C" fn x_truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
        let f = file as *mut WalFile;
        let rc = flush(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        real_methods(f).xTruncate.expect("xTruncate")((*f).real, size)
    }

    unsafe extern "C" fn x_sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
        let f = file as *mut WalFile;
        let rc = flush(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        real_methods(f).xSync.expect("xSync")((*f).real, flags)
    }

    unsafe extern "C" fn x_file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
        let f = file as *mut WalFile;
        let rc = flush(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        real_methods(f).xFileSize.expect("xFileSize")((*f).real, size)
    }

    unsafe extern "C" fn x_lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
        let f = file as *mut WalFile;
        real_methods(f).xLock.expect("xLock")((*f).real, level)
    }

    unsafe extern "C" fn x_unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
        let f = file as *mut WalFile;
        real_methods(f).xUnlock.expect("xUnlock")((*f).real, level)
    }

    unsafe extern "C" fn x_check_reserved_lock(
        file: *mut ffi::sqlite3_file,
        out: *mut c_int,
    ) -> c_int {
        let f = file as *mut WalFile;
        real_methods(f)
            .xCheckReservedLock
            .expect("xCheckReservedLock")((*f).real, out)
    }

    unsafe extern "C" fn x_file_control(
        file: *mut ffi::sqlite3_file,
        op: c_int,
        arg: *mut c_void,
    ) -> c_int {
        let f = file as *mut WalFile;
        let rc = flush(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        real_methods(f).xFileControl.expect("xFileControl")((*f).real, op, arg)
    }

    unsafe extern "C" fn x_sector_size(file: *mut ffi::sqlite3_file) -> c_int {
        let f = file as *mut WalFile;
        real_methods(f).xSectorSize.expect("xSectorSize")((*f).real)
    }

    unsafe extern "C" fn x_device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
        let f = file as *mut WalFile;
        real_methods(f)
            .xDeviceCharacteristics
            .expect("xDeviceCharacteristics")((*f).real)
    }

    unsafe extern "C" fn x_shm_map(
        file: *mut ffi::sqlite3_file,
        page: c_int,
        size: c_int,
        extend: c_int,
        out: *mut *mut c_void,
    ) -> c_int {
        let f = file as *mut WalFile;
        match real_methods(f).xShmMap {
            Some(m) => m((*f).real, page, size, extend, out),
            None => ffi::SQLITE_IOERR,
        }
    }

    unsafe extern "C" fn x_shm_lock(
        file: *mut ffi::sqlite3_file,
        offset: c_int,
        n: c_int,
        flags: c_int,
    ) -> c_int {
        let f = file as *mut WalFile;
        match real_methods(f).xShmLock {
            Some(m) => m((*f).real, offset, n, flags),
            None => ffi::SQLITE_IOERR,
        }
    }

    unsafe extern "C" fn x_shm_barrier(file: *mut ffi::sqlite3_file) {
        let f = file as *mut WalFile;
        if let Some(m) = real_methods(f).xShmBarrier {
            m((*f).real)
        }
    }

    unsafe extern "C" fn x_shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
        let f = file as *mut WalFile;
        match real_methods(f).xShmUnmap {
            Some(m) => m((*f).real, delete),
            None => ffi::SQLITE_OK,
        }
    }

    unsafe extern "C" fn x_fetch(
        file: *mut ffi::sqlite3_file,
        off: i64,
        amt: c_int,
        out: *mut *mut c_void,
    ) -> c_int {
        let f = file as *mut WalFile;
        *out = ptr::null_mut();
        let rc = flush(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        match real_methods(f).xFetch {
            Some(m) => m((*f).real, off, amt, out),
            None => ffi::SQLITE_OK,
        }
    }

    unsafe extern "C" fn x_unfetch(
        file: *mut ffi::sqlite3_file,
        off: i64,
        p: *mut c_void,
    ) -> c_int {
        let f = file as *mut WalFile;
        match real_methods(f).xUnfetch {
            Some(m) => m((*f).real, off, p),
            None => ffi::SQLITE_OK,
        }
    }

    static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
        iVersion: 3,
        xClose: Some(x_close),
        xRead: Some(x_read),
        xWrite: Some(x_write),
        xTruncate: Some(x_truncate),
        xSync: Some(x_sync),
        xFileSize: Some(x_file_size),
        xLock: Some(x_lock),
        xUnlock: Some(x_unlock),
        xCheckReservedLock: Some(x_check_reserved_lock),
        xFileControl: Some(x_file_control),
        xSectorSize: Some(x_sector_size),
        xDeviceCharacteristics: Some(x_device_characteristics),
        xShmMap: Some(x_shm_map),
        xShmLock: Some(x_shm_lock),
        xShmBarrier: Some(x_shm_barrier),
        xShmUnmap: Some(x_shm_unmap),
        xFetch: Some(x_fetch),
        xUnfetch: Some(x_unfetch),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh store file in the temp directory (removed with its -wal and -shm on drop).
    struct TempDb(String);

    impl TempDb {
        fn new(name: &str) -> TempDb {
            let p = std::env::temp_dir().join(format!(
                "rt-store-{name}-{}-{}.db",
                std::process::id(),
                now_ms()
            ));
            TempDb(p.to_string_lossy().into_owned())
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.0));
            }
        }
    }

    fn open(db: &TempDb, instance: &str) -> Store {
        let s = Store::open(&db.0, false, instance).unwrap();
        s.register("t", "sc", "{}", |_| true).unwrap();
        s
    }

    #[test]
    fn new_stores_get_small_pages_and_old_ones_keep_theirs() {
        let db = TempDb::new("page");
        let s = open(&db, "i1");
        let size = |s: &Store| -> i64 {
            s.lock()
                .conn
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(size(&s), 1024);
        drop(s);
        let old = TempDb::new("page4k");
        let c = Connection::open(&old.0).unwrap();
        let _: String = c
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .unwrap();
        c.execute_batch(&format!("BEGIN;{SCHEMA}PRAGMA user_version = 1;COMMIT;"))
            .unwrap();
        drop(c);
        let s = open(&old, "i1");
        assert_eq!(size(&s), 4096);
        assert_eq!(s.put("k", "1").unwrap(), "1");
        let journal: String = s
            .lock()
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(journal, "wal");
    }

    #[test]
    fn commits_through_the_wal_buffer_are_seen_by_other_connections_at_once() {
        let db = TempDb::new("walbuf");
        for full in [false, true] {
            let s = Store::open(&db.0, full, "i1").unwrap();
            s.register("t", "sc", "{}", |_| true).unwrap();
            let other = Connection::open(&db.0).unwrap();
            let read = |key: &str| -> Option<usize> {
                other
                    .query_row(
                        "SELECT length(state) FROM checkpoints WHERE instance_id = 'i1' AND checkpoint_id = ?1",
                        [key],
                        |r| r.get(0),
                    )
                    .optional()
                    .unwrap()
            };
            for i in 0..50 {
                let key = format!("{full}-{i}");
                // Small states, and some far over the 1 MiB buffer (many overflow pages).
                let state = if i % 10 == 9 {
                    format!("\"{}\"", "x".repeat(3 << 20))
                } else {
                    i.to_string()
                };
                s.event("custom", Some("step_started"), Some("{}".into()));
                assert_eq!(s.put(&key, &state).unwrap(), state);
                assert_eq!(read(&key), Some(state.len()), "{key}");
            }
            drop(s);
            let again = Store::open(&db.0, full, "i1").unwrap();
            again.register("t", "sc", "{}", |_| true).unwrap();
            assert_eq!(
                again
                    .lookup(&format!("{full}-49"))
                    .unwrap()
                    .map(|s| s.len()),
                Some((3 << 20) + 2)
            );
        }
        let ok: String = Connection::open(&db.0)
            .unwrap()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }

    #[test]
    fn put_get_or_put_and_lookup() {
        let db = TempDb::new("put");
        let s = open(&db, "i1");
        assert_eq!(s.lookup("k").unwrap(), None);
        assert_eq!(s.put("k", "1").unwrap(), "1");
        assert_eq!(s.lookup("k").unwrap().as_deref(), Some("1"));
        // Get-or-put: the first state wins.
        assert_eq!(s.put("k", "2").unwrap(), "1");
        assert_eq!(s.lookup("other").unwrap(), None);
        let last: Option<String> = s
            .lock()
            .conn
            .query_row(
                "SELECT checkpoint_id FROM instances WHERE instance_id = 'i1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(last.as_deref(), Some("k"));
    }

    #[test]
    fn a_store_opened_while_another_connection_reads_it_still_gets_wal_mode() {
        // The switch to WAL needs the file to itself: opening waits for the reader to finish
        // (the busy handler, and `wal_mode` when SQLite answers with the old mode instead).
        let db = TempDb::new("wal-switch");
        let reader = Connection::open(&db.0).unwrap();
        reader
            .execute_batch("CREATE TABLE x (a); BEGIN; SELECT * FROM x;")
            .unwrap();
        let path = db.0.clone();
        let opener = std::thread::spawn(move || {
            let s = Store::open(&path, false, "i1").unwrap();
            s.register("t", "sc", "{}", |_| true).unwrap();
            let mode: String = s
                .lock()
                .conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            mode
        });
        std::thread::sleep(Duration::from_millis(200));
        reader.execute_batch("COMMIT").unwrap();
        assert_eq!(opener.join().unwrap(), "wal");
    }

    #[test]
    fn a_rerun_reads_checkpoints_of_earlier_runs() {
        let db = TempDb::new("rerun");
        let first = open(&db, "i1");
        first.put("a", "\"x\"").unwrap();
        drop(first);
        let second = open(&db, "i1");
        assert_eq!(second.lookup("a").unwrap().as_deref(), Some("\"x\""));
        assert_eq!(second.lookup("b").unwrap(), None);
        // Another instance in the same file starts fresh.
        let other = open(&db, "i2");
        assert_eq!(other.lookup("a").unwrap(), None);
    }

    #[test]
    fn a_signal_written_by_another_connection_is_seen_at_the_next_poll() {
        let db = TempDb::new("signal");
        let s = open(&db, "i1");
        assert_eq!(s.poll_signal().unwrap(), None);
        assert_eq!(s.poll_signal().unwrap(), None);
        s.put("k", "1").unwrap();
        assert_eq!(s.poll_signal().unwrap(), None);
        let other = Connection::open(&db.0).unwrap();
        other
            .execute(
                "INSERT INTO signals (instance_id, signal_type, created_at_ms) VALUES ('i1', 'resume', 1)",
                [],
            )
            .unwrap();
        assert_eq!(s.poll_signal().unwrap().as_deref(), Some("resume"));
        assert_eq!(s.poll_signal().unwrap().as_deref(), Some("resume"));
        s.ack_signal("resume", false).unwrap();
        assert_eq!(s.poll_signal().unwrap(), None);
        // A write by another connection that is not a signal for this instance: still None.
        other
            .execute(
                "INSERT INTO signals (instance_id, signal_type, created_at_ms) VALUES ('i2', 'cancel', 1)",
                [],
            )
            .unwrap();
        assert_eq!(s.poll_signal().unwrap(), None);
        other
            .execute(
                "INSERT OR REPLACE INTO signals (instance_id, signal_type, created_at_ms) VALUES ('i1', 'cancel', 2)",
                [],
            )
            .unwrap();
        assert_eq!(s.poll_signal().unwrap().as_deref(), Some("cancel"));
    }

    #[test]
    fn take_custom_into_stores_the_checkpoint() {
        let db = TempDb::new("custom");
        let s = open(&db, "i1");
        assert_eq!(
            s.take_custom_into("sid", "sk", |_| unreachable!()).unwrap(),
            None
        );
        let other = Connection::open(&db.0).unwrap();
        other
            .execute(
                "INSERT INTO custom_signals (instance_id, signal_id, payload, created_at_ms) VALUES ('i1', 'sid', X'3132', 1)",
                [],
            )
            .unwrap();
        let state = s
            .take_custom_into("sid", "sk", |p| {
                format!("{{\"payload\":{}}}", String::from_utf8_lossy(p))
            })
            .unwrap();
        assert_eq!(state.as_deref(), Some("{\"payload\":12}"));
        assert_eq!(s.lookup("sk").unwrap().as_deref(), Some("{\"payload\":12}"));
    }
}
