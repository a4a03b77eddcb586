"""Group commit on a real SQLite file: writes that come together share one transaction and
one sync; a failing write takes none of its neighbours down; a failed commit fails every
write of its batch and keeps none of them."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import pytest
import sqlalchemy as sa

from solo.db.engine import make_engine
from solo.db.group_commit import GroupCommit
from solo.db.writer_lock import WriterLock

WAIT = 10
_notes = sa.table("notes", sa.column("id", sa.Integer), sa.column("text", sa.Text))
_pins = sa.table("pins", sa.column("note_id", sa.Integer))


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/group.db", pool_size=20)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        # Checked at COMMIT: a way to make a whole batch's commit fail.
        connection.exec_driver_sql(
            "CREATE TABLE pins (note_id INTEGER REFERENCES notes (id)"
            " DEFERRABLE INITIALLY DEFERRED)"
        )
    yield engine
    engine.dispose()


@pytest.fixture
def commits():
    """The number of writes of each commit, in order."""
    return []


@pytest.fixture
def group(engine, commits, tmp_path):
    lock = WriterLock(f"{tmp_path}/group.db.writer-lock", WAIT)
    group = GroupCommit(engine, lock, committed=commits.append)
    yield group
    group.close()


def insert(group: GroupCommit, note_id: int, *, text: str = "нотатка") -> None:
    with group.member() as member:
        member.connection.execute(sa.insert(_notes).values(id=note_id, text=text))
        member.commit()


def notes(engine) -> list[int]:
    with engine.connect() as connection:
        return sorted(connection.execute(sa.select(_notes.c.id)).scalars())


def wait_until(condition) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def held_open(group: GroupCommit, pool, *, joiners: list) -> threading.Event:
    """A first write that keeps the batch open until the returned event is set, while the
    `joiners` (callables) are submitted and have joined the batch."""
    release = threading.Event()
    joined = threading.Event()

    def first() -> None:
        with group.member() as member:
            member.connection.execute(sa.insert(_notes).values(id=1, text="перша"))
            joined.set()
            assert release.wait(WAIT)
            member.commit()

    futures = [pool.submit(first)]
    assert joined.wait(WAIT)
    futures += [pool.submit(joiner) for joiner in joiners]
    wait_until(lambda: group.open_writes == 1 + len(joiners))
    release.futures = futures  # type: ignore[attr-defined]
    return release


def test_writes_that_come_together_share_one_commit(group, engine, commits):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        release = held_open(
            group, pool, joiners=[lambda n=n: insert(group, n) for n in range(2, 9)]
        )
        assert notes(engine) == []  # nothing is visible before the batch commits
        release.set()
        for future in release.futures:
            future.result(WAIT)
    assert commits == [8]
    assert notes(engine) == list(range(1, 9))


def test_writes_one_at_a_time_commit_one_at_a_time(group, engine, commits):
    for note_id in range(1, 4):
        insert(group, note_id)
        assert notes(engine)[-1] == note_id  # durable (committed) when commit() returns
    assert commits == [1, 1, 1]


def test_a_failing_write_takes_none_of_its_neighbours_down(group, engine, commits):
    def failing() -> None:
        with group.member() as member:
            member.connection.execute(sa.insert(_notes).values(id=50, text="відкинута"))
            raise ValueError("the write's own refusal")

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        release = held_open(group, pool, joiners=[lambda: insert(group, 2), failing])
        release.set()
        first, second, third = release.futures
        first.result(WAIT)
        second.result(WAIT)
        with pytest.raises(ValueError, match="own refusal"):
            third.result(WAIT)
    assert notes(engine) == [1, 2]
    assert commits == [2]


def test_a_failed_commit_fails_every_write_of_its_batch_and_keeps_none(group, engine, commits):
    def orphan_pin() -> None:
        with group.member() as member:
            member.connection.execute(sa.insert(_pins).values(note_id=404))
            member.commit()  # the savepoint releases; the COMMIT will refuse the pin

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        release = held_open(group, pool, joiners=[lambda: insert(group, 2), orphan_pin])
        release.set()
        for future in release.futures:
            with pytest.raises(sa.exc.IntegrityError):
                future.result(WAIT)
    assert notes(engine) == []
    assert commits == []
    insert(group, 3)  # the next batch starts clean
    assert notes(engine) == [3]
    assert commits == [1]


def test_a_full_batch_takes_no_more_writes(engine, tmp_path, commits):
    lock = WriterLock(f"{tmp_path}/group.db.writer-lock", WAIT)
    group = GroupCommit(engine, lock, committed=commits.append, max_writes=3)
    try:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            release = held_open(
                group, pool, joiners=[lambda: insert(group, 2), lambda: insert(group, 3)]
            )
            later = [pool.submit(insert, group, n) for n in (4, 5)]
            time.sleep(0.05)  # time enough for a write to join the batch, were it open
            assert group.open_writes == 3
            release.set()
            for future in [*release.futures, *later]:
                future.result(WAIT)
    finally:
        group.close()
    assert commits[0] == 3
    assert sum(commits) == 5
    assert notes(engine) == [1, 2, 3, 4, 5]


def test_processes_take_turns_through_the_file_lock(engine, tmp_path, commits):
    """Another process's batch (here, a second group on its own lock object, as another
    process has) waits for the file lock rather than meeting SQLite's busy handler."""
    other = GroupCommit(
        engine, WriterLock(f"{tmp_path}/group.db.writer-lock", WAIT), committed=commits.append
    )
    mine = GroupCommit(
        engine, WriterLock(f"{tmp_path}/group.db.writer-lock", WAIT), committed=commits.append
    )
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            release = held_open(mine, pool, joiners=[])
            theirs = pool.submit(insert, other, 2)
            time.sleep(0.05)
            assert not theirs.done()
            release.set()
            theirs.result(WAIT)
            release.futures[0].result(WAIT)
    finally:
        mine.close()
        other.close()
    assert notes(engine) == [1, 2]


def test_the_writer_lock_is_free_once_the_commit_returns(engine, tmp_path):
    """Another process's batch takes the lock as soon as a COMMIT has returned (synced), not
    after the connection's return to the pool and the bookkeeping: here that bookkeeping
    waits for the other process's write, which would wait for the lock forever."""
    path = f"{tmp_path}/group.db.writer-lock"
    other = GroupCommit(engine, WriterLock(path, WAIT), committed=lambda _writes: None)
    mine = GroupCommit(
        engine, WriterLock(path, WAIT), committed=lambda _writes: insert(other, 2, text="їхня")
    )
    try:
        insert(mine, 1)
    finally:
        mine.close()
        other.close()
    assert notes(engine) == [1, 2]


def test_a_failure_after_the_commit_fails_none_of_its_writes(engine, tmp_path, caplog):
    """Counting a commit (or returning its connection) cannot undo it: a writer told its
    durable write failed would retry it."""

    def broken(_writes: int) -> None:
        raise RuntimeError("лічильник зламався")

    group = GroupCommit(
        engine, WriterLock(f"{tmp_path}/group.db.writer-lock", WAIT), committed=broken
    )
    try:
        insert(group, 1)
        insert(group, 2)
    finally:
        group.close()
    assert notes(engine) == [1, 2]
    assert caplog.text.count("counting its commit failed") == 2
