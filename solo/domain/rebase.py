"""Rebase a stale patch: RFC 6902 ops computed on rev n, moved over the changes committed
since n and applied to the head, or refused as a conflict. No I/O.

The changes since n may only move the patch's array indices: an item inserted before one
the patch touches shifts it up, one removed shifts it down (the rules of JSON operational
transformation for add and remove on arrays; two inserts at one index keep the committed
one first). Anything else they changed must not meet what the patch touches: an op whose
path or `from` is equal to, inside or above a path changed since n is a conflict, as is a
whole-state change since n, a move inside an array the patch touches (not transformed,
refused), and a `test` that fails on the head. A conflict is never resolved silently.

RFC 6902 does not say whether a path's parent is an array or an object (`/a/3` is either).
A committed op's parent is looked up in the head state, at its path moved forward over the
ops after it; the patch's own, in the state as the patch applies, op by op. A parent that
is gone by then is opaque: anything of the patch inside it conflicts.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Callable, Iterator
from typing import Any

from solo import limits
from solo.domain import jsonvalue
from solo.domain.errors import InvalidOps, RebaseConflict
from solo.domain.jsonvalue import JsonValue
from solo.domain.operations import BadOp, parsed_op, path_of, tokens_of
from solo.domain.patch import Applied, Patching, short_reason
from solo.domain.pointer import CANONICAL_INDEX

Tokens = tuple[str, ...]

_PLACED_BY_PARENT = frozenset({"add", "remove", "copy", "move"})
"""Ops whose effects depend on whether their parent is an array (an insert or a removal
there, a member set or dropped otherwise). A replace or a test changes or reads what is
at its path whatever holds it: its parents' kinds are never looked up, a look-up costing
a pass over the ops it is moved over."""


class ConflictReason(enum.StrEnum):
    OVERLAP = "overlap"
    WHOLE_STATE = "whole_state"
    TEST_FAILED = "test_failed"
    TOO_FAR = "too_far"


class _Kind(enum.Enum):
    INSERT = "insert"  # an item added into the array at[:-1], at index at[-1]
    DELETE = "delete"  # the item at `at` removed from its array
    SET = "set"  # whatever is at `at`, and inside it, changed
    READ = "read"  # what is at `at` was read (a test, a copy's source)


@dataclasses.dataclass(frozen=True)
class _Effect:
    kind: _Kind
    at: Tokens

    def disturbs(self, other: _Effect) -> bool:
        """Whether this change alters what `other` relies on (beyond moving an index)."""
        if self.kind is _Kind.READ:
            return False
        if other.kind is _Kind.INSERT:
            # An insert relies on its array being the same array: not replaced, not inside
            # an item that was removed.
            return self._replaces(other.at[:-1])
        relied = other.at
        if self.kind is _Kind.SET:
            return _within(relied, self.at) or _within(self.at, relied)
        if self.kind is _Kind.INSERT:
            return _within(self.at[:-1], relied)
        # A removal alters its array (and what contains it) and the item it removes.
        return _within(self.at[:-1], relied) or _within(relied, self.at)

    def _replaces(self, array: Tokens) -> bool:
        if self.kind is _Kind.SET:
            return _within(array, self.at)
        if self.kind is _Kind.DELETE:
            return _within(array, self.at)
        return False


@dataclasses.dataclass(frozen=True)
class _Op:
    """An op with its pointers parsed, and whether each pointer's parent is an array
    (None: not known, opaque)."""

    body: dict[str, Any]
    kind: str
    path: Tokens
    source: Tokens | None
    path_in_array: bool | None = None
    source_in_array: bool | None = None

    @functools.cached_property
    def effects(self) -> list[_Effect]:
        """What the op does, computed once: a rebase asks each op many times."""
        if self.kind == "test":
            return [_Effect(_Kind.READ, self.path)]
        if self.kind == "replace":
            return [_Effect(_Kind.SET, self.path)]
        if self.kind == "move":
            assert self.source is not None
            # Not transformed: what it leaves and where it lands count as changed whole,
            # the arrays included when they are arrays.
            return [
                _Effect(_Kind.SET, _unless_object(self.source, self.source_in_array)),
                _Effect(_Kind.SET, _unless_object(self.path, self.path_in_array)),
            ]
        target = self._target(_Kind.INSERT if self.kind in ("add", "copy") else _Kind.DELETE)
        if self.kind == "copy":
            assert self.source is not None
            return [_Effect(_Kind.READ, self.source), target]
        return [target]

    def _target(self, kind: _Kind) -> _Effect:
        if self.path_in_array is None:
            return _Effect(_Kind.SET, self.path[:-1])  # opaque: its whole parent
        if self.path_in_array and self.path[-1] != "-":
            return _Effect(kind, self.path)
        return _Effect(_Kind.SET, self.path)

    def typed(self, *, path_in_array: bool | None, source_in_array: bool | None) -> _Op:
        """The op with its parents' kinds (built directly: `dataclasses.replace` costs
        several times more, and a rebase types every op it moves over)."""
        return _Op(self.body, self.kind, self.path, self.source, path_in_array, source_in_array)

    @property
    def inserts(self) -> bool:
        return self.kind in ("add", "copy") and bool(self.path_in_array)

    def moved(self, path: Tokens, source: Tokens | None) -> _Op:
        if path == self.path and source == self.source:
            return self
        body = {**self.body, "path": path_of(path)}
        if source is not None:
            body["from"] = path_of(source)
        return dataclasses.replace(self, body=body, path=path, source=source)


def _unless_object(path: Tokens, in_array: bool | None) -> Tokens:
    return path if in_array is False else path[:-1]


def _within(path: Tokens, ancestor: Tokens) -> bool:
    """`path` is `ancestor` or inside it."""
    return path[: len(ancestor)] == ancestor


def _parsed(op: Any) -> _Op:
    kind, path = parsed_op(op)
    source = tokens_of(op["from"]) if kind in ("move", "copy") else None
    return _Op(op, kind, path, source)


@dataclasses.dataclass(frozen=True)
class Rebased:
    """The patch as applied to the head, and its ops as they were applied there (canonical
    JSON, each encoded before it applied)."""

    applied: Applied
    ops: list[bytes]


def rebase(
    state: dict[str, JsonValue],
    size: int,
    ops: list[Any],
    *,
    since: list[bytes],
    work_limit: int,
) -> Rebased:
    """Apply `ops`, computed on the base, to `state` (the head, of canonical `size`; in
    place) after moving them over `since`, the ops of each change after the base in order
    (canonical JSON, as the log keeps them).

    RebaseConflict (with `state` as it was) when they meet; InvalidOps, before anything
    applies, when an op is malformed; StateTooLarge as for any patch.
    """
    for index, op in enumerate(ops):
        try:
            parsed_op(op)  # a malformed op is the client's fault, whatever came since
        except BadOp as refusal:
            raise InvalidOps(op_index=index, reason=short_reason(refusal)) from None
    committed = list(_flattened(since))
    if len(committed) * max(len(ops), 1) > work_limit:
        raise RebaseConflict(ConflictReason.TOO_FAR, [])
    reach = _Reach(committed)
    patching = Patching(state, size)
    later: list[_Op] | None = None
    encoded: list[bytes] = []
    try:
        for index, op in enumerate(ops):
            mine = _parsed(op)
            beside = reach.typed_beside(mine, patching) if len(ops) == 1 else None
            if beside is not None:
                # Nothing committed reaches what a one-op patch touches (an autosave's edit
                # of a member nobody else edited): it applies as it is.
                mine = beside
            else:
                if later is None:  # typed before the patch's first op applies
                    later = _typed(committed, state, reach)
                mine, later = _moved_over(
                    _typed_where_it_applies(mine, later, patching),
                    later,
                    more_to_come=index < len(ops) - 1,
                )
            encoded.append(jsonvalue.encode(mine.body))
            try:
                patching.apply(mine.body)
            except BadOp:
                reason = (
                    ConflictReason.TEST_FAILED if mine.kind == "test" else ConflictReason.OVERLAP
                )
                raise RebaseConflict(reason, [path_of(mine.path)]) from None
        return Rebased(patching.finish(), encoded)
    except BaseException:
        patching.undo()
        raise


def _flattened(since: list[bytes]) -> Iterator[_Op]:
    for change in since:
        for parsed in _committed_ops(change):
            if not parsed.path and parsed.kind != "test":
                raise RebaseConflict(ConflictReason.WHOLE_STATE, [""])
            yield parsed


def _committed_ops(encoded: bytes) -> tuple[_Op, ...]:
    """A committed change's ops, parsed; a small change's from a cache, since every write
    to a busy session is moved over the same recent changes (and its bytes, held by the
    state cache, keep their hash)."""
    if len(encoded) > limits.REBASE_PARSED_MAX_BYTES:
        return _parsed_change(encoded)
    return _parsed_small_change(encoded)


def _parsed_change(encoded: bytes) -> tuple[_Op, ...]:
    return tuple(_parsed(op) for op in jsonvalue.decode_canonical(encoded))


_parsed_small_change = functools.lru_cache(maxsize=limits.REBASE_PARSED_KEPT)(_parsed_change)


def _typed(committed: list[_Op], head: dict[str, JsonValue], reach: _Reach) -> list[_Op]:
    """The committed ops with their parents' kinds, read in the head state at their
    parents' paths moved forward over the ops after them (the last op first)."""
    typed: list[_Op] = []

    def in_head(path: Tokens) -> JsonValue | None:
        return _node(head, path)

    def parent_kind(path: Tokens) -> bool | None:
        if reach.leaves(path[:-1]):
            return _kind_of(_node(head, path[:-1]))
        return _parent_kind(path, typed, in_head)

    for draft in reversed(committed):
        if draft.kind in _PLACED_BY_PARENT:
            draft = draft.typed(
                path_in_array=parent_kind(draft.path),
                source_in_array=None if draft.source is None else parent_kind(draft.source),
            )
        typed.insert(0, draft)
    return typed


class _Reach:
    """Where the committed ops' effects are: the first tokens of the paths they change.

    Each effect of an op is at its path or its `from` (a move's), or at the parent of one;
    a top-level path's parent is the state, an object, so there the effect is at the path
    itself (see _Op._target). A path whose first token is none of those is neither moved
    nor removed by any effect, and meets none (see _shifted and _Effect.disturbs): looking
    at each effect, which makes typing every op over the ops after it quadratic, is then
    not needed. A test changes nothing; a change of the whole state reaches everything.
    """

    def __init__(self, committed: list[_Op]) -> None:
        self._first_tokens: set[str] = set()
        self._everything = False
        for op in committed:
            if op.kind == "test":
                continue
            for pointer in (op.path, op.source) if op.kind == "move" else (op.path,):
                if pointer:
                    self._first_tokens.add(pointer[0])
                else:
                    self._everything = True

    def leaves(self, path: Tokens) -> bool:
        """Whether no committed effect moves or removes `path`."""
        if self._everything:
            return False
        return not path or path[0] not in self._first_tokens

    def typed_beside(self, mine: _Op, patching: Patching) -> _Op | None:
        """`mine` with its parents' kinds when nothing committed reaches where its effects
        are (its path and `from`, or their parents): nothing then conflicts with it or moves
        it. Else None."""
        mine = _typed_where_it_applies(mine, [], patching)  # nothing moves its parents
        if all(effect.at and self.leaves(effect.at) for effect in mine.effects):
            return mine
        return None


def _parent_kind(
    path: Tokens, over: list[_Op], node: Callable[[Tokens], JsonValue | None]
) -> bool | None:
    """Whether `path`'s parent is an array: read with `node` at the parent's path moved
    over the ops `over`; None (opaque) where it is gone."""
    parent: Tokens | None = path[:-1]
    for op in over:
        for effect in op.effects:
            if parent is None:
                return None
            parent = _shifted(parent, effect, inserting=False, first=False)
    return None if parent is None else _kind_of(node(parent))


def _node(state: JsonValue, path: Tokens) -> JsonValue | None:
    node = state
    for token in path:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and CANONICAL_INDEX.fullmatch(token) and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def _kind_of(node: JsonValue | None) -> bool | None:
    return None if node is None else isinstance(node, list)


def _moved_over(mine: _Op, committed: list[_Op], *, more_to_come: bool) -> tuple[_Op, list[_Op]]:
    """The patch's op (typed) moved over the committed ops (RebaseConflict where they
    meet), and the committed ops moved over it, for the patch's next op (none after its
    last)."""
    steps = [mine]
    for theirs in committed:
        for change in theirs.effects:
            for relied in steps[-1].effects:
                if change.disturbs(relied):
                    raise RebaseConflict(
                        ConflictReason.OVERLAP, [path_of(steps[-1].path), path_of(theirs.path)]
                    )
        steps.append(_moved(steps[-1], theirs, first=False))
    if not more_to_come:
        return steps[-1], []
    moved_committed = [
        _moved(theirs, step, first=True) for step, theirs in zip(steps, committed, strict=False)
    ]
    return steps[-1], moved_committed


def _typed_where_it_applies(mine: _Op, committed: list[_Op], patching: Patching) -> _Op:
    """`mine` with its parents' kinds, read in the state where it is about to apply, at
    its parents' paths moved over the committed ops (moving never depends on the kinds of
    `mine`'s own parents, only on theirs)."""
    if mine.kind not in _PLACED_BY_PARENT:
        return mine
    return mine.typed(
        path_in_array=_parent_kind(mine.path, committed, patching.node) if mine.path else False,
        source_in_array=(
            None if mine.source is None else _parent_kind(mine.source, committed, patching.node)
        ),
    )


def _moved(op: _Op, over: _Op, *, first: bool) -> _Op:
    """`op` as it applies after `over`. `first`: `op` was committed before `over` (it
    keeps its place when both insert at one index)."""
    path, source = op.path, op.source
    for effect in over.effects:
        moved_path = _shifted(path, effect, inserting=op.inserts, first=first)
        moved_source = (
            None if source is None else _shifted(source, effect, inserting=False, first=first)
        )
        if moved_path is None or (source is not None and moved_source is None):
            raise RebaseConflict(ConflictReason.OVERLAP, [path_of(op.path), path_of(over.path)])
        path, source = moved_path, moved_source
    return op.moved(path, source)


def _shifted(path: Tokens, effect: _Effect, *, inserting: bool, first: bool) -> Tokens | None:
    """`path` after `effect` moved the items of an array; None where its item is gone.
    `inserting`: `path` is where an insert puts its item, not an item that exists."""
    if effect.kind is _Kind.READ:
        return path
    if effect.kind is _Kind.SET:
        # An insert's place is between items: only replacing its array (or above) takes it.
        return None if _within(path[:-1] if inserting else path, effect.at) else path
    array, index = effect.at[:-1], int(effect.at[-1])
    depth = len(array)
    if len(path) <= depth or path[:depth] != array or not CANONICAL_INDEX.fullmatch(path[depth]):
        return path
    position = int(path[depth])
    targeted = inserting and len(path) == depth + 1
    if effect.kind is _Kind.INSERT:
        if position > index or (position == index and not (targeted and first)):
            position += 1
    elif position == index and not targeted:
        return None
    elif position > index:
        position -= 1
    return (*array, str(position), *path[depth + 1 :])
