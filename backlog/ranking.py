"""Rank keys: pure functions, no database.

A rank key is a base-62 string (digits, then A–Z, then a–z, in byte order) in the
fractional-indexing format of the ``fractional-indexing`` package: a variable-length integer
part followed by an optional fraction. Keys sort byte-wise; between any two keys there is
always room for another, so a move rewrites only the moved item's key.

Keys grow when many items are put into the same gap (about one character per six inserts).
A rebalance rewrites a product's keys as fixed-width consecutive integers (``rebalanced_key``)
without changing the order; ``settings.ORDER_KEY_MAX_LENGTH`` caps every key.
"""

from fractional_indexing import BASE_62_DIGITS, generate_n_keys_between

DIGITS = BASE_62_DIGITS
BASE = len(DIGITS)
# Leading byte of the temporary keys written during a rebalance: sorts before every digit.
REBALANCE_PREFIX = "!"
# Sorts after every key (keys are digits and letters, and the prefix above): an open upper bound.
AFTER_EVERY_KEY = "{"


def keys_between(lo: str | None, hi: str | None, count: int) -> list[str]:
    """Return ``count`` ascending keys strictly between ``lo`` and ``hi`` (None: open end)."""
    return generate_n_keys_between(lo, hi, count)


def rebalance_width(count: int) -> int:
    """Return the number of integer digits needed to number ``count`` keys (at least 2)."""
    width = 2
    while BASE**width < count:
        width += 1
    return width


def integer_head(width: int) -> str:
    """Return the head character of a ``width``-digit integer key ('a' is one digit)."""
    if not 1 <= width <= 26:
        raise ValueError(f"unsupported integer width {width}")
    return chr(ord("a") + width - 1)


def rebalanced_key(index: int, width: int) -> str:
    """Return the key of the ``index``-th item (0-based) after a rebalance with ``width`` digits."""
    digits = []
    for _ in range(width):
        index, remainder = divmod(index, BASE)
        digits.append(DIGITS[remainder])
    if index:
        raise ValueError("index does not fit the width")
    return integer_head(width) + "".join(reversed(digits))


def rebalanced_key_sql(index_sql: str, width: int) -> str:
    """Return a portable SQL expression computing ``rebalanced_key(index, width)``.

    ``index_sql`` is an integer expression (0-based). Uses only ``substr``, ``||``, integer
    ``/`` and ``%`` and ``CAST``, which PostgreSQL and SQLite evaluate identically.
    """
    parts = [f"'{integer_head(width)}'"]
    for power in reversed(range(width)):
        divisor = BASE**power
        parts.append(f"substr('{DIGITS}', CAST((({index_sql}) / {divisor}) % {BASE} AS INTEGER) + 1, 1)")
    return " || ".join(parts)


def _integer_count(width: int) -> int:
    """How many integers the keys with ``width`` digits hold (one head character each way)."""
    return BASE**width


def integer_value(key: str) -> int:
    """Return the integer a key's integer part stands for: 'a0' is 0, 'a1' 1, 'Zz' -1, 'Z0' -62;
    each further head letter holds ``BASE`` times more integers with one more digit."""
    head = key[0]
    width = ord(head) - ord("a") + 1 if head >= "a" else ord("Z") - ord(head) + 1
    digits = 0
    for char in key[1 : 1 + width]:
        digits = digits * BASE + DIGITS.index(char)
    if head >= "a":
        return sum(_integer_count(w) for w in range(1, width)) + digits
    return -sum(_integer_count(w) for w in range(1, width + 1)) + digits


def integer_key(value: int) -> str:
    """Return the integer key for ``value`` (the inverse of ``integer_value``)."""
    remaining = value if value >= 0 else -value
    for width in range(1, 27):
        count = _integer_count(width)
        if value >= 0 and remaining < count:
            head, number = chr(ord("a") + width - 1), remaining
        elif value < 0 and remaining <= count:
            head, number = chr(ord("Z") - width + 1), count - remaining
        else:
            remaining -= count
            continue
        digits = []
        for _ in range(width):
            number, digit = divmod(number, BASE)
            digits.append(DIGITS[digit])
        return head + "".join(reversed(digits))
    raise ValueError(f"{value} is out of the keys' range")
