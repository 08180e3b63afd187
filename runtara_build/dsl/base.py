"""Shared DSL models: the model config, mapping values, conditions, variables and schemas.

Every DSL model is frozen, ignores unknown members and never coerces (DSL §1.2): an integer
member takes JSON integers only and strings are never read as numbers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError


class Model(BaseModel):
    """Base of every DSL model. An optional member given as `null` is the same as absent."""

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        strict=True,
        alias_generator=to_camel,
        populate_by_name=False,
        validate_default=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        optional = _optional_aliases(cls)
        if not any(data.get(k, 0) is None for k in optional):
            return data
        return {k: v for k, v in data.items() if not (v is None and k in optional)}


_OPTIONAL_CACHE: dict[type[BaseModel], frozenset[str]] = {}


def _optional_aliases(cls: type[BaseModel]) -> frozenset[str]:
    found = _OPTIONAL_CACHE.get(cls)
    if found is None:
        found = frozenset(
            (f.alias or name) for name, f in cls.model_fields.items() if not f.is_required()
        )
        _OPTIONAL_CACHE[cls] = found
    return found


NonNegInt = Annotated[int, Field(ge=0)]


def _string_or_integer(value: Any) -> Any:
    # `childVersion`'s value is checked by E050, never E000 (DSL §1.2): only its JSON type is.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PydanticCustomError("string_or_integer", "must be a string or an integer")
    return value


ChildVersion = Annotated[Any, BeforeValidator(_string_or_integer)]
PositiveInt = Annotated[int, Field(ge=1)]
#: Any JSON value; `null` included.
Json = Any

# --------------------------------------------------------------------------- mapping values

TypeHint = Literal["string", "integer", "number", "boolean", "json", "file"]


class ImmediateValue(Model):
    value_type: Literal["immediate"] = Field(description="Tag: the value is used verbatim.")
    value: Json = Field(description="Any JSON value, used verbatim; a string is never a path.")


class ReferenceValue(Model):
    value_type: Literal["reference"] = Field(description="Tag: look a path up in the source.")
    value: str = Field(description="Path into the source object (DSL §3.3).")
    type: TypeHint | None = Field(default=None, description="Type hint applied last (§3.4).")
    default: Json = Field(default=None, description="Used when the path is missing or null.")


class TemplateValue(Model):
    value_type: Literal["template"] = Field(description="Tag: render a minijinja template.")
    value: str = Field(description="Template text; the result is always a string (§3.5).")


def _composite_kind(v: Any) -> str:
    return "list" if isinstance(v, list) else "dict"


class CompositeValue(Model):
    value_type: Literal["composite"] = Field(description="Tag: build an object or array.")
    value: Annotated[
        Annotated[dict[str, MappingValue], Tag("dict")]
        | Annotated[list[MappingValue], Tag("list")],
        Discriminator(_composite_kind),
    ] = Field(description="An object or array of MappingValues; keys are literal.")


MappingValue = Annotated[
    ImmediateValue | ReferenceValue | CompositeValue | TemplateValue,
    Field(discriminator="value_type"),
]
#: Destination key -> value, in document order (the order is semantic, DSL §3.1).
InputMapping = dict[str, MappingValue]

# --------------------------------------------------------------------------- conditions

Op = Literal[
    "AND", "OR", "NOT", "GT", "GTE", "LT", "LTE", "EQ", "NE", "STARTS_WITH", "ENDS_WITH",
    "CONTAINS", "IN", "NOT_IN", "LENGTH", "IS_DEFINED", "IS_EMPTY", "IS_NOT_EMPTY",
]  # fmt: skip


class ImmediateCondition(ImmediateValue):
    type: Literal["value"] = Field(description="Tag: the truthiness of a mapped value.")


class ReferenceCondition(Model):
    type: Literal["value"] = Field(description="Tag: the truthiness of a mapped value.")
    value_type: Literal["reference"] = Field(description="Tag: look a path up in the source.")
    value: str = Field(description="Path into the source object (DSL §3.3).")
    default: Json = Field(default=None, description="Used when the path is missing or null.")


class TemplateCondition(TemplateValue):
    type: Literal["value"] = Field(description="Tag: the truthiness of a mapped value.")


class CompositeCondition(CompositeValue):
    type: Literal["value"] = Field(description="Tag: the truthiness of a mapped value.")


ValueCondition = Annotated[
    ImmediateCondition | ReferenceCondition | CompositeCondition | TemplateCondition,
    Field(discriminator="value_type"),
]


def _tag(v: Any, member: str) -> Any:
    # Discriminators see raw dicts when validating and model instances when serialising.
    return v.get(member) if isinstance(v, dict) else getattr(v, member, None)


def _argument_kind(v: Any) -> str:
    kind = _tag(v, "type")
    return "condition" if kind in ("operation", "value") else "value"


Argument = Annotated[
    Annotated["Condition", Tag("condition")] | Annotated[MappingValue, Tag("value")],
    Discriminator(_argument_kind),
]


class OperationCondition(Model):
    type: Literal["operation"] = Field(description="Tag: an operator over arguments.")
    op: Op = Field(description="The operator (DSL §4.3).")
    arguments: list[Argument] = Field(description="Operands: conditions or mapping values.")


def _condition_kind(v: Any) -> str:
    return "operation" if _tag(v, "type") == "operation" else "value"


Condition = Annotated[
    Annotated[OperationCondition, Tag("operation")] | Annotated[ValueCondition, Tag("value")],
    Discriminator(_condition_kind),
]

# --------------------------------------------------------------------------- variables, schemas

JsonType = Literal["string", "number", "integer", "boolean", "array", "object", "file"]


class Variable(Model):
    type: JsonType = Field(description="Declared type; never checked against the value.")
    value: Json = Field(description="The default value.")
    description: str | None = Field(default=None, description="Free text.")


class VisibleWhen(Model):
    field: str = Field(description="The controlling field.")
    equals: Json = Field(default=None, description="Shown when the field equals this.")
    not_equals: Json = Field(default=None, description="Shown unless the field equals this.")


class SchemaField(Model):
    type: JsonType = Field(description="Declared type; not checked against values.")
    required: bool = Field(default=False, description="Enforced for top-level and child input.")
    description: str | None = Field(default=None, description="Free text.")
    default: Json = Field(default=None, description="Descriptive only: never applied.")
    example: Json = Field(default=None, description="Descriptive only.")
    items: SchemaField | None = Field(default=None, description="Element schema of an array.")
    enum: list[Json] | None = Field(default=None, description="Descriptive only.")
    label: str | None = Field(default=None, description="UI label.")
    placeholder: str | None = Field(default=None, description="UI placeholder.")
    order: int | None = Field(default=None, description="UI order.")
    format: str | None = Field(default=None, description="Descriptive only.")
    min: float | None = Field(default=None, description="Descriptive only.")
    max: float | None = Field(default=None, description="Descriptive only.")
    pattern: str | None = Field(default=None, description="Descriptive only.")
    properties: dict[str, SchemaField] | None = Field(default=None, description="Object fields.")
    visible_when: VisibleWhen | None = Field(default=None, description="UI visibility rule.")


Schema = dict[str, SchemaField]

for _m in (CompositeValue, CompositeCondition, OperationCondition, SchemaField):
    _m.model_rebuild()
