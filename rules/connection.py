"""Connection: fetch secret connection data from the connection service (never checkpointed)."""

from __future__ import annotations

from typing import ClassVar, Literal

from runtara_build.api import Field, StepBase, StepRule


class ConnectionStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Connection"
    HONOURS_ON_ERROR: ClassVar[bool] = True
    step_type: Literal["Connection"] = Field(description="Tag: Connection.")
    connection_id: str = Field(description="The connection to fetch.")
    integration_id: str = Field(description="http_bearer, http_api_key or sftp (E030).")


RULE = StepRule(model=ConnectionStep)
