"""The local store: atomic writes, keys that cannot escape the root, sealed downloads."""

import datetime as dt
import os

import pytest

from solo.domain.errors import StorageUnavailable
from solo.domain.keys import key_segment, snapshot_key
from solo.security.sealing import Sealer
from solo.storage import ExpiredOrForged, NoSuchObject
from solo.storage.local import LocalBlobStore
from tests.support.clock import START

KEY = "ключ-підпису".encode()
NOW = START


@pytest.fixture
def store(tmp_path, clock):
    return LocalBlobStore(tmp_path / "сховище", KEY, "/api/v1/solo/files", clock)


@pytest.mark.parametrize(
    ("user", "segment"),
    [
        ("олена", "олена"),
        ("a/b", "a%2Fb"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("50%", "50%25"),
        ("back\\slash", "back%5Cslash"),
        ("new\nline", "new%0Aline"),
        ("...", "..."),
    ],
)
def test_key_segments_never_make_a_path_of_their_own(user, segment):
    assert key_segment(user) == segment


def test_a_hostile_user_id_stays_inside_the_root(store):
    key = snapshot_key("../../etc", "5b0d7a4e-2f6b-4c7e-9a11-3f2d9c8e7a10", 3)
    store.put(key, b"{}")
    written = [p for p in store.root.rglob("*.json")]
    assert len(written) == 1
    assert store.root in written[0].parents


def test_put_replaces_atomically_and_leaves_no_temporary_file(store):
    store.put("solo/олена/s/0.json", b'{"v": 1}')
    store.put("solo/олена/s/0.json", b'{"v": 2}')
    assert (store.root / "solo/олена/s/0.json").read_bytes() == b'{"v": 2}'
    assert [p.name for p in (store.root / "solo/олена/s").iterdir()] == ["0.json"]


def test_a_failed_write_leaves_nothing_behind(store, monkeypatch):
    def refuse(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(StorageUnavailable):
        store.put("solo/олена/s/0.json", b"{}")
    assert list((store.root / "solo/олена/s").iterdir()) == []


def test_a_sealed_url_opens_its_object_until_it_expires(store, clock):
    store.put("solo/олена/s/0.json", b"{}")
    token = store.url("solo/олена/s/0.json", 900).rsplit("/", 1)[1]
    assert store.download(token) == b"{}"
    clock.now = NOW + dt.timedelta(seconds=900)
    with pytest.raises(ExpiredOrForged):
        store.download(token)


def test_a_retargeted_or_foreign_token_is_refused(store):
    store.put("solo/олена/s/0.json", b"{}")
    store.put("solo/тарас/t/0.json", b"{}")
    expires = int(NOW.timestamp()) + 900
    retargeted = Sealer(b"other key", "file").seal(["solo/тарас/t/0.json", expires])
    beacon_purpose = Sealer(KEY, "beacon").seal(["solo/тарас/t/0.json", expires])
    for token in (retargeted, beacon_purpose, "сміття", ""):
        with pytest.raises(ExpiredOrForged):
            store.download(token)


def test_a_sealed_key_outside_the_layout_is_not_found(store):
    token = Sealer(KEY, "file").seal(["../../etc/passwd", int(NOW.timestamp()) + 900])
    with pytest.raises(NoSuchObject):
        store.download(token)


def test_delete_many_removes_the_objects_named_and_only_those(store):
    for name in ("перший", "другий", "третій"):
        store.put(f"олена/{name}.json", b"{}")
    store.delete_many(["олена/перший.json", "олена/третій.json", "олена/нема.json"])
    assert [store.get(f"олена/{name}.json") for name in ("перший", "другий", "третій")] == [
        None,
        b"{}",
        None,
    ]
