"""Event ids as ordinals, without one Python object per id (memory: BENCHMARKS.md section 5).

A campaign of a million events must not keep a million id strings, dict entries and boxed integers alive:
they cost ~160 bytes each and, being tracked by the garbage collector, make every full collection scan them
(the pauses that once made a correct in-process receiver look slow). :class:`IdIndex` numbers the ids in
the order they are added and keeps them as two ``array('Q')`` columns (the UUID's 128 bits) and an
open-addressing table of ``array('i')`` slots: 16 bytes per id plus 6 to 12 bytes of table, no object.

The ids the PIM makes are canonical UUID v4 strings (facts section 4: ``Uuid::uuid4()``); any other id (a
hand-written test history, an edited tape) is kept as a string in a side dict, so the index is exact for
every id, compact for the ones that matter by number. An id is canonical when formatting its 128 bits
gives it back, so a lookup never confuses ``ABC...`` with ``abc...``.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

__all__ = ["Bitmap", "IdIndex"]

_LOW = (1 << 64) - 1


def _uuid_int(event_id: str) -> int | None:
    """The 128 bits of a canonical (lowercase, hyphenated) UUID string, else None."""
    if len(event_id) != 36 or event_id[8] != "-" or event_id[13] != "-" or event_id[18] != "-" \
            or event_id[23] != "-":
        return None
    digits = event_id[:8] + event_id[9:13] + event_id[14:18] + event_id[19:23] + event_id[24:]
    try:
        number = int(digits, 16)
    except ValueError:
        return None
    return number if _format(number) == event_id else None  # rejects upper case, "_", "+" and spaces


def _format(number: int) -> str:
    text = f"{number:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class IdIndex:
    """Ids numbered 0, 1, 2... in the order first added; ``add`` of a known id returns its ordinal."""

    __slots__ = ("_count", "_high", "_low", "_mask", "_names", "_others", "_table")

    def __init__(self) -> None:
        self._high = array("Q")
        self._low = array("Q")
        self._table = array("i", [-1]) * 1024
        self._mask = 1023
        self._count = 0
        self._others: dict[str, int] = {}  # ids that are not canonical UUIDs -> ordinal
        self._names: dict[int, str] = {}  # and back

    def __len__(self) -> int:
        return self._count

    def _slot(self, number: int) -> int:
        """The table slot holding ``number``'s ordinal, or the empty slot where it would go."""
        high, low, table, mask = self._high, self._low, self._table, self._mask
        hi, lo = number >> 64, number & _LOW
        slot = hash(number) & mask
        while True:
            ordinal = table[slot]
            if ordinal < 0 or (low[ordinal] == lo and high[ordinal] == hi):
                return slot
            slot = (slot + 1) & mask

    def get(self, event_id: str) -> int | None:
        number = _uuid_int(event_id)
        if number is None:
            return self._others.get(event_id)
        ordinal = self._table[self._slot(number)]
        return ordinal if ordinal >= 0 else None

    def __contains__(self, event_id: object) -> bool:
        return isinstance(event_id, str) and self.get(event_id) is not None

    def add(self, event_id: str) -> int:
        number = _uuid_int(event_id)
        ordinal = self._count
        if number is None:
            known = self._others.setdefault(event_id, ordinal)
            if known != ordinal:
                return known
            self._names[ordinal] = event_id
            self._high.append(0)
            self._low.append(0)
        else:
            slot = self._slot(number)
            if self._table[slot] >= 0:
                return self._table[slot]
            self._table[slot] = ordinal
            self._high.append(number >> 64)
            self._low.append(number & _LOW)
        self._count += 1
        if 3 * self._count > 2 * len(self._table):  # at most 2/3 full: short probe sequences
            self._grow()
        return ordinal

    def _grow(self) -> None:
        size = 2 * len(self._table)
        self._table = array("i", [-1]) * size
        self._mask = size - 1
        table, mask, high, low = self._table, self._mask, self._high, self._low
        for ordinal in range(self._count):
            if ordinal in self._names:
                continue
            number = (high[ordinal] << 64) | low[ordinal]
            slot = hash(number) & mask
            while table[slot] >= 0:
                slot = (slot + 1) & mask
            table[slot] = ordinal

    def id_of(self, ordinal: int) -> str:
        name = self._names.get(ordinal)
        if name is not None:
            return name
        if not 0 <= ordinal < self._count:
            raise IndexError(ordinal)
        return _format((self._high[ordinal] << 64) | self._low[ordinal])

    def __iter__(self) -> Iterator[str]:
        return (self.id_of(ordinal) for ordinal in range(self._count))


class Bitmap:
    """One bit per ordinal (a set of small integers in ``size / 8`` bytes), growing as needed."""

    __slots__ = ("_bits",)

    def __init__(self, size: int = 0) -> None:
        self._bits = bytearray((size + 7) // 8)

    def add(self, ordinal: int) -> bool:
        """Set the bit; whether it was already set."""
        byte, bit = ordinal >> 3, 1 << (ordinal & 7)
        if byte >= len(self._bits):
            self._bits.extend(bytes(byte + 1 - len(self._bits)))
        was = bool(self._bits[byte] & bit)
        self._bits[byte] |= bit
        return was

    def __contains__(self, ordinal: object) -> bool:
        if not isinstance(ordinal, int) or ordinal < 0:
            return False
        byte = ordinal >> 3
        return byte < len(self._bits) and bool(self._bits[byte] & (1 << (ordinal & 7)))
