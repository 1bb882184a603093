"""Assignment: one owner per monitor, and membership changes move only what they must."""

from __future__ import annotations

from sabamon.server.cluster import Assignment

MONITORS = [f"monitor-{i}" for i in range(3000)]


def owners(members: list[str]) -> dict[str, str | None]:
    assignment = Assignment("observer")
    assignment.update(members)
    return {monitor: assignment.owner(monitor) for monitor in MONITORS}


def test_every_monitor_has_exactly_one_owner_among_members() -> None:
    members = ["a1", "b2", "c3"]
    views = [Assignment(member) for member in members]
    for view in views:
        view.update(members)
    for monitor in MONITORS:
        assert sum(view.owns(monitor) for view in views) == 1


def test_load_is_spread_over_members() -> None:
    shares = list(owners(["a1", "b2", "c3"]).values())
    for member in ("a1", "b2", "c3"):
        assert 0.2 < shares.count(member) / len(MONITORS) < 0.45


def test_a_join_moves_about_one_in_n_and_only_to_the_newcomer() -> None:
    before = owners(["a1", "b2", "c3"])
    after = owners(["a1", "b2", "c3", "d4"])
    moved = [monitor for monitor in MONITORS if before[monitor] != after[monitor]]
    assert {after[monitor] for monitor in moved} == {"d4"}
    assert 0.15 < len(moved) / len(MONITORS) < 0.35


def test_a_death_moves_only_the_dead_members_monitors() -> None:
    before = owners(["a1", "b2", "c3"])
    after = owners(["a1", "c3"])
    for monitor in MONITORS:
        if before[monitor] != "b2":
            assert after[monitor] == before[monitor]
        else:
            assert after[monitor] in {"a1", "c3"}


def test_update_reports_whether_members_changed() -> None:
    assignment = Assignment("a1")
    assert assignment.update(["a1", "b2"]) is True
    assert assignment.update(["b2", "a1"]) is False
    assert assignment.update(["a1"]) is True
    assert all(assignment.owns(monitor) for monitor in MONITORS[:50])


def test_no_members_means_no_owner() -> None:
    assignment = Assignment("a1")
    assert assignment.owner("monitor-1") is None
    assert not assignment.owns("monitor-1")
