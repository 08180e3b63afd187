"""Validation of workflow documents (DSL §12). Step-specific checks live in the rule files."""

from __future__ import annotations

from runtara_build.validate.document import build_time_checks, validate_document

__all__ = ["build_time_checks", "validate_document"]
