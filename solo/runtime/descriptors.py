"""The file descriptors a server process may open, and how many of them event streams may
hold: an open stream is a connection for as long as it lasts, and a process out of
descriptors cannot accept a request, reach its database or write a snapshot."""

from __future__ import annotations

import logging
import resource

from solo import limits

log = logging.getLogger(__name__)


def raise_to_hard_limit() -> None:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (the children it starts
    inherit it): the soft default (often 1024) is a guard for interactive shells, not a
    budget for a server; the hard limit is what the operator allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == hard:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as exc:
        log.warning("could not raise the open files limit from %s to %s: %s", soft, hard, exc)


def streams_allowed() -> int:
    """The event streams this process may hold: its soft open files limit less the
    descriptors kept for everything else, and never more than EVENT_STREAMS_PER_PROCESS_MAX."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limits.EVENT_STREAMS_PER_PROCESS_MAX
    return max(0, min(limits.EVENT_STREAMS_PER_PROCESS_MAX, soft - limits.DESCRIPTORS_RESERVED))
