"""The spec declares the answers of issue 17 where the server can give them."""

from solo.web.spec import load_spec, operations

SPEC = load_spec()


def declaring(status, response):
    ref = f"#/components/responses/{response}"
    return {
        op["operationId"]
        for op in operations(SPEC)
        if op["responses"].get(status, {}).get("$ref") == ref
    }


def test_every_write_that_stores_more_declares_quota_exceeded():
    assert declaring("403", "QuotaExceeded") == {
        "createSession",
        "diffSession",
        "saveStream",
        "restoreSession",
        "createSnapshot",
    }


def test_the_change_feed_declares_a_client_ahead_of_the_server():
    assert declaring("409", "AheadOfServer") == {"listChanges"}


def test_snapshot_links_and_summaries_carry_their_labels():
    schemas = SPEC["components"]["schemas"]
    for name in ("SnapshotLink", "SnapshotSummary"):
        assert {"name", "pinned"} <= set(schemas[name]["required"])
