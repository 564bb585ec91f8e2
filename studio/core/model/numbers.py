"""Number parameters: a fixed value, a range or weighted choices, their bounds, and the draws.

A number field takes a fixed value (``0.7``), a range (``{min: 0.5, max: 1.0}``) or weighted
choices (``{values: [0.3, 0.6], weights: [1, 3]}``). Each draw consumes exactly one number of the
generator it is given (also for a fixed value), so pinning one parameter never shifts the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Tag,
    model_validator,
)
from pydantic_core import core_schema
from typing_extensions import TypeAliasType


class StrictModel(BaseModel):
    """Frozen, unknown keys refused, defaults validated: the base of every preset model."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


#: A finite number given as a number (never a bool or a string, never NaN or infinity).
Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]
#: A whole number given as one (``true`` is not a count).
StrictInt = Annotated[int, Field(strict=True)]


class Range(StrictModel):
    """A uniform range ``[min, max]``."""

    min: Finite
    max: Finite

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Choices(StrictModel):
    """Weighted choices: one of ``values``, with probabilities proportional to ``weights``
    (equal when not given)."""

    values: tuple[Finite, ...] = Field(min_length=1, max_length=1000)
    weights: tuple[Annotated[Finite, Field(ge=0.0, le=1e9)], ...] | None = None

    @model_validator(mode="after")
    def _check(self) -> Choices:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries, values has {len(self.values)}"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be 0")
        return self

    def pick(self, u: float) -> float:
        """The value for a uniform number ``u`` in [0, 1)."""
        weights = self.weights or (1.0,) * len(self.values)
        target = u * sum(weights)
        acc = 0.0
        for value, weight in zip(self.values, weights, strict=True):
            acc += weight
            if target < acc:
                return float(value)
        return float(self.values[max(i for i, w in enumerate(weights) if w > 0)])


#: The tags of the number forms, as they appear in validation error locations.
NUM_TAGS = ("number", "range", "choices")


def _num_form(value: object) -> str:
    """Which form a number field's value has: a mapping is a range, or choices when it has
    ``values``; anything else is a plain number."""
    if isinstance(value, Choices) or (isinstance(value, dict) and "values" in value):
        return "choices"
    if isinstance(value, (Range, dict)):
        return "range"
    return "number"


#: A number parameter: a fixed value, a uniform range or weighted choices (one form checked).
#: (A named type, so that the :class:`Bounds` a field adds apply to the whole of it.)
Num = TypeAliasType(
    "Num",
    Annotated[
        Annotated[Finite, Tag("number")]
        | Annotated[Range, Tag("range")]
        | Annotated[Choices, Tag("choices")],
        Discriminator(_num_form),
    ],
)
Probability = Annotated[float, Field(strict=True, ge=0.0, le=1.0, allow_inf_nan=False)]


@dataclass(frozen=True)
class Bounds:
    """The interval every value of a number parameter must lie in: ``Annotated[Num,
    Bounds(lo, hi)]``. Pydantic checks it, the JSON Schema shows it, the studio reads it."""

    lo: float
    hi: float
    #: the useful part of [lo, hi], where the studio's sliders start (None: all of it)
    ui: tuple[float, float] | None = None

    def check(self, value: Num) -> Num:
        if isinstance(value, Range):
            values: tuple[float, ...] = (value.min, value.max)
        elif isinstance(value, Choices):
            values = value.values
        else:
            values = (value,)
        for v in values:
            if not self.lo <= v <= self.hi:
                raise ValueError(f"must lie in [{self.lo}, {self.hi}], got {v}")
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return {**handler(schema), "minimum": self.lo, "maximum": self.hi}


def field_bounds(model: type[BaseModel], name: str) -> tuple[float, float] | None:
    """The ``(lo, hi)`` of the :class:`Bounds` of field ``name`` of ``model``, or None."""
    found = _bounds(model, name)
    return (found.lo, found.hi) if found else None


def field_ui_range(model: type[BaseModel], name: str) -> tuple[float, float] | None:
    """Where the studio's slider of field ``name`` starts: its useful range, else its bounds."""
    found = _bounds(model, name)
    if found is None:
        return None
    return found.ui if found.ui is not None else (found.lo, found.hi)


def _bounds(model: type[BaseModel], name: str) -> Bounds | None:
    found = [m for m in model.model_fields[name].metadata if isinstance(m, Bounds)]
    return found[0] if found else None


def draw(rng: np.random.Generator, value: Num) -> float:
    """Draw from ``value``. Always consumes exactly one number from ``rng``, so pinning a
    parameter never shifts the draws of the others."""
    u = float(rng.random())
    if isinstance(value, Range):
        return value.min + u * (value.max - value.min)
    if isinstance(value, Choices):
        return value.pick(u)
    return float(value)


def draw_int(rng: np.random.Generator, value: Num) -> int:
    """Draw an integer from ``value`` (inclusive range); one number consumed."""
    u = float(rng.random())
    if isinstance(value, Range):
        lo, hi = round(value.min), round(value.max)
        return min(hi, lo + int(u * (hi - lo + 1)))
    if isinstance(value, Choices):
        return round(value.pick(u))
    return round(value)


def happens(rng: np.random.Generator, probability: float) -> bool:
    """A Bernoulli draw; one number consumed."""
    return float(rng.random()) < probability
