"""`runtara-build signal` and `runtara-build inspect`: the embedded store from outside.

`signal` writes instance and custom signals exactly as RUNTIME §6.4 says (creating the schema
of §4.2 when it is missing); `inspect` reads instances, checkpoints and events (§4.2, §7) and
prints them as text or as the JSON documented in docs/STORE.md. Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from runtara_build.errors import EXIT_OK, EXIT_USAGE, BuildError, Diagnostic

#: RUNTIME §4.2, verbatim (the binary creates the same schema).
SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
  instance_id    TEXT PRIMARY KEY,
  tenant_id      TEXT NOT NULL,
  scenario_id    TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN
                   ('running','suspended','completed','failed','cancelled')),
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
"""

BUSY_TIMEOUT_S = 10.0
KINDS = ("cancel", "pause", "resume", "custom")


def store_error(path: str, exc: BaseException) -> BuildError:
    """RB040: the store cannot be opened, read or written (exit 1)."""
    return BuildError(Diagnostic("RB040", f"the store {path} cannot be used: {exc}"))


def usage_error(message: str) -> BuildError:
    return BuildError(Diagnostic("RB030", message), exit_code=EXIT_USAGE)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# --------------------------------------------------------------------------- signal


def signal_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar="PATH", help="the embedded store file")
    parser.add_argument("--instance", required=True, metavar="ID", help="the instance id")
    parser.add_argument("kind", choices=KINDS, help="the signal (RUNTIME §6.4)")
    parser.add_argument("--signal-id", metavar="SID", help="custom: the WaitForSignal signal id")
    parser.add_argument("--payload", metavar="JSON", help="custom: the payload, a JSON text")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def compact_payload(text: str) -> str:
    """The compact JSON text of `text`, or a usage error if it is not JSON."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise usage_error(f"--payload must be valid JSON, but was {text!r}: {exc}") from None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def open_for_write(path: str) -> sqlite3.Connection:
    """Open (creating if needed) a store: WAL, busy timeout, schema and user_version 1."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        # The binary's page size for a store this command creates (docs/STORE.md, "Page
        # size"); it takes effect only before the first page is written.
        conn.execute("PRAGMA page_size=1024")
        conn.execute("PRAGMA journal_mode=WAL").fetchone()
        conn.execute("PRAGMA synchronous=NORMAL")
        if conn.execute("PRAGMA user_version").fetchone()[0] < 1:
            conn.executescript(f"BEGIN IMMEDIATE;{SCHEMA}PRAGMA user_version = 1;COMMIT;")
    except BaseException:
        conn.close()
        raise
    return conn


def _upsert(conn: sqlite3.Connection, instance: str, kind: str) -> None:
    conn.execute(
        "INSERT INTO signals (instance_id, signal_type, payload, created_at_ms,"
        " acknowledged_at_ms) VALUES (?1, ?2, NULL, ?3, NULL) ON CONFLICT(instance_id) DO UPDATE"
        " SET signal_type = ?2, payload = NULL, created_at_ms = ?3, acknowledged_at_ms = NULL",
        (instance, kind, now_ms()),
    )


def apply_signal(conn: sqlite3.Connection, instance: str, kind: str) -> str | None:
    """Write an instance signal (one transaction); returns a note when it had no effect."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT signal_type FROM signals WHERE instance_id = ? AND acknowledged_at_ms IS NULL",
            (instance,),
        ).fetchone()
        pending = row[0] if row else None
        note = None
        if pending == "cancel" and kind != "cancel":
            note = f"{kind} has no effect: a cancel is pending for instance {instance}"
        elif kind == "resume" and pending == "pause":
            conn.execute("DELETE FROM signals WHERE instance_id = ?", (instance,))
        else:
            _upsert(conn, instance, kind)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return note


def put_custom(conn: sqlite3.Connection, instance: str, signal_id: str, payload: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO custom_signals (instance_id, signal_id, payload, created_at_ms)"
        " VALUES (?, ?, ?, ?)",
        (instance, signal_id, payload.encode(), now_ms()),
    )


def run_signal(args: argparse.Namespace) -> int:
    kind: str = args.kind
    payload = None
    if kind == "custom":
        if args.signal_id is None or args.payload is None:
            raise usage_error("signal custom needs --signal-id SID and --payload JSON")
        payload = compact_payload(args.payload)
    elif args.signal_id is not None or args.payload is not None:
        raise usage_error(f"--signal-id and --payload are only for custom, not for {kind}")
    try:
        conn = open_for_write(args.store)
        try:
            if payload is not None:
                put_custom(conn, args.instance, str(args.signal_id), payload)
                note = None
            else:
                note = apply_signal(conn, args.instance, kind)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise store_error(args.store, exc) from None
    if note:
        print(f"note: {note}", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------- inspect


def inspect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, metavar="PATH", help="the embedded store file")
    parser.add_argument("--instance", metavar="ID", help="show one instance in full")
    parser.add_argument("--output", choices=("text", "json"), default="text", help="format")


def open_read_only(path: str) -> sqlite3.Connection:
    if not Path(path).is_file():
        raise sqlite3.OperationalError("no such file")
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute("PRAGMA user_version").fetchone()
    except sqlite3.OperationalError:
        # A WAL store on a read-only file system, without its -shm file: nothing can be
        # writing it, so read the file as it is.
        conn = sqlite3.connect(f"{uri}&immutable=1", uri=True, isolation_level=None)
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < 1:
            raise sqlite3.DatabaseError("not a runtara store (user_version is not 1)")
    except BaseException:
        conn.close()
        raise
    return conn


def run_inspect(args: argparse.Namespace) -> int:
    from runtara_build.store_inspect import format_text, read_store

    try:
        conn = open_read_only(args.store)
        try:
            doc = read_store(conn, args.instance)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise store_error(args.store, exc) from None
    if args.instance is not None and not doc["instances"]:
        raise BuildError(
            Diagnostic("RB041", f"the store {args.store} has no instance {args.instance!r}")
        )
    if args.output == "json":
        print(json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    else:
        sys.stdout.write(format_text(doc))
    return EXIT_OK
