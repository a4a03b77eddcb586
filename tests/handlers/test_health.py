import dataclasses

from solo.domain import errors as domain
from tests.support.bodies import error_body


def test_healthz_needs_no_token(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_the_database_and_the_store(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}


def test_readyz_is_503_when_the_store_does_not_answer(settings, make_client, tmp_path):
    blocker = tmp_path / "файл"
    blocker.write_text("не тека")
    client, _ = make_client(
        dataclasses.replace(settings, storage_url=f"file://{blocker}/snapshots")
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        **error_body(response, domain.Unavailable({})),
        "checks": {"database": "ok", "storage": "unavailable"},
    }
