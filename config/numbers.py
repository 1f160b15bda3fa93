"""Whole numbers from user input: ASCII digits only (``str.isdigit`` accepts ², ٣, …), bounded."""

import re

DIGITS = re.compile(r"[0-9]{1,9}")


def whole_number(text: str | None, *, low: int = 0, high: int = 10**9 - 1) -> int | None:
    """``text`` as an int if it is 1 to 9 ASCII digits within [low, high], else None."""
    text = (text or "").strip()
    if not DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None
