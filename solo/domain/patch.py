"""RFC 6902 JSON Patch, applied in place, all or nothing, within the state's budgets.

The applier mutates the state it is given and keeps an undo log, so a patch costs what
its ops touch, never a copy of the document. The state's canonical size is kept up to
date op by op: the op that would carry the state past `STATE_SIZE_LIMIT`, or nest it past
`JSON_DEPTH_LIMIT`, is refused before anything of that size exists. The work an op does
beyond its own value is bounded per patch by `PATCH_WORK_LIMIT`, so no sequence of ops
costs more than a few milliseconds: a byte of existing state measured (what a replace or
remove drops) or cloned (what a copy duplicates) is one unit, and so is an array item that
an insert or a removal shifts (`list.insert(0, …)` on a million items moves a million
pointers; thousands of them took seconds before they were counted).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from solo import limits
from solo.domain import jsonvalue, pointer
from solo.domain.errors import InvalidOps, StateTooLarge
from solo.domain.jsonvalue import JsonValue
from solo.domain.operations import BadOp, parsed_op, path_of, tokens_of

_REASON_MAX = 300


@dataclasses.dataclass
class Applied:
    """A patch that applied: the new root (the same object unless the root was replaced),
    its canonical size, and how to take the whole patch back."""

    state: dict[str, JsonValue]
    size: int
    work: int
    """Work units the patch spent (see the module's docstring): what replaying it costs."""
    undo: Callable[[], None]
    appended: dict[int, int] = dataclasses.field(default_factory=dict)
    """The index each op that added at the end of an array (`…/-`) added at, by op."""


def apply_patch(
    state: dict[str, JsonValue], size: int, ops: list[Any], *, checked: bool = True
) -> Applied:
    """Apply `ops` to `state` (of canonical `size`) in place.

    Raises InvalidOps naming the first op that is malformed or cannot apply, or
    StateTooLarge; either way `state` is left exactly as it was. With `checked=False`
    (replaying ops that were checked when first written) sizes are not tracked.
    """
    patching = Patching(state, size, checked=checked)
    for index, op in enumerate(ops):
        try:
            patching.apply(op)
        except BadOp as refusal:
            patching.undo()
            raise InvalidOps(op_index=index, reason=short_reason(refusal)) from None
        except StateTooLarge:
            patching.undo()
            raise
    return patching.finish()


class Patching:
    """A patch applied op by op, for a caller that decides each op from the state so far
    (the rebase). An op that cannot apply raises BadOp (or StateTooLarge) and may leave
    a part of itself applied: `undo` then takes back everything, as apply_patch does."""

    def __init__(self, state: dict[str, JsonValue], size: int, *, checked: bool = True) -> None:
        self._document = _Document(state, size, checked)

    def apply(self, op: Any) -> None:
        self._document.apply(op)

    def node(self, tokens: tuple[str, ...]) -> JsonValue | None:
        """The value at `tokens` in the state so far, or None where there is none."""
        try:
            return self._document.get(tokens)
        except BadOp:
            return None

    def undo(self) -> None:
        self._document.undo()

    def finish(self) -> Applied:
        """The patch as applied; InvalidOps (everything undone) if the root is no longer
        an object."""
        document = self._document
        if not isinstance(document.root, dict):
            document.undo()
            raise InvalidOps(
                op_index=document.root_set_at, reason="the state must remain a JSON object"
            )
        return Applied(
            document.root, document.size, document.work, document.undo, document.appended
        )


def short_reason(refusal: Exception) -> str:
    text = str(refusal)
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 1] + "…"


class _Document:
    def __init__(self, state: dict[str, JsonValue], size: int, checked: bool) -> None:
        self.holder: list[JsonValue] = [state]
        self.size = size
        self.checked = checked
        self.work = 0
        self.root_set_at = 0
        self._index = 0
        self._steps: list[Callable[[], None]] = []
        self._orders: dict[int, tuple[dict[str, JsonValue], list[str]]] = {}
        self.appended: dict[int, int] = {}

    @property
    def root(self) -> JsonValue:
        return self.holder[0]

    def apply(self, op: Any) -> None:
        kind, tokens = parsed_op(op)
        if kind == "add":
            self._insert(tokens, op["value"], self._measured_value(op["value"], tokens))
        elif kind == "remove":
            self._remove(tokens, measure=True)
        elif kind == "replace":
            container, key = self._slot(tokens, for_insert=False)
            self._replace(container, key, op["value"], self._measured_value(op["value"], tokens))
        elif kind == "test":
            if not jsonvalue.equal(self.get(tokens), op["value"]):
                raise BadOp(
                    f"test failed: the value at '{path_of(tokens)}' is not the tested value"
                )
        elif kind == "move":
            self._move(tokens_of(op["from"]), tokens)
        else:
            self._copy(tokens_of(op["from"]), tokens)
        if not tokens and kind != "test":
            self.root_set_at = self._index
        self._index += 1

    def undo(self) -> None:
        for step in reversed(self._steps):
            step()
        for container, keys in self._orders.values():
            # Taken at the object's first removal, before which ops could only append
            # members: the original keys in order come first.
            if list(container) != keys:
                items = [(key, container[key]) for key in keys if key in container]
                container.clear()
                container.update(items)
        self._steps.clear()
        self._orders.clear()

    def _move(self, source: tuple[str, ...], target: tuple[str, ...]) -> None:
        value = self.get(source)
        if source == target:
            return
        if target[: len(source)] == source:
            raise BadOp("a value cannot be moved into one of its own children")
        if not target:
            self._replace(self.holder, 0, value, self._size(value, target))
            return
        if self.checked and len(target) > len(source):
            self._spend(self._size(value, target))
        self._remove(source, measure=False)
        self._insert(target, value, value_size=None)

    def _copy(self, source: tuple[str, ...], target: tuple[str, ...]) -> None:
        value = self.get(source)
        size = self._size(value, target)
        # What a copy clones is part of the state, so never more than the state limit.
        self._spend(2 * size)
        self._insert(target, jsonvalue.copy_of(value), size)

    def _measured_value(self, value: JsonValue, target: tuple[str, ...]) -> int | None:
        return self._size(value, target) if self.checked else None

    def _size(self, value: JsonValue, target: tuple[str, ...]) -> int:
        room = limits.JSON_DEPTH_LIMIT - len(target)
        try:
            return jsonvalue.size_within(value, room)
        except jsonvalue.TooDeep:
            raise BadOp(
                f"the state would nest deeper than {limits.JSON_DEPTH_LIMIT} levels"
            ) from None

    def _spend(self, work: int) -> None:
        self.work += work
        if self.checked and self.work > limits.PATCH_WORK_LIMIT:
            raise BadOp(
                f"the patch does more than {limits.PATCH_WORK_LIMIT} units of work in all "
                "(bytes it copies or drops, array items it shifts)"
            )

    def _grow(self, delta: int) -> None:
        if self.checked and delta > 0 and self.size + delta > limits.STATE_SIZE_LIMIT:
            raise StateTooLarge(limits.STATE_SIZE_LIMIT)
        self.size += delta

    def get(self, tokens: tuple[str, ...]) -> JsonValue:
        container, key = self._slot(tokens, for_insert=False)
        return container[key]

    def _slot(self, tokens: tuple[str, ...], *, for_insert: bool) -> tuple[Any, Any]:
        node = self.holder
        key: Any = 0
        for depth, token in enumerate(tokens):
            node = node[key]
            last = depth == len(tokens) - 1
            if isinstance(node, dict):
                if token not in node and not (last and for_insert):
                    raise BadOp(f"'{path_of(tokens[: depth + 1])}' does not exist")
                key = token
            elif isinstance(node, list):
                try:
                    key = pointer.array_index(token, len(node), allow_end=last and for_insert)
                except LookupError as exc:
                    raise BadOp(f"'{path_of(tokens[: depth + 1])}': {exc}") from None
            else:
                raise BadOp(f"'{path_of(tokens[:depth])}' is not an object or an array")
        return node, key

    def _insert(self, tokens: tuple[str, ...], value: JsonValue, value_size: int | None) -> None:
        """`add`: a new member or item, or the replacement of an existing member or root."""
        container, key = self._slot(tokens, for_insert=True)
        if container is self.holder or (isinstance(container, dict) and key in container):
            self._replace(container, key, value, value_size)
            return
        self._grow(_entry_overhead(container, key, len(container)) + (value_size or 0))
        if isinstance(container, dict):
            container[key] = value
            self._steps.append(lambda: container.__delitem__(key))
        else:
            if tokens[-1] == "-":
                self.appended[self._index] = key
            self._spend(len(container) - key)
            container.insert(key, value)
            self._steps.append(lambda: container.pop(key))

    def _replace(self, container: Any, key: Any, value: JsonValue, value_size: int | None) -> None:
        """Swap the value in place, so an object member keeps its position. A `value_size`
        of None means the value is already counted (it was moved here)."""
        old = container[key]
        if self.checked:
            old_size = self.size if container is self.holder else jsonvalue.size_of(old)
            self._spend(old_size)
            self._grow((value_size or 0) - old_size)
        container[key] = value
        self._steps.append(lambda: container.__setitem__(key, old))

    def _remove(self, tokens: tuple[str, ...], *, measure: bool) -> None:
        if not tokens:
            raise BadOp("the whole state cannot be removed")
        container, key = self._slot(tokens, for_insert=False)
        value = container[key]
        value_size = 0
        if measure and self.checked:
            value_size = jsonvalue.size_of(value)
            self._spend(value_size)
        self._grow(-(_entry_overhead(container, key, len(container) - 1) + value_size))
        if isinstance(container, dict):
            if id(container) not in self._orders:
                self._orders[id(container)] = (container, list(container))
            del container[key]
            self._steps.append(lambda: container.__setitem__(key, value))
        else:
            self._spend(len(container) - key - 1)
            del container[key]
            self._steps.append(lambda: container.insert(key, value))


def _entry_overhead(container: Any, key: Any, others: int) -> int:
    """Bytes an entry adds besides its value: its key and colon, and a comma if it has
    neighbours (`others` entries besides it)."""
    comma = 1 if others > 0 else 0
    if isinstance(container, dict):
        return jsonvalue.size_of(key) + 1 + comma
    return comma


def appends(ops: list[Any]) -> bool:
    """Whether an op adds at the end of an array (`…/-`): its logged form then names the
    index it added at."""
    return any(
        isinstance(op, dict)
        and op.get("op") in ("add", "copy", "move")
        and isinstance(op.get("path"), str)
        and op["path"].endswith("/-")
        for op in ops
    )


def as_applied(encoded_ops: list[bytes], appended: dict[int, int]) -> bytes:
    """The patch's canonical JSON from each op's own (encoded before it applied), with the
    index each `…/-` op added at: the log keeps ops as applied, so that a rebase over them
    knows where their items went."""
    pieces = list(encoded_ops)
    for index, at in appended.items():
        op = jsonvalue.decode_canonical(pieces[index])
        op["path"] = op["path"][: -len("-")] + str(at)
        pieces[index] = jsonvalue.encode(op)
    return b"[" + b",".join(pieces) + b"]"
