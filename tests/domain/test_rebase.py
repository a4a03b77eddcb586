"""Rebasing a stale patch over the changes since its base: indices move, overlaps refuse.

The property tests give every array item an identity, so that what each side meant is
known whatever the indices: a rebase that is accepted must keep every edit of both sides,
in the order they were made, and one that meets the other side's edits must refuse.
"""

import copy
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from solo.domain import jsonvalue
from solo.domain.errors import InvalidOps, RebaseConflict
from solo.domain.rebase import ConflictReason, _Reach, rebase
from tests.support.patches import reference

WORK = 100_000


def rebased(base: dict, committed: list[list[dict]], pending: list[dict]) -> tuple[dict, list]:
    head = copy.deepcopy(base)
    for change in committed:
        head = reference(head, change)
        assert head is not None, change
    done = rebase(
        head,
        jsonvalue.size_of(head),
        copy.deepcopy(pending),
        since=[jsonvalue.encode(change) for change in committed],
        work_limit=WORK,
    )
    assert done.applied.size == jsonvalue.size_of(done.applied.state)
    return done.applied.state, [jsonvalue.decode(op)[0] for op in done.ops]


BLOCKS = {"назва": "Чернетка", "блоки": ["а", "б", "в", "г", "ґ"]}


@pytest.mark.parametrize(
    ("committed", "pending", "moved"),
    [
        # An insert before the edited item moves it up; one after leaves it.
        ([{"op": "add", "path": "/блоки/1", "value": "нове"}], "/блоки/3", "/блоки/4"),
        ([{"op": "add", "path": "/блоки/4", "value": "нове"}], "/блоки/3", "/блоки/3"),
        # A removal before it moves it down.
        ([{"op": "remove", "path": "/блоки/0"}], "/блоки/3", "/блоки/2"),
        # Appends at the end, recorded as the index they were applied at, move nothing.
        ([{"op": "add", "path": "/блоки/5", "value": "кінець"}], "/блоки/3", "/блоки/3"),
        # Another member entirely.
        ([{"op": "replace", "path": "/назва", "value": "Інша"}], "/блоки/3", "/блоки/3"),
    ],
)
def test_an_edit_of_an_item_follows_it_over_inserts_and_removals(committed, pending, moved):
    state, ops = rebased(BLOCKS, [committed], [{"op": "replace", "path": pending, "value": "Я"}])
    assert ops == [{"op": "replace", "path": moved, "value": "Я"}]
    assert state == reference(reference(BLOCKS, committed), ops)
    assert "г" not in state["блоки"] and "Я" in state["блоки"]


def test_two_inserts_at_one_index_keep_the_committed_one_first():
    state, ops = rebased(
        BLOCKS,
        [[{"op": "add", "path": "/блоки/2", "value": "їхнє"}]],
        [{"op": "add", "path": "/блоки/2", "value": "моє"}],
    )
    assert ops == [{"op": "add", "path": "/блоки/3", "value": "моє"}]
    assert state["блоки"] == ["а", "б", "їхнє", "моє", "в", "г", "ґ"]


def test_a_patch_whose_later_ops_refer_to_its_earlier_ones_moves_as_one():
    # The pending patch removes the first item, then edits what was the second: the
    # committed insert between them must be moved over the removal to land right.
    state, ops = rebased(
        BLOCKS,
        [[{"op": "add", "path": "/блоки/1", "value": "їхнє"}]],
        [{"op": "remove", "path": "/блоки/0"}, {"op": "replace", "path": "/блоки/0", "value": "Б"}],
    )
    assert ops == [
        {"op": "remove", "path": "/блоки/0"},
        {"op": "replace", "path": "/блоки/1", "value": "Б"},
    ]
    assert state["блоки"] == ["їхнє", "Б", "в", "г", "ґ"]


@pytest.mark.parametrize(
    ("committed", "pending", "paths"),
    [
        # The same item edited on both sides.
        (
            {"op": "replace", "path": "/блоки/3", "value": "їхнє"},
            {"op": "replace", "path": "/блоки/3", "value": "моє"},
            ["/блоки/3"],
        ),
        # An item the other side removed.
        (
            {"op": "remove", "path": "/блоки/3"},
            {"op": "replace", "path": "/блоки/3", "value": "я"},
            ["/блоки/3"],
        ),
        # The array replaced whole under an insert into it.
        (
            {"op": "replace", "path": "/блоки", "value": []},
            {"op": "add", "path": "/блоки/0", "value": "я"},
            ["/блоки", "/блоки/0"],
        ),
        # Inside a member the other side replaced.
        (
            {"op": "replace", "path": "/мета", "value": {}},
            {"op": "add", "path": "/мета/автор", "value": "я"},
            ["/мета", "/мета/автор"],
        ),
        # A member both sides added.
        (
            {"op": "add", "path": "/мета/3", "value": "їхнє"},
            {"op": "add", "path": "/мета/3", "value": "моє"},
            ["/мета/3"],
        ),
        # A move inside an array the patch edits.
        (
            {"op": "move", "from": "/блоки/0", "path": "/блоки/4"},
            {"op": "replace", "path": "/блоки/2", "value": "я"},
            ["/блоки/2", "/блоки/4"],
        ),
    ],
)
def test_what_meets_the_changes_since_is_a_conflict_and_applies_nothing(committed, pending, paths):
    base = {**BLOCKS, "мета": {"автор": "хтось"}}
    head = reference(base, [committed])
    kept = copy.deepcopy(head)
    with pytest.raises(RebaseConflict) as conflict:
        rebase(
            head,
            jsonvalue.size_of(head),
            [pending],
            since=[jsonvalue.encode([committed])],
            work_limit=WORK,
        )
    assert (conflict.value.reason, conflict.value.paths) == (ConflictReason.OVERLAP, paths)
    assert head == kept


def test_a_whole_state_change_since_is_a_conflict():
    with pytest.raises(RebaseConflict) as conflict:
        rebased(
            BLOCKS,
            [[{"op": "replace", "path": "", "value": {"інше": 1}}]],
            [{"op": "replace", "path": "/назва", "value": "я"}],
        )
    assert (conflict.value.reason, conflict.value.paths) == (ConflictReason.WHOLE_STATE, [""])


def test_a_test_that_fails_on_the_head_is_a_conflict():
    base = {"лічильник": 1, "назва": "а"}
    head = {"лічильник": 1, "назва": "б"}
    with pytest.raises(RebaseConflict) as conflict:
        rebase(
            head,
            jsonvalue.size_of(head),
            [{"op": "test", "path": "/лічильник", "value": 2}],
            since=[jsonvalue.encode([{"op": "replace", "path": "/назва", "value": "б"}])],
            work_limit=WORK,
        )
    assert (conflict.value.reason, conflict.value.paths) == (
        ConflictReason.TEST_FAILED,
        ["/лічильник"],
    )
    assert head == {"лічильник": 1, "назва": "б"} and base["назва"] == "а"


def test_too_many_changes_since_is_refused_before_any_work():
    since = [
        jsonvalue.encode([{"op": "replace", "path": "/назва", "value": str(n)}]) for n in range(11)
    ]
    head = {"назва": "10", "інше": 0}
    with pytest.raises(RebaseConflict) as conflict:
        rebase(
            head,
            jsonvalue.size_of(head),
            [{"op": "replace", "path": "/інше", "value": 1}] * 10,
            since=since,
            work_limit=100,
        )
    assert conflict.value.reason == ConflictReason.TOO_FAR


def test_a_malformed_op_is_the_patchs_own_fault_whatever_came_since():
    with pytest.raises(InvalidOps) as invalid:
        rebased(
            BLOCKS,
            [[{"op": "remove", "path": "/назва"}]],
            [{"op": "remove", "path": "/блоки/0"}, {"op": "зламати", "path": "/x"}],
        )
    assert (invalid.value.op_index, invalid.value.reason) == (1, 'unknown operation "зламати"')


# Property tests: items with identities, so both sides' intents are known.

ITEMS = st.lists(st.integers(0, 7), min_size=0, max_size=6, unique=True)


def _item(n: int) -> dict:
    return {"id": f"п{n}", "текст": f"текст{n}"}


@st.composite
def _array_edits(draw, length: int, tag: str, max_ops: int = 3):
    """Ops on an array of `length` items: inserts, removals, and edits of an item's text;
    each op valid where it applies (indices tracked as the ops go)."""
    ops, size, fresh = [], length, 0
    for _ in range(draw(st.integers(0, max_ops))):
        kind = draw(st.sampled_from(["insert", "remove", "edit"] if size else ["insert"]))
        if kind == "insert":
            index = draw(st.integers(0, size))
            ops.append(
                {
                    "op": "add",
                    "path": f"/список/{index}",
                    "value": {"id": f"{tag}{fresh}", "текст": tag},
                }
            )
            size, fresh = size + 1, fresh + 1
        elif kind == "remove":
            ops.append({"op": "remove", "path": f"/список/{draw(st.integers(0, size - 1))}"})
            size -= 1
        else:
            ops.append(
                {
                    "op": "replace",
                    "path": f"/список/{draw(st.integers(0, size - 1))}/текст",
                    "value": f"{tag}-правка",
                }
            )
    return ops


def _intents(base: list, ops: list) -> tuple[dict, set, dict]:
    """What `ops` meant on `base`: the items it inserted (by id, with their text), the base
    items it removed, and the texts it gave base items."""
    items = reference({"список": copy.deepcopy(base)}, ops)["список"]
    before = {item["id"]: item["текст"] for item in base}
    after = {item["id"]: item["текст"] for item in items}
    inserted = {item_id: text for item_id, text in after.items() if item_id not in before}
    removed = set(before) - set(after)
    edits = {i: t for i, t in after.items() if i in before and t != before[i]}
    return inserted, removed, edits


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), ids=ITEMS)
def test_an_accepted_rebase_keeps_both_sides_edits_and_a_refused_one_had_a_reason(data, ids):
    base_items = [_item(n) for n in ids]
    base = {"список": base_items, "назва": "спільна"}
    theirs = data.draw(_array_edits(len(base_items), "їх"))
    mine = data.draw(_array_edits(len(base_items), "мій"))
    their_inserts, their_removed, their_edits = _intents(base_items, theirs)
    my_inserts, my_removed, my_edits = _intents(base_items, mine)
    touched_both = (their_removed | set(their_edits)) & (my_removed | set(my_edits))
    try:
        state, ops = rebased(base, [theirs], mine)
    except RebaseConflict as conflict:
        # Refused: the two sides touched one base item (edited or removed it both).
        assert conflict.reason == ConflictReason.OVERLAP
        assert touched_both, (theirs, mine, conflict.paths)
        return
    assert not touched_both, (theirs, mine)
    # The ops logged are the ops that made the result, applied to what was committed.
    assert state == reference(reference(base, theirs), ops)
    result = {item["id"]: item for item in state["список"]}
    base_ids = [item["id"] for item in base_items]
    assert set(result) == (set(base_ids) - their_removed - my_removed) | set(their_inserts) | set(
        my_inserts
    )
    for item_id, text in {**their_edits, **my_edits, **their_inserts, **my_inserts}.items():
        assert result[item_id]["текст"] == text
    kept_order = [item_id for item_id in (i["id"] for i in state["список"]) if item_id in base_ids]
    assert kept_order == [i for i in base_ids if i in result]


KEYS = st.sampled_from(["а", "б", "в", "г"])


@settings(max_examples=300, deadline=None)
@given(
    theirs=st.dictionaries(KEYS, st.integers(0, 9), max_size=2),
    mine=st.dictionaries(KEYS, st.text("жк", max_size=2), max_size=2),
)
def test_with_disjoint_members_the_result_is_either_order(theirs, mine):
    base = {"їх": {"спільне": 0}, "мої": {"спільне": 0}}
    committed = [
        {"op": "add", "path": f"/їх/{key}", "value": value} for key, value in theirs.items()
    ]
    pending = [{"op": "add", "path": f"/мої/{key}", "value": value} for key, value in mine.items()]
    state, ops = rebased(base, [committed], pending)
    assert ops == pending
    assert state == reference(reference(base, pending), committed)
    assert state == reference(reference(base, committed), pending)


MIXED = {"масив": [1, 2, 3], "обʼєкт": {"х": 1, "список": [1, 2]}, "число": 0}
"""Members of each kind side by side: a one-op patch to a member that no committed op
reaches takes the short way (applied as it is); these compare it with the long one."""
MIXED_OPS = [
    {"op": "replace", "path": "/число", "value": 5},
    {"op": "test", "path": "/число", "value": 0},
    {"op": "add", "path": "/масив/0", "value": 9},
    {"op": "add", "path": "/масив/-", "value": 9},
    {"op": "remove", "path": "/масив/1"},
    {"op": "replace", "path": "/обʼєкт/х", "value": 2},
    {"op": "add", "path": "/обʼєкт/новий", "value": [0]},
    {"op": "remove", "path": "/обʼєкт/список/0"},
    {"op": "move", "from": "/обʼєкт/х", "path": "/перенесене"},
    {"op": "copy", "from": "/масив/0", "path": "/обʼєкт/копія"},
    {"op": "add", "path": "/нове", "value": {"в": 1}},
    {"op": "remove", "path": "/число"},
]


def outcome(committed: list[list[dict]], pending: dict):
    try:
        return rebased(MIXED, committed, [pending])
    except RebaseConflict as conflict:
        return conflict.reason, conflict.paths


@settings(max_examples=400, deadline=None)
@given(
    committed=st.lists(st.sampled_from(MIXED_OPS), max_size=3),
    pending=st.sampled_from(MIXED_OPS),
)
def test_a_one_op_patch_nothing_committed_reaches_applies_as_the_long_way_would(committed, pending):
    assume(reference(MIXED, committed) is not None)  # else it could not have been committed
    changes = [[op] for op in committed]
    short = outcome(changes, pending)
    with mock.patch.object(_Reach, "typed_beside", return_value=None):
        long = outcome(changes, pending)
    assert short == long
