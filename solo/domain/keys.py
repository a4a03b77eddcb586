"""How snapshots are named in a blob store: `solo/{user}/{session}/{rev}.json`, every
segment safe on every store."""

from __future__ import annotations


def key_segment(value: str) -> str:
    """One path segment of a key, safe on every store: no `/`, `\\`, `%`, control
    characters, and never `.` or `..`. Other characters, non-ASCII included, stay."""
    encoded = "".join(
        "".join(f"%{byte:02X}" for byte in ch.encode())
        if ch in "/\\%" or ord(ch) < 0x20 or ch == "\x7f"
        else ch
        for ch in value
    )
    return encoded.replace(".", "%2E") if encoded in {".", ".."} else encoded


def snapshot_key(user: str, session_id: str, rev: int) -> str:
    return f"{session_prefix(user, session_id)}{rev}.json"


def session_prefix(user: str, session_id: str) -> str:
    return f"solo/{key_segment(user)}/{session_id}/"
