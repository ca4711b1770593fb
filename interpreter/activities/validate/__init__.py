"""The ``validate`` node: data against a JSON Schema and CEL rules, every violation reported."""

from __future__ import annotations

from interpreter.activities.validate.activity import Rule, ValidateActivity, ValidateConfig

__all__ = ["Rule", "ValidateActivity", "ValidateConfig"]
