"""What item an event names: `product_id`, `sku`, `item`, or each of `products[]`'s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KEYS = ("product_id", "sku", "item")
LONGEST = 200


def _one(source: Mapping[str, Any]) -> str | None:
    for key in KEYS:
        value = source.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            text = str(value).strip()
            if text:
                return text[:LONGEST]
    return None


def items_of(properties: Mapping[str, Any] | None) -> list[str]:
    """The items an event's properties name, in order, each once."""
    if not properties:
        return []
    found: list[str] = []
    first = _one(properties)
    if first is not None:
        found.append(first)
    products = properties.get("products")
    if isinstance(products, list):
        for product in products[:100]:
            if isinstance(product, Mapping) and (named := _one(product)) and named not in found:
                found.append(named)
    return found
