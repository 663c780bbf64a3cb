"""A page's body, streamed: decompressed in bounded steps, checked as JSON, written as one line.

Nothing here holds a whole page: ``Decoder`` inflates gzip or deflate at most ``STEP`` bytes
at a time (a gzip bomb is cut off at the page cap, not inflated first), and ``JsonScanner``
checks the structure of the document as it passes (brackets, strings, UTF-8, nothing after
the end, at most ``MAX_DEPTH`` levels deep) and notes where the root object's members are, so
that ``paging_from`` reads back only the ``meta`` and ``links`` members from the written file.

The check is structural: literals between brackets are checked for their characters only, so
``[1 2]`` passes; what matters here is that HTML, a truncated body or a second document does
not. The root must be an object or an array.
"""

from __future__ import annotations

import codecs
import json
import re
import zlib
from collections.abc import Iterator
from typing import IO, Any

STEP = 64 * 1024
"""Most bytes one decompression step yields."""

MEMBER_BYTES = 1024 * 1024
"""Largest ``meta`` or ``links`` member read back to find the next page."""

MAX_DEPTH = 512
"""Deepest nesting of a page: deeper documents are refused, as most JSON readers refuse them
(Python's ``json`` fails near 1,000 levels, Ruby's at 100, serde_json at 128), and a dump
that its readers cannot open is not worth publishing."""

MAX_MEMBERS = 10_000
"""Members of the root object remembered (the paging ones come early or late, not in between)."""

LINE = bytes.maketrans(b"\r\n", b"  ")
"""Raw line breaks are whitespace in JSON (strings cannot hold them): blanks keep one line."""

_SPECIAL = re.compile(rb'["\\{}\[\]:,\x00-\x1f]')
_BAD_LITERAL = re.compile(rb"[^ \t\r\n0-9+\-.eEtrufalsn]")
_BAD_OUTSIDE = re.compile(rb"[^ \t\r\n]")


class Decoder:
    """Inflate a body by its ``Content-Encoding`` (identity, gzip, deflate) in bounded steps."""

    def __init__(self, encoding: str) -> None:
        names = [n.strip().lower() for n in encoding.split(",") if n.strip()]
        names = [n for n in names if n != "identity"]
        self._inflate: Any = None
        if names == ["gzip"] or names == ["x-gzip"]:
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif names == ["deflate"]:
            self._inflate = zlib.decompressobj(32 + zlib.MAX_WBITS)
        elif names:
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Yield ``data`` inflated, at most ``STEP`` bytes at a time."""
        if self._inflate is None:
            yield data
            return
        try:
            yield self._inflate.decompress(data, STEP)
            while self._inflate.unconsumed_tail:
                yield self._inflate.decompress(self._inflate.unconsumed_tail, STEP)
        except zlib.error as exc:
            raise ValueError(f"the compressed body is broken ({exc})") from None

    def flush(self) -> bytes:
        """Return what the decompressor still holds at the end of the body."""
        return b"" if self._inflate is None else bytes(self._inflate.flush())


class JsonScanner:
    """Check a JSON document's structure chunk by chunk; note the root object's members."""

    def __init__(self) -> None:
        self.offset = 0
        self.stack: list[int] = []
        self.started = False
        self.in_string = False
        self.skip_until = 0
        self.members: list[tuple[int, int, int, int]] = []
        self._key: tuple[int, int] | None = None
        self._key_start = 0
        self._value_start: int | None = None
        self._utf8 = codecs.getincrementaldecoder("utf-8")()

    def feed(self, data: bytes) -> None:
        """Scan the next chunk; ``ValueError`` saying what is wrong with the document."""
        try:
            self._utf8.decode(data)
        except UnicodeDecodeError:
            raise ValueError("the body is not UTF-8") from None
        start = 0
        for match in _SPECIAL.finditer(data):
            start = self._special(data, match.start(), start)
        if not self.in_string:
            self._gap(data[start:])
        self.offset += len(data)

    def finish(self) -> None:
        """Check that the document ended; ``ValueError`` if not."""
        try:
            self._utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ValueError("the body is not UTF-8") from None
        if not self.started:
            raise ValueError("the body is not a JSON object or array")
        if self.stack or self.in_string:
            raise ValueError("the JSON document is cut short")

    def _special(self, data: bytes, index: int, start: int) -> int:
        at, char = self.offset + index, data[index]
        if self.in_string:
            if at < self.skip_until:
                return start
            if char == ord("\\"):
                self.skip_until = at + 2
            elif char in b"\r\n":
                raise ValueError("a JSON string holds a raw line break")
            elif char < 0x20:
                raise ValueError(f"a JSON string holds a raw control character ({char:#04x})")
            elif char == ord('"'):
                self.in_string = False
                if len(self.stack) == 1 and self._value_start is None:
                    self._key = (self._key_start, at + 1)
                return index + 1
            return start
        if char < 0x20:  # blanks between tokens stay in the gap; others fail its check
            return start
        self._gap(data[start:index])
        self._structure(char, at)
        return index + 1

    def _gap(self, text: bytes) -> None:
        if not text:
            return
        bad = (_BAD_LITERAL if self.stack else _BAD_OUTSIDE).search(text)
        if bad is not None:
            char = bad.group().decode("latin-1")
            where = "" if self.stack else " after" if self.started else " before"
            where += " the document" if where else ""
            raise ValueError(f"the body is not JSON (unexpected {char!r}{where})")

    def _structure(self, char: int, at: int) -> None:
        if not self.stack and (self.started or char not in b"{["):
            what = "after the document" if self.started else "before the document"
            raise ValueError(f"the body is not JSON (unexpected {chr(char)!r} {what})")
        if char == ord('"'):
            self.in_string, self._key_start = True, at
        elif char in b"{[":
            self.started = True
            self.stack.append(char)
            if len(self.stack) > MAX_DEPTH:
                raise ValueError(f"the JSON document is nested deeper than {MAX_DEPTH} levels")
        elif char in b"}]":
            if self.stack.pop() != (ord("{") if char == ord("}") else ord("[")):
                raise ValueError("the body is not JSON (brackets do not match)")
            if not self.stack:
                self._member_end(at)
        elif len(self.stack) == 1 and self.stack[0] == ord("{"):
            if char == ord(":"):
                self._value_start = at + 1
            else:
                self._member_end(at)

    def _member_end(self, at: int) -> None:
        key, value_start = self._key, self._value_start
        if key is not None and value_start is not None and len(self.members) < MAX_MEMBERS:
            self.members.append((*key, value_start, at))
        self._key, self._value_start = None, None


def paging_members(scanner: JsonScanner, stream: IO[bytes]) -> dict[str, Any]:
    """Return the root's ``meta`` and ``links`` members, read back from the written page."""
    found: dict[str, Any] = {}
    for key_start, key_end, value_start, value_end in scanner.members:
        if key_end - key_start > 16 or value_end - value_start > MEMBER_BYTES:
            continue
        stream.seek(key_start)
        try:
            key = json.loads(stream.read(key_end - key_start))
            if key in ("meta", "links") and key not in found:
                stream.seek(value_start)
                found[key] = json.loads(stream.read(value_end - value_start))
        except ValueError:
            raise ValueError("the body is not JSON (a member of its root object)") from None
    return found
