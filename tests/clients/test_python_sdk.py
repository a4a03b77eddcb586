"""A Python SDK generated from the served spec by openapi-python-client drives the whole flow.

Generated at test time into a temporary folder (never committed), from the URL a client
team would use, with the settings in clients/openapi-python-client.yaml.
"""

from __future__ import annotations

import importlib
import os
import pathlib
import sys

import httpx
import pytest

from solo.web.spec import load_spec
from tests.clients.conftest import ROOT, USER, assert_no_warning, run, token

GENERATOR = pathlib.Path(sys.executable).with_name("openapi-python-client")
CONFIG = ROOT / "clients" / "openapi-python-client.yaml"
STATE = {"назва": "Чернетка", "блоки": ["Перший абзац"]}
ERROR_CLASSES = {
    name
    for name, schema in load_spec()["components"]["schemas"].items()
    if "error" in schema.get("properties", {})
}
"""One model class per error schema of the spec (each schema names one error code)."""


@pytest.fixture(scope="module")
def sdk(served, tmp_path_factory):
    server, _settings = served
    out = tmp_path_factory.mktemp("python-sdk") / "solo-client"
    output = run(
        [
            *(GENERATOR, "generate", "--url", f"{server.api_url}/openapi.json"),
            *("--config", CONFIG, "--output-path", out),
        ],
        # Its post-generation hooks run ruff, which lives next to it.
        env={"PATH": f"{GENERATOR.parent}:{os.environ['PATH']}"},
    )
    assert_no_warning(output)
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("solo_client")
    finally:
        sys.path.remove(str(out))
        for name in [name for name in sys.modules if name.split(".")[0] == "solo_client"]:
            del sys.modules[name]


def test_each_error_code_is_one_model_class(sdk):
    models = importlib.import_module("solo_client.models")
    # Each also has an enum of its one code, named ...ErrorError by the generator.
    errors = {name for name in models.__all__ if name.endswith("Error")}
    assert {name for name in errors if not name.endswith("ErrorError")} == ERROR_CLASSES


def test_the_generated_sdk_drives_the_whole_flow(sdk, served):
    server, settings = served
    with sdk.AuthenticatedClient(base_url=server.api_url, token=token(settings)) as client:
        drive(client, server)


def drive(client, server) -> None:
    from solo_client.api.revisions import list_changes, restore_session
    from solo_client.api.sessions import (
        create_session,
        delete_session,
        diff_session,
        get_session,
        list_sessions,
        save_stream,
    )
    from solo_client.api.snapshots import (
        create_snapshot,
        export_session,
        get_latest_snapshot,
        get_snapshot,
        list_snapshots,
    )
    from solo_client.api.telemetry import send_beacon
    from solo_client.models import (
        CreateSessionRequest,
        DiffRequest,
        NotFoundError,
        PatchOperation,
        PatchOperationOp,
        PreconditionFailedError,
        PreconditionFailedErrorReason,
        RestoreRequest,
        RevisionUnavailableError,
        SnapshotDocument,
        State,
    )

    created = create_session.sync_detailed(
        client=client, body=CreateSessionRequest(state=State.from_dict(STATE))
    )
    assert created.status_code == 201
    session = created.parsed
    assert (session.rev, session.state.to_dict(), session.last_seen_at) == (0, STATE, None)
    assert created.headers["Location"] == f"{server.api_url}/sessions/{session.id}/"

    read = get_session.sync_detailed(session.id, client=client)
    assert (read.status_code, read.headers["ETag"]) == (200, '"0"')
    assert read.parsed.to_dict() == {
        **session.to_dict(),
        "beacon_url": read.parsed.beacon_url,
        "events_url": read.parsed.events_url,
    }
    etag = read.headers["ETag"]

    add = PatchOperation(op=PatchOperationOp.ADD, path="/назва", value="Нова назва")
    diffed = diff_session.sync_detailed(
        session.id, client=client, body=DiffRequest(ops=[add]), if_match=etag
    )
    assert (diffed.status_code, diffed.parsed.rev, diffed.headers["ETag"]) == (200, 1, '"1"')

    stale = diff_session.sync_detailed(
        session.id, client=client, body=DiffRequest(ops=[add]), if_match=etag
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, PreconditionFailedError)
    assert stale.parsed.reason == PreconditionFailedErrorReason.MISMATCH
    assert stale.headers["ETag"] == '"1"'

    new_state = {"назва": "Збережено цілком", "блоки": []}
    saved = save_stream.sync_detailed(
        session.id, client=client, body=State.from_dict(new_state), if_match='"1"'
    )
    assert (saved.status_code, saved.parsed.rev) == (200, 2)

    feed = list_changes.sync_detailed(session.id, client=client, since=0)
    assert (feed.status_code, feed.headers["ETag"], feed.parsed.rev) == (200, '"2"', 2)
    assert [change.rev for change in feed.parsed.changes] == [1, 2]
    assert feed.parsed.changes[0].ops[0].to_dict() == add.to_dict()
    assert feed.parsed.changes[1].ops[0].to_dict() == {
        "op": "replace",
        "path": "",
        "value": new_state,
    }

    unavailable = restore_session.sync_detailed(
        session.id, client=client, body=RestoreRequest(rev=99), if_match='"2"'
    )
    assert (unavailable.status_code, type(unavailable.parsed)) == (422, RevisionUnavailableError)
    restored = restore_session.sync_detailed(
        session.id, client=client, body=RestoreRequest(rev=2), if_match='"2"'
    )
    assert (restored.status_code, restored.parsed.rev, restored.parsed.restored_from) == (
        200,
        3,
        2,
    )
    etag_after_restore = restored.headers["ETag"]
    assert etag_after_restore == '"3"'

    beacon = send_beacon.sync_detailed(session.id, client=client, body={"подія": "pagehide"})
    assert beacon.status_code == 204
    after_beacon = get_session.sync_detailed(session.id, client=client).parsed
    assert (after_beacon.rev, after_beacon.state.to_dict()) == (3, new_state)
    assert after_beacon.last_seen_at is not None

    link = create_snapshot.sync_detailed(session.id, client=client)
    assert (link.status_code, link.parsed.rev) == (201, 3)
    assert link.parsed.url.startswith(f"{server.base_url}/api/v1/solo/files/")
    downloaded = SnapshotDocument.from_dict(httpx.get(link.parsed.url, timeout=10).json())
    assert (downloaded.session_id, downloaded.rev, downloaded.state.to_dict()) == (
        session.id,
        3,
        new_state,
    )

    latest = get_latest_snapshot.sync_detailed(session.id, client=client)
    assert latest.parsed.rev == 3
    by_rev = get_snapshot.sync_detailed(session.id, 3, client=client)
    assert by_rev.parsed.rev == 3
    listed = list_snapshots.sync_detailed(session.id, client=client).parsed
    assert [item.rev for item in listed.items] == [3]

    sessions = list_sessions.sync_detailed(client=client).parsed
    assert [item.id for item in sessions.items] == [session.id]

    exported = export_session.sync_detailed(session.id, client=client)
    assert exported.status_code == 200
    assert exported.parsed.state.to_dict() == new_state
    assert [item.rev for item in exported.parsed.snapshots] == [3]

    deleted = delete_session.sync_detailed(session.id, client=client, if_match='"3"')
    assert deleted.status_code == 204
    gone = get_session.sync_detailed(session.id, client=client)
    assert (gone.status_code, type(gone.parsed)) == (404, NotFoundError)
    assert gone.parsed.request_id == gone.headers["X-Request-ID"]
    assert USER not in str(gone.parsed.to_dict())
