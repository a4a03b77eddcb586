import pytest

from solo.domain.errors import PreconditionFailed, RevMismatch
from solo.domain.preconditions import from_headers, none_match, parse_entity_tags


@pytest.mark.parametrize(
    ("value", "tags"),
    [
        ('"7"', [(False, "7")]),
        ('W/"7"', [(True, "7")]),
        ('"6", W/"7" ,"8"', [(False, "6"), (True, "7"), (False, "8")]),
        ('"7",,', [(False, "7")]),
        ('""', [(False, "")]),
        ("7", None),
        ('"7" "8"', None),
        ('"a"b"', None),
        ("", None),
        (" , ", None),
    ],
)
def test_entity_tag_lists_follow_rfc_9110(value, tags):
    assert parse_entity_tags(value) == tags


@pytest.mark.parametrize(
    ("if_match", "x_rev", "current", "outcome"),
    [
        ('"3"', None, 3, None),
        ("*", None, 99, None),
        ('"1", "3"', None, 3, None),
        ('W/"3"', None, 3, ("mismatch", PreconditionFailed)),
        ('"2"', None, 3, ("mismatch", PreconditionFailed)),
        ("3", None, 3, ("unparsable", PreconditionFailed)),
        (None, None, 3, ("missing", PreconditionFailed)),
        (None, "3", 3, None),
        (None, " 3 ", 3, None),
        (None, "2", 3, (None, RevMismatch)),
        (None, "три", 3, ("unparsable", PreconditionFailed)),
        ('"3"', "2", 3, None),
        ('"03"', None, 3, ("mismatch", PreconditionFailed)),
        ('"00"', None, 0, ("mismatch", PreconditionFailed)),
        ('"0"', None, 0, None),
    ],
)
def test_the_precondition_answers_as_section_6_says(if_match, x_rev, current, outcome):
    precondition = from_headers(if_match, x_rev)
    if outcome is None:
        precondition.check(current)
        return
    reason, error = outcome
    with pytest.raises(error) as raised:
        precondition.check(current)
    if reason is not None:
        assert raised.value.reason == reason
        assert raised.value.current_rev == current
    else:
        assert raised.value.server_rev == current


def test_only_x_rev_is_legacy():
    assert from_headers(None, "1").legacy
    assert not from_headers('"1"', "1").legacy


@pytest.mark.parametrize(
    ("value", "matches"),
    [
        ('"4"', True),
        ('W/"4"', True),
        ('"3", "4"', True),
        ("*", True),
        ('"3"', False),
        ("сміття", False),
        (None, False),
    ],
)
def test_if_none_match_uses_weak_comparison(value, matches):
    assert none_match(value, 4) is matches
