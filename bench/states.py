"""Editor-like session states of a chosen serialized size, with a `counter` the diff replaces.

A state is a document of sections holding paragraphs of Ukrainian text with marks and
metadata, so its JSON has many keys, nested objects and non-ASCII strings, like what the
editor autosaves. `encode(state)` is the body a client sends; its length lands just under
the target (`HEADROOM` bytes are left for the counter to grow and for the create wrapper).
"""

from __future__ import annotations

import json
import random

KIB = 1024
MIB = 1024 * KIB
SIZES = {"1k": KIB, "100k": 100 * KIB, "1m": MIB, "2m": 2 * MIB}
HEADROOM = 16
"""Bytes below the target: the counter's digits and `{"state":…}` around a create body."""

BLOCKS_PER_SECTION = 12
VOCABULARY = (
    "автозбереження документ редактор чернетка розділ абзац речення зміна версія сервер "
    "користувачка сторінка заголовок таблиця малюнок посилання коментар примітка список "
    "пункт текст слово рядок курсор виділення шрифт колір стиль відступ вирівнювання "
    "збереження копія історія журнал подія вікно вкладка мережа затримка швидкість "
    "ґанок їжак єдність щоденник вишиванка соняшник калина світанок"
)
WORDS = VOCABULARY.split()
MARKS = ("bold", "italic", "underline", "code", "link")


def encode(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def make_state(target: int, seed: int = 7) -> dict:
    """A state whose `encode()` is exactly `target - HEADROOM` bytes long."""
    goal = target - HEADROOM
    rng = random.Random(seed)
    state: dict = {
        "counter": 0,
        "title": _sentence(rng, 4),
        "settings": {"мова": "uk", "тема": "світла", "шрифт": {"назва": "Inter", "розмір": 14}},
        "sections": [],
        "notes": "",
    }
    size = len(encode(state))
    for number in range(goal):
        block = _block(rng, number)
        section = None
        if number % BLOCKS_PER_SECTION == 0:
            section = {"id": f"s{number:06d}", "heading": _sentence(rng, 3), "blocks": [block]}
            grown = len(encode(section)) + (1 if state["sections"] else 0)
        else:
            grown = len(encode(block)) + 1
        if size + grown > goal:
            break
        if section is None:
            state["sections"][-1]["blocks"].append(block)
        else:
            state["sections"].append(section)
        size += grown
    state["notes"] = _padding(goal - len(encode(state)))
    assert len(encode(state)) == goal, "the padding must land exactly on the goal"
    return state


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()


def _block(rng: random.Random, number: int) -> dict:
    text = _sentence(rng, rng.randint(6, 30)) + "."
    start = rng.randrange(len(text) // 2)
    return {
        "id": f"b{number:06d}",
        "type": rng.choice(("paragraph", "quote", "list_item")),
        "text": text,
        "marks": [{"type": rng.choice(MARKS), "from": start, "to": start + rng.randint(1, 9)}],
        "meta": {"автор": rng.choice(("олена", "тарас", "ярина")), "правок": rng.randint(0, 40)},
    }


def _padding(length: int) -> str:
    """`length` UTF-8 bytes of Cyrillic (two bytes each), with one ASCII space if odd."""
    return "ж" * (length // 2) + " " * (length % 2)
