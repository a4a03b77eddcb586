"""The spec's documented limits and solo/limits.py are one truth."""

from solo import limits
from solo.app import load_spec

SPEC = load_spec()


def _operations():
    for path_item in SPEC["paths"].values():
        for method, operation in path_item.items():
            if method in {"get", "post", "patch", "delete", "put"}:
                yield operation


def test_every_body_limit_in_the_spec_is_the_one_in_limits_py():
    documented = {
        op["operationId"]: op["requestBody"]["x-body-limit"]
        for op in _operations()
        if "x-body-limit" in op.get("requestBody", {})
    }
    assert documented == limits.BODY_LIMITS


def test_exactly_the_limited_operations_declare_413():
    with_413 = {op["operationId"] for op in _operations() if "413" in op["responses"]}
    assert with_413 == set(limits.BODY_LIMITS)


def test_the_413_body_names_only_limits_from_limits_py():
    schema = SPEC["components"]["responses"]["PayloadTooLarge"]["content"]["application/json"]
    limit_enum = schema["schema"]["allOf"][1]["properties"]["limit"]["enum"]
    assert sorted(limit_enum) == sorted(set(limits.BODY_LIMITS.values()))


def test_state_too_large_names_the_state_limit():
    schema = SPEC["components"]["responses"]["DiffUnprocessable"]["content"]["application/json"]
    state_too_large = schema["schema"]["oneOf"][1]["allOf"][1]
    assert state_too_large["properties"]["limit"]["enum"] == [limits.STATE_SIZE_LIMIT]


def test_the_named_limits_are_the_contracts():
    assert (limits.DIFF_BODY_LIMIT, limits.STREAM_BODY_LIMIT) == (524288, 2097152)
    assert (limits.BEACON_BODY_LIMIT, limits.EXPORT_RESPONSE_LIMIT) == (65536, 10485760)


def test_every_authenticated_operation_draws_from_a_budget_and_declares_429():
    secured = {op["operationId"] for op in _operations() if op.get("security", [{}]) != []}
    with_429 = {op["operationId"] for op in _operations() if "429" in op["responses"]}
    assert secured == set(limits.RATE_LIMIT_GROUPS) == with_429
    assert set(limits.RATE_LIMIT_GROUPS.values()) <= {"write", "beacon", "snapshot", "read"}
