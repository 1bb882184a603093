from __future__ import annotations

from sabamon.server.store import CheckReport, HostInput, Store

NOW = 1_700_006_400


def report(host_id: str, name: str, at: int, status: str = "OK") -> CheckReport:
    return CheckReport(host_id, name, status, f"{status} at {at}", at)  # type: ignore[arg-type]


async def test_reports_ignore_old_and_duplicate(store: Store, org_id: str) -> None:
    host_id = await store.create_host(org_id, HostInput(name="a"), NOW)
    stored = await store.write_check_reports(
        org_id,
        [
            report(host_id, "cron", NOW - 6 * 3600),  # 6 h old: ignored
            report(host_id, "cron", NOW - 6 * 3600 + 1, "CRITICAL"),
            report(host_id, "cron", NOW - 6 * 3600 + 1, "OK"),  # same time: ignored
        ],
        NOW,
    )
    assert stored == 1
    assert (
        await store.write_check_reports(
            org_id, [report(host_id, "cron", NOW - 6 * 3600 + 1, "WARNING")], NOW
        )
        == 0
    )
    [state] = await store.check_states(org_id, host_id)
    assert (state.name, state.status, state.occurred_at) == ("cron", "CRITICAL", NOW - 21599)


async def test_latest_report_wins_and_monitor_ids_are_stable(store: Store, org_id: str) -> None:
    host_id = await store.create_host(
        org_id, HostInput(name="a", checks=[{"name": "disk", "memo": "df"}]), NOW
    )
    [(disk_id, disk_name)] = await store.list_check_monitors(org_id, None, 100)
    assert disk_name == "disk"
    await store.update_host(
        org_id, host_id, HostInput(name="a", checks=[{"name": "disk", "memo": "df -h"}])
    )
    await store.write_check_reports(
        org_id,
        [report(host_id, "disk", NOW - 60, "CRITICAL"), report(host_id, "disk", NOW - 120)],
        NOW,
    )
    await store.write_check_reports(org_id, [report(host_id, "wrap", NOW - 10)], NOW)
    states = await store.check_states(org_id)
    disk = states[0]
    assert (disk.monitor_id, disk.name, disk.status, disk.memo) == (
        disk_id, "disk", "CRITICAL", "df -h"
    )  # fmt: skip
    assert [s.name for s in states] == ["disk", "wrap"]
    monitors = await store.list_check_monitors(org_id, None, 100)
    assert sorted(name for _, name in monitors) == ["disk", "wrap"]
    assert [m for m, _ in monitors] == sorted(m for m, _ in monitors)
    assert await store.list_check_monitors(org_id, monitors[0][0], 100) == monitors[1:]
    assert await store.list_check_monitors(org_id, None, 1) == monitors[:1]
    assert await store.check_states(org_id, "other-host") == []


async def test_expire_forgets_old_reports_only(store: Store, org_id: str) -> None:
    await store.write_check_reports(org_id, [report("h", "c", NOW - 60)], NOW)
    assert await store.expire(NOW + 3600) == 0
    assert await store.expire(NOW + 8 * 3600) == 1


async def test_states_reported_since_are_those_received_since(store: Store, org_id: str) -> None:
    """The check fast path reads only what arrived since its last pass (server's clock),
    whatever time the agent stamped on the report."""
    host_id = await store.create_host(org_id, HostInput(name="a"), NOW)
    await store.write_check_reports(org_id, [report(host_id, "early", NOW - 60)], NOW - 30)
    await store.write_check_reports(org_id, [report(host_id, "late", NOW - 300)], NOW)
    recent = await store.check_states(org_id, reported_since=NOW - 10)
    assert [s.name for s in recent] == ["late"]
    assert [s.name for s in await store.check_states(org_id, reported_since=NOW - 30)] == [
        "early", "late",
    ]  # fmt: skip
