"""A session is its owner's: to anyone else it does not exist."""

import uuid

import pytest

from solo.domain.errors import NotFound
from solo.services import sessions
from solo.services.ownership import owned


def test_only_the_owner_finds_the_session(fake_db, cache, clock):
    session = sessions.create_session(
        fake_db.unit_of_work(), cache, owner="олена", state={"ключ": "значення"}, clock=clock
    ).session
    with fake_db.unit_of_work() as uow:
        assert owned(uow, owner="олена", session_id=session.id) == session
        assert owned(uow, owner="олена", session_id=session.id, held=True) == session
        for owner, session_id in [("богдан", session.id), ("олена", uuid.uuid4())]:
            with pytest.raises(NotFound) as missing:
                owned(uow, owner=owner, session_id=session_id)
            assert missing.value.message is None
    with fake_db.unit_of_work().write() as uow:
        assert owned(uow, owner="олена", session_id=session.id, for_update=True) == session
