"""Hypothesis strategies for JSON values, JSON Pointers and RFC 6902 ops, and jsonpatch as
the reference implementation the property tests compare with."""

from __future__ import annotations

import copy

import jsonpatch
from hypothesis import strategies as st

Strategy = st.SearchStrategy


def json_values(keys: Strategy, scalars: Strategy, max_leaves: int) -> Strategy:
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)
        ),
        max_leaves=max_leaves,
    )


def pointers(tokens: Strategy, min_size: int = 0) -> Strategy:
    return st.lists(tokens, min_size=min_size, max_size=3).map(
        lambda path: "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in path)
    )


def operations(paths: Strategy, values: Strategy, with_test: bool = True) -> Strategy:
    kinds = [
        st.builds(lambda p, v: {"op": "add", "path": p, "value": v}, paths, values),
        st.builds(lambda p: {"op": "remove", "path": p}, paths),
        st.builds(lambda p, v: {"op": "replace", "path": p, "value": v}, paths, values),
        st.builds(lambda p, f: {"op": "move", "path": p, "from": f}, paths, paths),
        st.builds(lambda p, f: {"op": "copy", "path": p, "from": f}, paths, paths),
    ]
    if with_test:
        kinds.append(st.builds(lambda p, v: {"op": "test", "path": p, "value": v}, paths, values))
    return st.one_of(kinds)


def reference(state: dict, ops: list) -> dict | None:
    """What jsonpatch makes of the ops on a copy of `state`; None when it refuses them or
    they leave no object."""
    try:
        result = jsonpatch.JsonPatch(ops).apply(copy.deepcopy(state))
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError):
        return None
    return result if isinstance(result, dict) else None
