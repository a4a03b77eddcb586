"""A clock the test moves by hand, for TTLs and expiries without sleeping."""

import datetime as dt

START = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


class FakeClock:
    def __init__(self, start: dt.datetime = START) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    @property
    def stamp(self) -> str:
        """`now` as the API writes a timestamp (RFC 3339, UTC as `Z`)."""
        return self.now.isoformat().replace("+00:00", "Z")
