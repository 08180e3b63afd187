"""The scenarios of the durability tests, and helpers to drive and observe them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.support.binaries import CLI
from tests.support.scenarios import agent, build, chain, finish, imm, query, ref, step


def signal(store: Path, instance: str, *args: str) -> None:
    argv = [str(CLI), "signal", "--store", str(store), "--instance", instance, *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


def append(key: str, path: str = "out.txt") -> tuple[str, dict[str, Any]]:
    return agent(key, "file", "file-append-file", path=imm(path), data=imm({"text": f"{key}\n"}))


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def events(store: Path, instance: str, subtype: str) -> int:
    (n,) = query(
        store,
        "SELECT count(*) FROM events WHERE instance_id = ? AND coalesce(subtype, event_type) = ?",
        instance,
        subtype,
    )[0]
    return int(n)


def write_input(tmp: Path, data: Any, name: str = "in.json") -> str:
    path = tmp / name
    path.write_text(json.dumps({"data": data}))
    return str(path)


def build_all(tmp: Path, runtime_cache: Path) -> dict[str, Path]:
    """Every scenario of the durability tests, built with the real CLI."""
    loop = chain(
        agent("x", "utils", "return-input", value=ref("loop.index")),
        finish(v=ref("steps.x.outputs")),
    )
    lt2 = {"type": "operation", "op": "LT", "arguments": [ref("loop.index"), imm(2)]}
    split_sub = chain(
        agent("in[ner]", "utils", "return-input", value=ref("item")),
        step("loop w", "While", condition=lt2, config={"maxIterations": 5}, subgraph=loop),
        finish(v=ref("item")),
    )
    kid = chain(
        agent("k", "utils", "return-input", value=ref("data.n")), finish(k=ref("steps.k.outputs"))
    )
    notify = chain(agent("notify", "utils", "return-input", value=imm("hi")))
    keys = chain(
        agent("ag.1", "utils", "return-input", value=imm(1)),
        step("each", "Split", config={"value": imm([10, 20]), "sequential": True}, subgraph=split_sub),
        step("call", "StartScenario", childScenarioId="kid", childVersion="latest",
             inputMapping={"n": imm(5)}),
        step("wait", "WaitForSignal", pollIntervalMs=20, onWait=notify),
        step("d", "Delay", durationMs=imm(1)),
        finish(each=ref("steps.each.outputs"), call=ref("steps.call.outputs"),
               sig=ref("steps.wait.outputs")),
    )  # fmt: skip
    fx = chain(
        append("a1"),
        append("a2"),
        step("log", "Log", message="between", context={"n": imm(2)}),
        append("a3"),
        step("nap", "Delay", durationMs=ref("data.ms")),
        append("a4"),
        finish(n=ref("steps.a4.outputs.bytes_appended"), ms=ref("data.ms")),
    )
    wait = chain(
        step("approve", "WaitForSignal", pollIntervalMs=20, timeoutMs=ref("data.timeout"),
             onWait=chain(step("ask", "Log", message="please approve"))),
        finish(got=ref("steps.approve.outputs")),
    )  # fmt: skip
    big = chain(
        *[agent(f"b{i}", "utils", "return-input", value=ref("data.big")) for i in range(20)]
    )
    return {
        "keys": build(tmp, runtime_cache, "keys", keys, {"kid": kid}),
        "fx": build(tmp, runtime_cache, "fx", fx),
        "wait": build(tmp, runtime_cache, "wait", wait),
        "big": build(tmp, runtime_cache, "big", big),
    }
