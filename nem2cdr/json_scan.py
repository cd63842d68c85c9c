"""The reads of a CDR response, one at a time, from a stream of any size.

``scan_response`` walks a JSON document without decoding it: the members of ``data.reads`` come
out one by one as their bytes, and everything else (the envelope) is kept as JSON text with that
array left empty. So a response is held one read at a time, never whole. The scanner only finds
where each value ends (strings, escapes and nesting respected); whether a value is valid JSON is
for the decoder of its bytes to say.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import msgspec

_BLOCK = 1 << 20
# One value (a read) or the envelope beyond this is refused: no CDR payload needs more.
MAX_VALUE = 64 << 20
_SPACE = re.compile(rb"[ \t\r\n]*+")
# Everything up to and including the next bracket outside strings; a string is skipped whole
# (possessive, so that a long run of numbers or text is one step of the regex engine).
_TO_BRACKET = re.compile(rb'(?:[^"\[\]{}]++|"(?:[^"\\]++|\\.)*+")*+[\[\]{}]')
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')


def _nested(depth: int) -> bytes:
    """A pattern for an array or object nested at most ``depth`` deep (brackets only paired by
    count, as in the loop below; the decoder judges the rest)."""
    inside = rb'(?:[^"\[\]{}]++|"(?:[^"\\]++|\\.)*+"'
    pattern = inside + rb")*+"
    for _ in range(depth - 1):
        pattern = inside + rb"|[\[{]" + pattern + rb"[\]}])*+"
    return rb"[\[{]" + pattern + rb"[\]}]"


# A whole read (a read with readQualities is nested four deep) in one step of the regex engine.
_WHOLE = re.compile(_nested(4))
# A number, true, false or null: what is left of a value that is neither string nor bracket.
_SCALAR = re.compile(rb'[^ \t\r\n,:\[\]{}"]++')
_OPEN = frozenset(b"[{")
# Where a read may end and the next begin; a batch of reads is cut after one (see _Buffer.batch).
_BETWEEN_READS = b"},"
_DECODE_RAWS = msgspec.json.Decoder(list[msgspec.Raw]).decode


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class JsonError(Exception):
    """The document is not JSON at byte ``offset``."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


@dataclass(frozen=True)
class ReadsStart:
    """A ``data.reads`` array begins (a second one, under a repeated key, replaces the first)."""


@dataclass(frozen=True)
class Read:
    """One member of ``data.reads``: its bytes, and where they start in the stream when known
    (a read found in a batch knows only its batch's start)."""

    text: bytes
    offset: int
    exact: bool = True


@dataclass(frozen=True)
class Envelope:
    """The whole document with every ``data.reads`` array left empty; the scan's last event."""

    text: bytes


class _Buffer:
    """A window on the stream: ``data[pos:]`` is what has not been consumed yet."""

    def __init__(self, head: bytes, stream: Readable) -> None:
        self.data = head
        self.pos = 0
        self.base = 0  # the stream offset of data[0]
        self.stream = stream
        self.eof = False
        self.next_batch = 0  # the stream offset before which no batch is tried again

    def more(self, keep: int) -> int:
        """Read on, keeping ``data[keep:]``; returns how far positions moved down."""
        if self.eof:
            return 0
        block = self.stream.read(max(_BLOCK, len(self.data) - keep))
        if not block:
            self.eof = True
        self.data = self.data[keep:] + block
        self.base += keep
        self.pos -= keep
        return keep

    def offset(self, position: int) -> int:
        return self.base + position

    def skip_space(self) -> int:
        """The first byte past white space (reading on as needed), or -1 at the end."""
        while True:
            self.pos = _SPACE.match(self.data, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.data):
                return self.data[self.pos]
            if self.eof:
                return -1
            self.more(self.pos)

    def expect(self, allowed: bytes, what: str) -> int:
        byte = self.skip_space()
        if byte < 0 or byte not in allowed:
            found = "the end" if byte < 0 else f"byte 0x{byte:02x}"
            raise JsonError(self.offset(self.pos), f"expected {what}, found {found}")
        self.pos += 1
        return byte

    def value(self) -> bytes:
        """The bytes of the value that starts here (after white space)."""
        byte = self.skip_space()
        if byte < 0:
            raise JsonError(self.offset(self.pos), "the document ends where a value is due")
        start = self.pos
        if byte in _OPEN:
            start, end = self._nested_end(start)
        else:
            pattern = _STRING if byte == ord('"') else _SCALAR
            while True:
                found = pattern.match(self.data, start)
                if found and (found.end() < len(self.data) or self.eof):
                    end = found.end()
                    break
                if self.eof:  # an unterminated string, or a stray byte
                    raise JsonError(self.offset(start), "a value that does not end")
                start -= self._grow(start)
        self.pos = end
        return self.data[start:end]

    def _nested_end(self, start: int) -> tuple[int, int]:
        """Where the array or object at ``start`` begins (after reading on) and ends."""
        whole = _WHOLE.match(self.data, start)
        if whole:
            return start, whole.end()
        depth = 0
        position = start
        while True:
            found = _TO_BRACKET.match(self.data, position)
            if found is None:
                if self.eof:
                    raise JsonError(self.offset(start), "a value that does not end")
                shift = self._grow(start)
                start, position = start - shift, position - shift
                continue
            position = found.end()
            depth += 1 if self.data[position - 1] in _OPEN else -1
            if depth == 0:
                return start, position

    def _grow(self, start: int) -> int:
        if len(self.data) - start > MAX_VALUE:
            raise JsonError(
                self.offset(start), f"a value larger than {MAX_VALUE >> 20} MiB is not checked"
            )
        return self.more(start)

    def batch(self) -> list[Read]:
        """The whole reads from here to the last likely end of one in the buffer, found by
        msgspec at C speed: "[" + those bytes + "]" decodes as an array exactly when they are
        whole values separated by commas, as the JSON parse of the same bytes in place would
        find them. When the cut falls inside a read, or the JSON is broken, the byte scanner
        goes on (at least as far as this attempt reached, so the attempts cost linear time)."""
        if self.offset(self.pos) < self.next_batch:
            return []
        if len(self.data) - self.pos < _BLOCK // 2 and not self.eof:
            self.more(self.pos)
        start, data = self.pos, self.data
        cut = data.rfind(_BETWEEN_READS, start)
        for _ in range(3):
            if cut <= start:
                break
            try:
                raws = _DECODE_RAWS(b"[" + data[start : cut + 1] + b"]")
            except (msgspec.DecodeError, RecursionError):
                cut = data.rfind(_BETWEEN_READS, start, cut)
                continue
            self.pos = cut + 1
            return [Read(bytes(raw), self.offset(start), exact=False) for raw in raws]
        self.next_batch = self.offset(len(data))
        return []

    def key(self) -> tuple[str, bytes]:
        text = self.value()
        if not text.startswith(b'"'):
            raise JsonError(self.offset(self.pos - len(text)), "an object key that is no string")
        try:
            return json.loads(text), text
        except ValueError as exc:
            raise JsonError(self.offset(self.pos - len(text)), f"a bad key: {exc}") from None


class _Envelope:
    """The document's text outside the reads, bounded."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, text: bytes) -> None:
        self.size += len(text)
        if self.size > MAX_VALUE:
            raise JsonError(
                self.size,
                f"a response whose parts other than data.reads exceed {MAX_VALUE >> 20} MiB "
                "is not checked",
            )
        self.parts.append(text)


def scan_response(head: bytes, stream: Readable) -> Iterator[ReadsStart | Read | Envelope]:
    """The reads of the document ``head`` + ``stream``, then its envelope.

    Raises ``JsonError`` where the document's structure is broken, including text after it.
    """
    buffer = _Buffer(head, stream)
    envelope = _Envelope()
    if buffer.skip_space() == ord("{"):
        yield from _members(buffer, envelope, ("data", "reads"))
    else:
        envelope.add(buffer.value())
    if buffer.skip_space() >= 0:
        raise JsonError(buffer.offset(buffer.pos), "more text after the JSON document")
    yield Envelope(b"".join(envelope.parts))


def _members(
    buffer: _Buffer, envelope: _Envelope, route: tuple[str, ...]
) -> Iterator[ReadsStart | Read]:
    """An object's members into ``envelope``; the member named ``route[0]`` is walked on."""
    buffer.expect(b"{", "an object")
    envelope.add(b"{")
    if buffer.skip_space() == ord("}"):
        buffer.pos += 1
        envelope.add(b"}")
        return
    while True:
        name, text = buffer.key()
        buffer.expect(b":", "':' after a key")
        envelope.add(text + b":")
        byte = buffer.skip_space()
        if name == route[0] and len(route) > 1 and byte == ord("{"):
            yield from _members(buffer, envelope, route[1:])
        elif name == route[0] and len(route) == 1 and byte == ord("["):
            yield ReadsStart()
            yield from _reads(buffer)
            envelope.add(b"[]")
        else:
            envelope.add(buffer.value())
        separator = buffer.expect(b",}", "',' or '}' in an object")
        envelope.add(bytes([separator]))
        if separator == ord("}"):
            return


def _reads(buffer: _Buffer) -> Iterator[Read]:
    buffer.expect(b"[", "an array")
    if buffer.skip_space() == ord("]"):
        buffer.pos += 1
        return
    while True:
        found = buffer.batch()
        if found:
            yield from found
        else:
            buffer.skip_space()
            offset = buffer.offset(buffer.pos)
            yield Read(buffer.value(), offset)
        if buffer.expect(b",]", "',' or ']' in an array") == ord("]"):
            return
