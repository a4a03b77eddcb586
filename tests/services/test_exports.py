import json

from solo import limits
from solo.domain import jsonvalue
from solo.services.exports import fit_export

SESSION = {"session": {"id": "5b0d7a4e-2f6b-4c7e-9a11-3f2d9c8e7a10", "rev": 100}}
STATE = {"текст": "ж" * 100}


def _entries(count: int) -> list[dict]:
    return [
        {"rev": rev, "created_at": "2026-11-26T09:00:00Z", "size": 100}
        for rev in reversed(range(count))
    ]


def test_an_export_within_the_limit_is_whole():
    body = fit_export(SESSION, jsonvalue.encode(STATE), _entries(3))
    assert json.loads(body) == {
        **SESSION,
        "state": STATE,
        "snapshots": _entries(3),
        "snapshots_truncated": False,
    }


def test_an_export_over_the_limit_keeps_the_newest_snapshots_that_fit(monkeypatch):
    monkeypatch.setattr(limits, "EXPORT_RESPONSE_LIMIT", 2000)
    body = fit_export(SESSION, jsonvalue.encode(STATE), _entries(100))
    exported = json.loads(body)
    assert len(body) <= 2000
    assert exported["snapshots_truncated"] is True
    kept = exported["snapshots"]
    assert kept == _entries(100)[: len(kept)]
    one_more = {**exported, "snapshots": _entries(100)[: len(kept) + 1]}
    assert len(jsonvalue.encode(one_more)) > 2000
