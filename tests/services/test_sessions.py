"""The write services against the real databases, with races made deterministic."""

import datetime as dt
import uuid

import pytest

from solo.errors import NotFound, PreconditionFailed, RevMismatch
from solo.services import sessions
from solo.services.preconditions import from_headers
from solo.storage import StorageUnavailable

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


def fixed_clock():
    return T0


def add(key, value):
    return [{"op": "add", "path": f"/{key}", "value": value}]


class RacingClock:
    """A clock that lets a rival writer commit between our read and our swap, once."""

    def __init__(self, deps, session_id):
        self.deps, self.session_id, self.raced = deps, session_id, False

    def __call__(self):
        if not self.raced:
            self.raced = True
            sessions.apply_diff(
                self.deps.unit_of_work(),
                "олена",
                self.session_id,
                add("суперник", True),
                from_headers("*", None),
                fixed_clock,
            )
        return T0


@pytest.fixture
def session_id(deps):
    stored = sessions.create_session(deps.unit_of_work(), "олена", {"почато": 1}, fixed_clock)
    return stored.id


def test_a_stale_compare_and_swap_writes_nothing(deps, session_id):
    with deps.unit_of_work() as uow:
        assert uow.sessions.compare_and_swap("олена", session_id, 0, {"а": 1}, T0)
        assert not uow.sessions.compare_and_swap("олена", session_id, 0, {"б": 2}, T0)
        uow.commit()
    stored = sessions.get_session(deps.unit_of_work(), "олена", session_id)
    assert (stored.rev, stored.state) == (1, {"а": 1})


def test_losing_the_race_with_a_specific_etag_is_412_with_the_winners_etag(deps, session_id):
    with pytest.raises(PreconditionFailed) as raised:
        sessions.apply_diff(
            deps.unit_of_work(),
            "олена",
            session_id,
            add("моє", 1),
            from_headers('"0"', None),
            RacingClock(deps, session_id),
        )
    assert (raised.value.reason, raised.value.current_rev) == ("mismatch", 1)
    stored = sessions.get_session(deps.unit_of_work(), "олена", session_id)
    assert stored.state == {"почато": 1, "суперник": True}


def test_losing_the_race_with_x_rev_is_409(deps, session_id):
    with pytest.raises(RevMismatch) as raised:
        sessions.replace_state(
            deps.unit_of_work(),
            "олена",
            session_id,
            {"нове": 1},
            from_headers(None, "0"),
            RacingClock(deps, session_id),
        )
    assert raised.value.server_rev == 1


def test_if_match_any_retries_a_lost_race_and_keeps_both_writes(deps, session_id):
    stored = sessions.apply_diff(
        deps.unit_of_work(),
        "олена",
        session_id,
        add("моє", 1),
        from_headers("*", None),
        RacingClock(deps, session_id),
    )
    assert stored.rev == 2
    assert stored.state == {"почато": 1, "суперник": True, "моє": 1}


def test_delete_is_scoped_to_the_owner(deps, session_id):
    with pytest.raises(NotFound):
        sessions.delete_session(
            deps.unit_of_work(), deps.blob_store, "тарас", session_id, from_headers("*", None)
        )
    sessions.delete_session(
        deps.unit_of_work(), deps.blob_store, "олена", session_id, from_headers('"0"', None)
    )
    with pytest.raises(NotFound):
        sessions.get_session(deps.unit_of_work(), "олена", session_id)


def test_writing_a_missing_session_is_not_found(deps):
    with pytest.raises(NotFound):
        sessions.replace_state(
            deps.unit_of_work(), "олена", uuid.uuid4(), {}, from_headers("*", None), fixed_clock
        )


def test_timestamps_round_trip_as_aware_utc(deps, session_id):
    stored = sessions.get_session(deps.unit_of_work(), "олена", session_id)
    assert stored.created_at == T0
    assert stored.created_at.tzinfo == dt.UTC


class UnreachableStore:
    def delete_prefix(self, prefix: str) -> None:
        raise StorageUnavailable("S3 answered ServiceUnavailable")


def test_a_store_outage_does_not_undo_a_delete(deps, session_id, caplog):
    sessions.delete_session(
        deps.unit_of_work(), UnreachableStore(), "олена", session_id, from_headers("*", None)
    )
    with pytest.raises(NotFound):
        sessions.get_session(deps.unit_of_work(), "олена", session_id)
    assert f"objects under solo/олена/{session_id}/ were not deleted" in caplog.text
