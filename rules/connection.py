"""Connection: fetch secret connection data from the connection service (never checkpointed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

from runtara_build.api import (
    Diagnostic,
    EmitContext,
    Field,
    RustWriter,
    StepBase,
    StepRule,
    did_you_mean,
    quote,
)

if TYPE_CHECKING:
    from runtara_build.api import CheckContext


class ConnectionStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Connection"
    HONOURS_ON_ERROR: ClassVar[bool] = True
    #: Its envelope is secret: references to it may only reach secure agents (E040–E042).
    SECRET_OUTPUTS: ClassVar[bool] = True
    step_type: Literal["Connection"] = Field(description="Tag: Connection.")
    connection_id: str = Field(description="The connection to fetch.")
    integration_id: str = Field(description="http_bearer, http_api_key or sftp (E030).")


def emit(step: ConnectionStep, out: RustWriter, ctx: EmitContext) -> None:
    # Only this helper (and agents with connectionId) pull in the runtime's HTTP client.
    out.line(f"rt::steps::connection(f, m, {ctx.config(step)})")


#: The integrations the connection service knows (DSL §5.9).
INTEGRATIONS = ("http_bearer", "http_api_key", "sftp")


def check(step: ConnectionStep, ctx: CheckContext) -> Iterator[Diagnostic]:
    """E030 (unknown integration) and W040 (no mapping reference uses the connection)."""
    if step.integration_id not in INTEGRATIONS:
        message = (
            f"'integrationId' must be one of {', '.join(map(quote, INTEGRATIONS))}, "
            f"but was {quote(step.integration_id)}"
        )
        hint = did_you_mean(step.integration_id, INTEGRATIONS)
        yield ctx.diag("E030", message, "/integrationId", hint)
    if not ctx.is_named(ctx.step_key):
        message = (
            f"a Connection step should be used by a mapping reference, but nothing "
            f"references {quote(ctx.step_key)}"
        )
        yield ctx.diag("W040", message, "", "map 'steps.<key>.outputs' into an Agent '_connection'")


RULE = StepRule(model=ConnectionStep, check=check, emit=emit)
