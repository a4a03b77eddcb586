"""gzip request bodies, inflated within a byte budget and a member count."""

from __future__ import annotations

import zlib

from solo import limits
from solo.http.refusals import InvalidEncoding

_FEED_BYTES = 16 * 1024


class BoundedInflater:
    """Inflates gzip (several members too) and refuses to produce more than `limit` bytes.

    It never holds more than limit+1 inflated bytes: each step asks zlib for at most
    what is left of the budget plus one, keeping the rest of the input unconsumed.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inflated = 0
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._members = 0
        self._in_member = False

    def feed(self, data: bytes) -> bytes:
        out = []
        # zlib copies what it leaves unused after a member: fed in slices, a body of many
        # small members costs linear time, not the square of its chunk's size.
        for start in range(0, len(data), _FEED_BYTES):
            rest = data[start : start + _FEED_BYTES]
            while rest:
                self._in_member = True
                out.append(self._inflate(rest))
                if self._inflater.eof:
                    rest = self._inflater.unused_data
                    self._member_ended()
                else:
                    rest = self._inflater.unconsumed_tail
        return b"".join(out)

    def finish(self) -> bytes:
        """The output zlib still holds; a body that ends inside a member is truncated."""
        out = []
        while self._in_member:
            chunk = self._inflate(b"")
            if self._inflater.eof:
                self._member_ended()
            elif not chunk:
                raise InvalidEncoding()
            out.append(chunk)
        if self._members == 0:
            raise InvalidEncoding()
        return b"".join(out)

    def _member_ended(self) -> None:
        self._members += 1
        self._in_member = False
        if self._members > limits.GZIP_MEMBERS_LIMIT:
            raise InvalidEncoding(
                f"The gzip body has more than {limits.GZIP_MEMBERS_LIMIT} members."
            )
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def _inflate(self, data: bytes) -> bytes:
        try:
            chunk = self._inflater.decompress(data, self.limit + 1 - self.inflated)
        except zlib.error:
            raise InvalidEncoding() from None
        self.inflated += len(chunk)
        if self.inflated > self.limit:
            raise OverLimit()
        return chunk


class OverLimit(Exception):
    """The body passed its limit; the middleware turns this into a 413."""
