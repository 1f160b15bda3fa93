"""How a request names an item: by id (``42``) or by key (``OB-42``, in any case: ``ob-42``)."""

import re
from dataclasses import dataclass

DIGITS = re.compile(r"[0-9]{1,18}")
KEY = re.compile(r"([A-Za-z][A-Za-z0-9]{0,9})-([0-9]{1,18})")


@dataclass(frozen=True)
class Reference:
    pk: int | None = None  # by id
    product_key: str | None = None  # by key: the product's key, upper case, and the item's number
    number: int | None = None


def parse_reference(text: str) -> Reference | None:
    """What ``text`` names (surrounding spaces ignored), or None if it is neither an id nor a key."""
    text = text.strip()
    if DIGITS.fullmatch(text):
        return Reference(pk=int(text))
    found = KEY.fullmatch(text)
    if found is None:
        return None
    return Reference(product_key=found.group(1).upper(), number=int(found.group(2)))
