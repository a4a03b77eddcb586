"""The spec's per-operation policy and solo/limits.py are one truth."""

from solo import limits
from solo.runtime.rate_limits import RateLimits
from solo.settings import Settings
from solo.web.spec import body_limits, load_spec, operations, rate_limit_groups

SPEC = load_spec()
SCHEMAS = SPEC["components"]["schemas"]


def test_every_body_limit_in_the_spec_is_the_contracts_from_limits_py():
    assert body_limits(SPEC) == {
        "createSession": limits.STREAM_BODY_LIMIT,
        "diffSession": limits.DIFF_BODY_LIMIT,
        "saveStream": limits.STREAM_BODY_LIMIT,
        "sendBeacon": limits.BEACON_BODY_LIMIT,
        "restoreSession": limits.RESTORE_BODY_LIMIT,
        "labelSnapshot": limits.SNAPSHOT_LABEL_BODY_LIMIT,
    }


def test_exactly_the_limited_operations_declare_413():
    with_413 = {op["operationId"] for op in operations(SPEC) if "413" in op["responses"]}
    assert with_413 == set(body_limits(SPEC))


def test_the_413_body_names_only_limits_from_limits_py():
    limit_enum = SCHEMAS["PayloadTooLargeError"]["properties"]["limit"]["enum"]
    assert sorted(limit_enum) == sorted(set(body_limits(SPEC).values()))


def test_state_too_large_names_the_state_limit():
    assert SCHEMAS["StateTooLargeError"]["properties"]["limit"]["enum"] == [limits.STATE_SIZE_LIMIT]


def test_the_named_limits_are_the_contracts():
    assert (limits.DIFF_BODY_LIMIT, limits.STREAM_BODY_LIMIT) == (524288, 2097152)
    assert (limits.BEACON_BODY_LIMIT, limits.EXPORT_RESPONSE_LIMIT) == (65536, 10485760)


def test_every_authenticated_operation_draws_from_a_known_budget_and_declares_429():
    secured = {op["operationId"] for op in operations(SPEC) if op.get("security", [{}]) != []}
    with_429 = {op["operationId"] for op in operations(SPEC) if "429" in op["responses"]}
    groups = rate_limit_groups(SPEC)
    assert secured == set(groups) == with_429
    assert set(groups.values()) == RateLimits(Settings()).groups


def test_the_write_budget_covers_every_write():
    groups = rate_limit_groups(SPEC)
    writes = {op for op, group in groups.items() if group == "write"}
    assert writes == {
        "createSession",
        "diffSession",
        "saveStream",
        "deleteSession",
        "restoreSession",
        "labelSnapshot",
        "deleteSnapshot",
    }
    assert groups["sendBeacon"] == "beacon"
    assert groups["createSnapshot"] == "snapshot"


def test_exactly_the_operations_that_read_a_body_declare_408():
    with_408 = {op["operationId"] for op in operations(SPEC) if "408" in op["responses"]}
    assert with_408 == set(body_limits(SPEC))


def test_every_operation_but_liveness_may_answer_503_with_retry_after():
    without_503 = {op["operationId"] for op in operations(SPEC) if "503" not in op["responses"]}
    assert without_503 == {"getHealth"}
    unavailable = SPEC["components"]["responses"]["Unavailable"]
    assert set(unavailable["headers"]) == {"X-Request-ID", "Retry-After"}


def test_the_change_feeds_page_sizes_are_the_ones_in_limits_py():
    listing = SPEC["paths"]["/sessions/{session_id}/changes/"]["get"]
    (limit,) = [p["schema"] for p in listing["parameters"] if p.get("name") == "limit"]
    assert (limit["default"], limit["maximum"]) == (
        limits.CHANGES_PAGE_DEFAULT,
        limits.CHANGES_PAGE_MAX,
    )
