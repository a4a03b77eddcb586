"""What a rebase reads from the log: the changes since its base, within bounds, read
again when a compaction lands between its reads. On the in-memory unit of work."""

import dataclasses

import pytest

from solo.domain import jsonvalue
from solo.domain.model import Patch
from solo.domain.preconditions import from_headers
from solo.services import rebasing, sessions, writes
from solo.services.states import LogMovedOn
from tests.services.test_states import KEPT


@pytest.fixture
def session(fake_db, cache, clock):
    return sessions.create_session(
        fake_db.unit_of_work(), cache, owner="олена", state={"список": ["а"]}, clock=clock
    ).session


def front(fake_db, cache, clock, session_id, value):
    request = writes.Write(
        "олена",
        session_id,
        from_headers("*", None),
        Patch([{"op": "add", "path": "/список/0", "value": value}]),
    )
    return writes.write(fake_db.unit_of_work(), cache, request, clock=clock, kept=KEPT)


def test_the_changes_since_a_base_are_read_in_order(fake_db, cache, clock, session):
    for value in ("б", "в"):
        front(fake_db, cache, clock, session.id, value)
    with fake_db.unit_of_work() as uow:
        head = uow.sessions.get("олена", session.id)
        changes = rebasing.changes_since_base(uow, head, 0)
    assert [(c.rev, jsonvalue.decode_canonical(c.ops)) for c in changes] == [
        (1, [{"op": "add", "path": "/список/0", "value": "б"}]),
        (2, [{"op": "add", "path": "/список/0", "value": "в"}]),
    ]


def test_a_compaction_between_the_two_reads_reads_again(
    fake_db, cache, clock, session, monkeypatch
):
    """Read without the session's lock (the one-statement path), the sizes may list a
    change that the ops read no longer finds: LogMovedOn, never a KeyError (a 500)."""
    for value in ("б", "в"):
        front(fake_db, cache, clock, session.id, value)
    with fake_db.unit_of_work() as uow:
        head = uow.sessions.get("олена", session.id)
        log = type(uow.log)
        ops_between = log.ops_between

        def compacted_meanwhile(self, session_id, first_rev, last_rev):
            found = ops_between(self, session_id, first_rev, last_rev)
            return {rev: ops for rev, ops in found.items() if rev != 1}

        monkeypatch.setattr(log, "ops_between", compacted_meanwhile)
        with pytest.raises(LogMovedOn):
            rebasing.changes_since_base(uow, dataclasses.replace(head), 0)
