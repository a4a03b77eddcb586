import json

from solo import limits
from solo.services.snapshots import fit_export


def _document(snapshots: int) -> dict:
    return {
        "session": {"id": "5b0d7a4e-2f6b-4c7e-9a11-3f2d9c8e7a10", "rev": snapshots},
        "state": {"текст": "ж" * 100},
        "snapshots": [
            {"rev": rev, "created_at": "2026-11-26T09:00:00Z", "size": 100}
            for rev in reversed(range(snapshots))
        ],
    }


def test_an_export_within_the_limit_is_whole():
    body = fit_export(_document(3))
    assert json.loads(body) == {**_document(3), "snapshots_truncated": False}


def test_an_export_over_the_limit_keeps_the_newest_snapshots_that_fit(monkeypatch):
    monkeypatch.setattr(limits, "EXPORT_RESPONSE_LIMIT", 2000)
    body = fit_export(_document(100))
    exported = json.loads(body)
    assert len(body) <= 2000
    assert exported["snapshots_truncated"] is True
    kept = exported["snapshots"]
    assert [s["rev"] for s in kept] == list(reversed(range(100)))[: len(kept)]
    one_more = {**exported, "snapshots": _document(100)["snapshots"][: len(kept) + 1]}
    assert len(json.dumps(one_more, ensure_ascii=False, separators=(",", ":")).encode()) > 2000
