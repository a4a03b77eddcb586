"""The S3 store against moto's S3 over HTTP: keys under the store's prefix, presigned
downloads, and S3's refusals as StorageUnavailable."""

import boto3
import httpx2
import pytest

from solo.domain.errors import StorageUnavailable
from solo.storage import NoSuchObject
from solo.storage.s3 import S3BlobStore

PREFIX = "префікс/"
KEY = "олена/знімок.json"
DATA = '{"назва": "Чернетка"}'.encode()


@pytest.fixture
def store(moto, s3_bucket):
    return S3BlobStore(s3_bucket, PREFIX, moto.endpoint_url)


@pytest.fixture
def bucket(moto, s3_bucket):
    """The bucket as S3 itself answers for it, past the store."""
    return boto3.resource("s3", endpoint_url=moto.endpoint_url).Bucket(s3_bucket)


def stored(bucket) -> dict[str, bytes]:
    return {item.key: item.get()["Body"].read() for item in bucket.objects.all()}


def test_an_object_is_put_as_json_under_the_prefix(store, bucket):
    store.put(KEY, DATA)
    assert stored(bucket) == {PREFIX + KEY: DATA}
    assert bucket.Object(PREFIX + KEY).content_type == "application/json"
    assert store.get(KEY) == DATA


def test_a_missing_object_is_none(store):
    assert store.get(KEY) is None


def test_a_presigned_url_downloads_the_object_without_a_token(store):
    store.put(KEY, DATA)
    response = httpx2.get(store.url(KEY, 60))
    assert (response.status_code, response.content) == (200, DATA)


def test_this_server_serves_no_download_of_its_own(store):
    with pytest.raises(NoSuchObject):
        store.download("токен")


def test_delete_removes_one_object(store, bucket):
    store.put(KEY, DATA)
    store.put("олена/інший.json", DATA)
    store.delete(KEY)
    store.delete("тарас/нема.json")  # deleting what is not there is no error
    assert stored(bucket) == {PREFIX + "олена/інший.json": DATA}


def test_delete_many_removes_the_keys_named_a_call_per_batch(store, bucket, monkeypatch):
    monkeypatch.setattr("solo.storage.s3._DELETE_OBJECTS_MAX", 2)
    calls = []
    store._client.meta.events.register(
        "before-call.s3.DeleteObjects", lambda **_kwargs: calls.append(1)
    )
    for number in range(6):
        store.put(f"олена/{number}.json", DATA)
    store.delete_many([f"олена/{number}.json" for number in (0, 1, 2, 4, 5)] + ["олена/нема.json"])
    assert stored(bucket) == {PREFIX + "олена/3.json": DATA}
    assert len(calls) == 3


def test_delete_prefix_removes_only_the_keys_under_it(store, bucket):
    bucket.put_object(Key="олена/поза-префіксом.json", Body=DATA)
    for number in range(3):
        store.put(f"олена/{number}.json", DATA)
    store.put("оленка/знімок.json", DATA)
    store.delete_prefix("олена/")
    assert stored(bucket) == {
        "олена/поза-префіксом.json": DATA,
        PREFIX + "оленка/знімок.json": DATA,
    }


def test_nothing_is_ever_left_over(store):
    assert store.remove_leftovers(0) == 0


def test_a_check_passes_while_the_bucket_answers(store):
    store.check()


def test_a_missing_bucket_is_storage_unavailable(moto, aws_credentials):
    store = S3BlobStore("solo-no-such-bucket", PREFIX, moto.endpoint_url)
    with pytest.raises(StorageUnavailable) as refused:
        store.check()
    assert (refused.value.checks, refused.value.detail) == (
        {"storage": "unavailable"},
        "S3 answered 404",
    )
    with pytest.raises(StorageUnavailable) as refused:
        store.put(KEY, DATA)
    assert refused.value.detail == "S3 answered NoSuchBucket"
