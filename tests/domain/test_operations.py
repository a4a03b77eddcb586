"""The domain refuses every op the spec's PatchOperation schema refuses.

The body validator leaves the ops to the domain (they are checked after the precondition,
and jsonschema over thousands of ops is slow): this is what keeps the two in agreement.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from solo.domain.operations import BadOp, parsed_op
from solo.web.spec import load_spec

SCHEMAS = load_spec()["components"]["schemas"]
POINTER = SCHEMAS["JsonPointer"]
PATCH_OPERATION = Draft4Validator(
    {
        **SCHEMAS["PatchOperation"],
        "properties": {
            **SCHEMAS["PatchOperation"]["properties"],
            "path": POINTER,
            "from": POINTER,
        },
    },
    format_checker=Draft4Validator.FORMAT_CHECKER,
)
TEXT = st.one_of(
    st.sampled_from(["", "/", "/а", "/а/0", "а", "/~", "/~2", "/~01", "/а\n", "-"]),
    st.text("/~01аб\n", max_size=6),
)
ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), TEXT, st.lists(TEXT, max_size=2)
)
MEMBERS = st.fixed_dictionaries(
    {},
    optional={
        "op": st.one_of(
            st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "зламати"]),
            ANYTHING,
        ),
        "path": st.one_of(TEXT, ANYTHING),
        "from": st.one_of(TEXT, ANYTHING),
        "value": ANYTHING,
        "інше": ANYTHING,
    },
)


def refused_by_domain(op) -> bool:
    try:
        parsed_op(op)
    except BadOp:
        return True
    return False


@settings(max_examples=2000, deadline=None)
@given(st.one_of(MEMBERS, ANYTHING))
def test_what_the_schema_refuses_the_domain_refuses(op):
    if not PATCH_OPERATION.is_valid(op):
        assert refused_by_domain(op), op


@pytest.mark.parametrize(
    ("op", "reason"),
    [
        (
            {"op": "add", "path": "/а", "value": 1, "from": ["/б"]},
            "'from' must be a JSON Pointer string",
        ),
        (
            {"op": "add", "path": "/а", "value": 1, "from": "без-слеша"},
            "the pointer 'без-слеша' must be empty or start with '/'",
        ),
    ],
)
def test_from_is_a_pointer_on_every_op_where_present(op, reason):
    with pytest.raises(BadOp) as refused:
        parsed_op(op)
    assert str(refused.value) == reason
