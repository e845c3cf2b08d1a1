"""Reading vendor metadata: numbers in text, XML element names without namespaces, XML leaf fields."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

__all__ = ["local_name", "text_value", "xml_fields"]


def text_value(text: str) -> Any:
    """``text`` as an int, a float or a bool when it reads as one, else the text itself."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def local_name(tag: str) -> str:
    """An XML element's name without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def xml_fields(text: str | None) -> dict[str, Any]:
    """Leaf elements of an XML document as {name: text} (repeated names as lists); {} when not XML."""
    if not text:
        return {}
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return {}
    result: dict[str, Any] = {}
    for element in root.iter():
        if len(element) or element is root:
            continue
        key = local_name(element.tag)
        value = (element.text or "").strip()
        if key in result:
            previous = result[key]
            result[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            result[key] = value
    return result
