//! Embedded SQLite store (RUNTIME §4.2).

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::config::DbConfig;
use rusqlite::{params, Connection, OptionalExtension};

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

impl Store {
    /// Open (creating if needed) the store file. `full` selects `synchronous=FULL`.
    pub fn open(path: &str, full: bool, instance: &str) -> R<Store> {
        let conn = Connection::open(path).map_err(err)?;
        Self::setup(conn, full, instance)
    }

    /// An in-memory store (tests).
    pub fn memory(instance: &str) -> Store {
        let conn = Connection::open_in_memory().expect("in-memory sqlite");
        Self::setup(conn, false, instance).expect("in-memory schema")
    }

    fn setup(conn: Connection, full: bool, instance: &str) -> R<Store> {
        let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
        conn.busy_timeout(Duration::from_millis(10_000))
            .map_err(err)?;
        let _mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(err)?;
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
        let mut inner = self.lock();
        inner.conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
        let res = self
            .flush(&mut inner)
            .and_then(|_| f(&inner.conn).map_err(err));
        match res {
            Ok(v) => {
                inner.conn.execute_batch("COMMIT").map_err(err)?;
                Ok(v)
            }
            Err(e) => {
                let _ = inner.conn.execute_batch("ROLLBACK");
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
        self.tx(|c| {
            let row: Option<(String, String, Option<String>)> = c
                .query_row(
                    "SELECT status, input, output FROM instances WHERE instance_id = ?1",
                    params![self.instance],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            match row {
                None => {
                    c.execute(
                        "INSERT INTO instances (instance_id, tenant_id, scenario_id, status, input, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?5)",
                        params![self.instance, tenant, scenario, input, now],
                    )?;
                    Ok(Registered { previous: None, input: input.to_string(), output: None, mismatch: false })
                }
                Some((status, stored, output)) => {
                    if !same_input(&stored) {
                        return Ok(Registered { previous: Some(status), input: stored, output, mismatch: true });
                    }
                    if status != "cancelled" && status != "completed" {
                        c.execute(
                            "UPDATE instances SET status = 'running', suspend_reason = NULL, wake_at_ms = NULL, updated_at_ms = ?2 WHERE instance_id = ?1",
                            params![self.instance, now],
                        )?;
                    }
                    Ok(Registered { previous: Some(status), input: stored, output, mismatch: false })
                }
            }
        })
    }

    /// Read-only checkpoint lookup.
    pub fn lookup(&self, key: &str) -> R<Option<String>> {
        let inner = self.lock();
        let v: Option<Vec<u8>> = inner
            .conn
            .prepare_cached(
                "SELECT state FROM checkpoints WHERE instance_id = ?1 AND checkpoint_id = ?2",
            )
            .map_err(err)?
            .query_row(params![self.instance, key], |r| r.get(0))
            .optional()
            .map_err(err)?;
        Ok(v.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Get-or-put a checkpoint; returns the stored state.
    pub fn put(&self, key: &str, state: &str) -> R<String> {
        let now = now_ms();
        self.tx(|c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO checkpoints (instance_id, checkpoint_id, state, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![self.instance, key, state.as_bytes(), now],
            )?;
            if n > 0 {
                c.execute(
                    "UPDATE instances SET checkpoint_id = ?2, updated_at_ms = ?3 WHERE instance_id = ?1",
                    params![self.instance, key, now],
                )?;
            }
            let b: Vec<u8> = c.query_row(
                "SELECT state FROM checkpoints WHERE instance_id = ?1 AND checkpoint_id = ?2",
                params![self.instance, key],
                |r| r.get(0),
            )?;
            Ok(String::from_utf8_lossy(&b).into_owned())
        })
    }

    /// The pending unacknowledged instance signal type, if any.
    pub fn poll_signal(&self) -> R<Option<String>> {
        let inner = self.lock();
        let r = inner
            .conn
            .prepare_cached("SELECT signal_type FROM signals WHERE instance_id = ?1 AND acknowledged_at_ms IS NULL")
            .map_err(err)?
            .query_row(params![self.instance], |r| r.get(0))
            .optional()
            .map_err(err);
        r
    }

    /// Acknowledge the pending signal and apply its status change (unless `keep_status`).
    pub fn ack_signal(&self, kind: &str, keep_status: bool) -> R<()> {
        let now = now_ms();
        self.tx(|c| {
            c.execute(
                "UPDATE signals SET acknowledged_at_ms = ?2 WHERE instance_id = ?1 AND acknowledged_at_ms IS NULL",
                params![self.instance, now],
            )?;
            if !keep_status {
                match kind {
                    "cancel" => {
                        c.execute(
                            "UPDATE instances SET status = 'cancelled', updated_at_ms = ?2 WHERE instance_id = ?1",
                            params![self.instance, now],
                        )?;
                        c.execute(
                            "INSERT INTO events (instance_id, event_type, created_at_ms) VALUES (?1, 'cancelled', ?2)",
                            params![self.instance, now],
                        )?;
                    }
                    "pause" => {
                        c.execute(
                            "UPDATE instances SET status = 'suspended', suspend_reason = 'paused', wake_at_ms = NULL, updated_at_ms = ?2 WHERE instance_id = ?1",
                            params![self.instance, now],
                        )?;
                        c.execute(
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
        self.tx(|c| {
            let p: Option<Vec<u8>> = c
                .query_row(
                    "SELECT payload FROM custom_signals WHERE instance_id = ?1 AND signal_id = ?2",
                    params![self.instance, signal_id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(p) = p else { return Ok(None) };
            c.execute(
                "DELETE FROM custom_signals WHERE instance_id = ?1 AND signal_id = ?2",
                params![self.instance, signal_id],
            )?;
            let state = make_state(&p);
            c.execute(
                "INSERT OR IGNORE INTO checkpoints (instance_id, checkpoint_id, state, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
                params![self.instance, key, state.as_bytes(), now],
            )?;
            c.execute(
                "UPDATE instances SET checkpoint_id = ?2, updated_at_ms = ?3 WHERE instance_id = ?1",
                params![self.instance, key, now],
            )?;
            let b: Vec<u8> = c.query_row(
                "SELECT state FROM checkpoints WHERE instance_id = ?1 AND checkpoint_id = ?2",
                params![self.instance, key],
                |r| r.get(0),
            )?;
            Ok(Some(String::from_utf8_lossy(&b).into_owned()))
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
            c.execute(&sql, params![self.instance, status, text, now])?;
            c.execute(
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
            c.execute(
                "UPDATE instances SET status = 'suspended', suspend_reason = ?2, wake_at_ms = ?3, updated_at_ms = ?4 WHERE instance_id = ?1 AND status != 'cancelled'",
                params![self.instance, reason, wake_at, now],
            )?;
            c.execute(
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
