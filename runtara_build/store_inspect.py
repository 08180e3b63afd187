"""Reading an embedded store for `runtara-build inspect` (RUNTIME §4.2, §7; docs/STORE.md).

`read_store` builds the JSON document; `format_text` renders it for people. Stdlib only.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

#: Custom event subtypes counted in an instance's summary, by summary member.
SUMMARY = {
    "stepsStarted": "step_started",
    "stepsCompleted": "step_completed",
    "stepsFailed": "step_failed",
    "retries": "retry",
    "logs": "workflow_log",
    "errors": "workflow_error",
}


def decode(raw: bytes | str | None) -> Any:
    """A stored JSON text (or blob) as a value; bytes that are not JSON as a string."""
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        return json.loads(text)
    except ValueError:
        return text


def _instance(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "instanceId": row["instance_id"],
        "tenantId": row["tenant_id"],
        "scenarioId": row["scenario_id"],
        "status": row["status"],
        "suspendReason": row["suspend_reason"],
        "wakeAtMs": row["wake_at_ms"],
        "input": decode(row["input"]),
        "output": decode(row["output"]),
        "error": decode(row["error"]),
        "lastCheckpoint": row["checkpoint_id"],
        "createdAtMs": row["created_at_ms"],
        "updatedAtMs": row["updated_at_ms"],
    }


def _signals(conn: sqlite3.Connection, instance: str) -> dict[str, Any]:
    sig = conn.execute(
        "SELECT signal_type, created_at_ms, acknowledged_at_ms FROM signals WHERE instance_id = ?",
        (instance,),
    ).fetchone()
    custom = conn.execute(
        "SELECT signal_id, payload, created_at_ms FROM custom_signals WHERE instance_id = ?"
        " ORDER BY signal_id",
        (instance,),
    ).fetchall()
    return {
        "signal": None
        if sig is None
        else {"type": sig[0], "createdAtMs": sig[1], "acknowledgedAtMs": sig[2]},
        "customSignals": [
            {"signalId": c[0], "payload": decode(c[1]), "createdAtMs": c[2]} for c in custom
        ],
    }


def _details(conn: sqlite3.Connection, instance: str) -> dict[str, Any]:
    checkpoints = conn.execute(
        "SELECT checkpoint_id, state, created_at_ms FROM checkpoints WHERE instance_id = ?"
        " ORDER BY created_at_ms, rowid",
        (instance,),
    ).fetchall()
    events = conn.execute(
        "SELECT id, event_type, subtype, payload, created_at_ms FROM events"
        " WHERE instance_id = ? ORDER BY id",
        (instance,),
    ).fetchall()
    return {
        "checkpoints": [
            {"key": c[0], "state": decode(c[1]), "createdAtMs": c[2]} for c in checkpoints
        ],
        "events": [
            {
                "id": e[0],
                "type": e[1],
                "subtype": e[2],
                "payload": decode(e[3]),
                "createdAtMs": e[4],
            }
            for e in events
        ],
    }


def _summary(conn: sqlite3.Connection, instance: str) -> dict[str, int]:
    counts = dict(
        conn.execute(
            "SELECT coalesce(subtype, event_type), count(*) FROM events WHERE instance_id = ?"
            " GROUP BY 1",
            (instance,),
        ).fetchall()
    )
    (checkpoints,) = conn.execute(
        "SELECT count(*) FROM checkpoints WHERE instance_id = ?", (instance,)
    ).fetchone()
    summary = {name: int(counts.get(sub, 0)) for name, sub in SUMMARY.items()}
    summary["runs"] = int(counts.get("started", 0))
    summary["checkpoints"] = int(checkpoints)
    summary["events"] = int(sum(counts.values()))
    return summary


def read_store(conn: sqlite3.Connection, instance: str | None) -> dict[str, Any]:
    """The inspect document: every instance (summaries), or one instance in full."""
    conn.row_factory = sqlite3.Row
    conn.execute("BEGIN")  # one consistent snapshot
    try:
        if instance is None:
            rows = conn.execute("SELECT * FROM instances ORDER BY created_at_ms, rowid").fetchall()
        else:
            rows = conn.execute(
                "SELECT * FROM instances WHERE instance_id = ?", (instance,)
            ).fetchall()
        found = []
        for row in rows:
            item = _instance(row)
            item["summary"] = _summary(conn, row["instance_id"])
            item.update(_signals(conn, row["instance_id"]))
            if instance is not None:
                item.update(_details(conn, row["instance_id"]))
            found.append(item)
    finally:
        conn.execute("ROLLBACK")
    return {"version": 1, "instances": found}


# --------------------------------------------------------------------------- text


def _time(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _compact(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _event_line(event: dict[str, Any]) -> str:
    p = event["payload"] if isinstance(event["payload"], dict) else {}
    sub = event["subtype"]
    head = f"  #{event['id']:<5} {_time(event['createdAtMs'])}  "
    if sub in ("step_started", "step_completed", "step_failed"):
        line = f"{sub:<15} {p.get('scope')} {p.get('step_id')} ({p.get('step_type')})"
        if "duration_ms" in p:
            line += f" {p['duration_ms']} ms"
        if sub == "step_failed":
            line += f" error {_compact(p.get('error'))}"
        return head + line
    if sub == "retry":
        return head + (
            f"retry           {p.get('checkpoint_id')} attempt {p.get('attempt')}:"
            f" {p.get('error_message')}"
        )
    if sub == "workflow_log":
        return head + (
            f"log {p.get('level'):<11} {p.get('step_id')}: {p.get('message')}"
            f" {_compact(p.get('context'))}"
        )
    kind = event["type"] if sub is None else f"{event['type']}/{sub}"
    suffix = "" if event["payload"] is None else " " + _compact(event["payload"])
    return head + kind + suffix


def _instance_text(item: dict[str, Any], full: bool) -> list[str]:
    status = item["status"]
    if item["suspendReason"]:
        status += f" ({item['suspendReason']}"
        status += f", wake at {_time(item['wakeAtMs'])})" if item["wakeAtMs"] else ")"
    s = item["summary"]
    lines = [
        f"instance {item['instanceId']}  scenario {item['scenarioId']}  tenant"
        f" {item['tenantId']}  status {status}",
        f"  created {_time(item['createdAtMs'])}  updated {_time(item['updatedAtMs'])}"
        f"  runs {s['runs']}  checkpoints {s['checkpoints']}  steps {s['stepsCompleted']}/"
        f"{s['stepsStarted']} completed, {s['stepsFailed']} failed  retries {s['retries']}"
        f"  logs {s['logs']}  errors {s['errors']}",
    ]
    if item["signal"] is not None:
        sig = item["signal"]
        state = "acknowledged" if sig["acknowledgedAtMs"] else "pending"
        lines.append(f"  signal {sig['type']} ({state})")
    lines += [f"  custom signal {c['signalId']} waiting" for c in item["customSignals"]]
    if not full:
        return lines
    lines.append(f"  input  {_compact(item['input'])}")
    if item["output"] is not None or status == "completed":
        lines.append(f"  output {_compact(item['output'])}")
    if item["error"] is not None:
        lines.append(f"  error  {_compact(item['error'])}")
    lines.append(f"checkpoints ({len(item['checkpoints'])}):")
    lines += [f"  {c['key']}  {_compact(c['state'], 100)}" for c in item["checkpoints"]]
    lines.append(f"events ({len(item['events'])}):")
    lines += [_event_line(e) for e in item["events"]]
    return lines


def format_text(doc: dict[str, Any]) -> str:
    instances = doc["instances"]
    if not instances:
        return "no instances\n"
    full = len(instances) == 1 and "events" in instances[0]
    lines: list[str] = []
    for item in instances:
        lines += _instance_text(item, full)
    return "\n".join(lines) + "\n"
