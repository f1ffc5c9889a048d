"""Plain values to DynamoDB attribute values and back (boto3's low-level client speaks only the latter).

- every number is a Decimal, a float converted exactly through its shortest repr (`exact_decimal`), so
  counters can be compared and added in conditions and updates without binary fractions;
- absent values are absent attributes, never NULL (`to_attribute_values` drops None);
- datetimes are `jobs.encoding.ts` text, so comparing strings in a condition (`lease_until < :now`)
  compares instants; they read back with `jobs.encoding.parse_ts`.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from leadenrich.jobs.rows import exact_decimal

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attribute_value(value: Any) -> dict[str, Any]:
    return dict(_serializer.serialize(exact_decimal(value) if isinstance(value, float) else value))


def to_attribute_values(values: dict[str, Any]) -> dict[str, Any]:
    """A row (or expression values) as attribute values; None values are left out."""
    return {name: to_attribute_value(value) for name, value in values.items() if value is not None}


def from_attribute_values(row: dict[str, Any]) -> dict[str, Any]:
    """A row read from DynamoDB as plain values (numbers as Decimal)."""
    return {name: _deserializer.deserialize(value) for name, value in row.items()}


__all__ = ["from_attribute_values", "to_attribute_value", "to_attribute_values"]
