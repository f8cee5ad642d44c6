"""bench.request_units' rules, which docs/cost.md's DynamoDB figures follow: item sizes, and the
write units of a table write and of each index entry it changes."""

import pytest

from bench.request_units import Index, item_size, write_units

KEYS_ONLY = Index(
    "CustomerNoticesIndex",
    ("customer_id", "created_at"),
    frozenset({"notice_id", "customer_id", "created_at"}),
)
INCLUDE = Index("ToldIndex", ("told_key", "sent_at"), frozenset({"notice_id", "told_key", "sent_at", "kind"}))
ALL = Index("DueIndex", ("due_shard", "due_at"), None)


def _item(**attributes: str) -> dict[str, dict[str, str]]:
    return {name: {"S": value} for name, value in attributes.items()}


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "héllo"}, 6),  # UTF-8 bytes
        ({"N": "100"}, 2),  # trailing zeros trimmed: one significant digit
        ({"N": "123.45"}, 4),  # five digits: three bytes, plus one
        ({"B": b"\x00\x01\x02"}, 3),  # raw bytes, not base64
        ({"BOOL": True}, 1),
        ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + (1 + 2) + (1 + 2)),
        ({"M": {"k": {"S": "ab"}}}, 3 + 1 + 1 + 2),
    ],
)
def test_item_size_follows_dynamodbs_rules(value: dict[str, object], size: int) -> None:
    # Given an item of one attribute named "a", When it is sized, Then the name's byte counts too
    assert item_size({"a": value}) == 1 + size


def test_a_write_is_billed_by_the_larger_of_the_item_before_and_after() -> None:
    small, large = _item(notice_id="n-1"), _item(notice_id="n-1", request="x" * 1500)
    assert write_units(None, small) == 1
    assert write_units(large, small) == 2
    assert write_units(None) == 1  # nothing there (a failed condition on a missing item): the minimum


def test_an_index_entry_appearing_or_disappearing_is_one_write() -> None:
    # Given a notice without the index's sort key, then with it
    before = _item(notice_id="n-1", customer_id="c-1")
    after = _item(notice_id="n-1", customer_id="c-1", created_at="2026-11-24")
    # Then the entry appears (one write), or disappears (one write), and nothing is written while absent
    assert KEYS_ONLY.write_units(before, after) == 1
    assert KEYS_ONLY.write_units(after, None) == 1
    assert KEYS_ONLY.write_units(before, before) == 0


def test_an_index_write_is_charged_only_when_what_it_projects_changes() -> None:
    # Given a notice in ToldIndex (projecting `kind`) and KEYS_ONLY CustomerNoticesIndex
    before = _item(
        notice_id="n-1", customer_id="c-1", created_at="t0", told_key="k", sent_at="t1", kind="bill"
    )
    receipt = {**before, "delivered_at": {"S": "t2"}}
    retold = {**before, "kind": {"S": "bill_correction"}}
    # When a receipt adds an attribute neither projects, Then neither index is written
    assert KEYS_ONLY.write_units(before, receipt) == 0
    assert INCLUDE.write_units(before, receipt) == 0
    # When a projected attribute changes under the same key, Then one write; ALL projects everything
    assert INCLUDE.write_units(before, retold) == 1
    assert (
        ALL.write_units(_item(due_shard="3", due_at="t", a="1"), _item(due_shard="3", due_at="t", a="2")) == 1
    )


def test_moving_an_item_in_an_index_is_a_delete_and_a_put() -> None:
    before = _item(item_key="callback#1", due_shard="3", due_at="2026-11-24T10:00")
    after = {**before, "due_at": {"S": "2026-11-24T11:00"}}
    assert ALL.write_units(before, after) == 2
