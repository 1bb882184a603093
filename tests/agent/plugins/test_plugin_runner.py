"""The shared runner with real subprocesses: shell and exec forms, env, timeouts that reach
children, a plugin ignoring TERM, output caps, bounded parallelism and the wait for a slot,
an exception during a run, sudo."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
from plugin_helpers import command, script
from tests.support.waiting import wait_until

from sabamon.agent.plugins.config import PluginCommand
from sabamon.agent.plugins.environment import PLUGIN_BIN_DIR
from sabamon.agent.plugins.runner import PluginRunner


def test_shell_string_and_exec_array(runner: PluginRunner) -> None:
    shell = runner.run(command("echo one two | tr ' ' '\\n'; echo oops >&2; exit 4"))
    assert (shell.exit_code, shell.stdout, shell.stderr) == (4, "one\ntwo\n", "oops\n")
    assert shell.error is None and not shell.timed_out
    exec_form = runner.run(command(("printf", "%s|", "a b", "$HOME")))
    assert exec_form.stdout == "a b|$HOME|"  # no shell: no splitting, no expansion


def test_environment(runner: PluginRunner) -> None:
    names = ("PATH", "LANG", "LC_ALL", "PLUGIN_VAR", "MACKEREL_AGENT_PLUGIN_META", "HOME")
    result = runner.run(
        command((script("env_dump.py"), *names), env={"PLUGIN_VAR": "from config"}),
        {"MACKEREL_AGENT_PLUGIN_META": "1"},
    )
    env = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert env["PATH"] == f"/sbin:/usr/sbin:/bin:/usr/bin:{os.environ['PATH']}:{PLUGIN_BIN_DIR}"
    assert (env["LANG"], env["LC_ALL"]) == ("C", "C")
    assert env["PLUGIN_VAR"] == "from config"
    assert env["MACKEREL_AGENT_PLUGIN_META"] == "1"
    assert env["HOME"] == os.environ["HOME"]  # the agent's own environment is inherited


def test_missing_and_not_executable(runner: PluginRunner) -> None:
    missing = runner.run(command(("/nonexistent/plugin",)))
    assert missing.exit_code is None and missing.error and "No such file" in missing.error
    not_exec = runner.run(command((script("not_executable.sh"),)))
    assert not_exec.exit_code is None and not_exec.error and "Permission denied" in not_exec.error
    via_shell = runner.run(command("/nonexistent/plugin --x"))
    assert via_shell.exit_code == 127 and "not found" in via_shell.stderr


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose; it waits for its parent (init) to reap it.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:  # reaped since the kill
        return False


def _status(pid: int) -> str:
    """What /proc says of a process (state, parent, signal masks), for a failure message."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError as err:
        return f"{pid}: {err}"
    wanted = ("Name", "State", "PPid", "SigBlk", "SigIgn", "SigPnd", "ShdPnd")
    return f"{pid}: " + ", ".join(line for line in lines if line.split(":")[0] in wanted)


def _wait_ended(pids: list[int], timeout: float = 10.0) -> None:
    """Wait until none of `pids` is alive; AssertionError naming the survivors' state."""
    deadline = time.monotonic() + timeout
    while alive := [pid for pid in pids if _alive(pid)]:
        if time.monotonic() > deadline:
            raise AssertionError("still running: " + "; ".join(map(_status, alive)))
        time.sleep(0.02)


def test_timeout_terminates_the_whole_group(runner: PluginRunner, tmp_path: Path) -> None:
    child_pid_file = tmp_path / "child.pid"
    started = time.monotonic()
    result = runner.run(
        command(script("hang.sh"), env={"CHILD_PID_FILE": str(child_pid_file)}, timeout=0.3)
    )
    elapsed = time.monotonic() - started
    assert result.timed_out and result.error == "command timed out after 0.3s"
    assert result.stdout == "partial output\n"
    assert 0.3 <= elapsed < 0.3 + 0.5  # TERM was enough: no wait for the KILL
    child = int(child_pid_file.read_text())
    _wait_ended([child])


def test_plugin_ignoring_term_is_killed_after_grace(runner: PluginRunner) -> None:
    started = time.monotonic()
    result = runner.run(command((script("ignore_term.py"),), timeout=0.3))
    elapsed = time.monotonic() - started
    assert result.timed_out and result.exit_code == -9
    assert result.stdout == "ignoring TERM\n"
    assert 0.3 + 0.5 <= elapsed < 0.3 + 0.5 + 1.0


def test_crashing_plugin_returns_its_output(runner: PluginRunner) -> None:
    result = runner.run(command((script("crash.py"),)))
    assert result.exit_code == 1 and result.error is None
    assert result.stdout == "crash.before 1 0\n"
    assert "RuntimeError: plugin bug" in result.stderr


def test_flood_is_capped_and_read_to_the_end(tmp_path: Path) -> None:
    cap = 256 * 1024
    flood_runner = PluginRunner(output_cap=cap)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = flood_runner.run(command((script("flood.py"),), env={"FLOOD_MIB": "64"}))
    rss_growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    # The plugin finished normally: it never blocked on a full pipe.
    assert result.exit_code == 0 and not result.timed_out and result.truncated
    assert len(result.stdout) == cap and len(result.stderr.encode()) == cap
    assert rss_growth_kib < 16 * 1024  # 64 MiB printed, a few MiB kept at most


def test_parallel_runs_are_bounded(tmp_path: Path) -> None:
    run_log = tmp_path / "runs"
    bounded = PluginRunner(max_parallel=2)
    plugin = command(
        script("concurrency.sh"), env={"RUN_LOG": str(run_log), "SLEEP_SECONDS": "0.2"}
    )
    threads = [threading.Thread(target=bounded.run, args=(plugin,)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = sorted(
        (int(stamp), kind)
        for kind, stamp in (line.split() for line in run_log.read_text().splitlines())
    )
    running = peak = 0
    for _, kind in events:
        running += 1 if kind == "start" else -1
        peak = max(peak, running)
    assert len(events) == 10 and peak == 2


def test_the_wait_for_a_free_slot_counts_against_the_timeout(tmp_path: Path) -> None:
    """With the one slot held, a run whose timeout passes while it waits is a timeout and
    never starts; a run that gets the slot late has only the rest of its timeout."""
    one_slot = PluginRunner(max_parallel=1, kill_grace_seconds=0.5)
    holding = tmp_path / "holding"
    holder = threading.Thread(
        target=one_slot.run, args=(command(f"touch {holding}; sleep 1.5"),), daemon=True
    )
    holder.start()
    wait_until(holding.exists)
    started = time.monotonic()
    refused = one_slot.run(command("echo ran", timeout=0.3))
    waited = time.monotonic() - started
    assert refused.timed_out and refused.exit_code is None and refused.stdout == ""
    assert refused.error == "no free plugin slot (max_parallel=1) within the 0.3s timeout"
    assert waited < 1.0  # not until the holder ends (1.5 s)
    started = time.monotonic()
    late = one_slot.run(command("echo ran; sleep 10", timeout=2.0))
    elapsed = time.monotonic() - started
    assert late.timed_out and late.stdout == "ran\n"
    assert 2.0 <= elapsed < 2.6  # the 2 s count from the call, the wait (about 1.2 s) included
    holder.join()


class AgentInterrupted(Exception):
    """What the test's SIGUSR1 handler raises in the thread reading a plugin's output."""


def _interrupt(signum: int, frame: object) -> None:
    raise AgentInterrupted


def _pipes_of(descriptors: Path) -> set[str]:
    """The pipes (`pipe:[inode]`) among the descriptors listed in `descriptors`."""
    pipes = set()
    for entry in descriptors.iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(entry)
            if target.startswith("pipe:"):
                pipes.add(target)
    return pipes


def test_an_exception_during_a_run_closes_its_pipes_and_reaps_the_plugin(
    runner: PluginRunner, tmp_path: Path
) -> None:
    """A signal handler's exception (as a Ctrl-C's) reaches the agent while it reads a
    plugin's output, the plugin sleeping on: the exception leaves the run, and the run's pipes
    are closed and the plugin killed and reaped, not left running or as a zombie. The plugin
    prints more than a pipe holds first, so the agent is surely reading when the signal comes;
    the signal goes to the main thread itself, which runs Python's handlers."""
    pid_file, pipes_file = tmp_path / "pid", tmp_path / "pipes"
    plugin = command(
        "head -c 200000 /dev/zero; "
        "out=$(readlink /proc/$$/fd/1); err=$(readlink /proc/$$/fd/2); "
        f'echo "$out $err" > {pipes_file}; '
        f"echo $$ > {pid_file}.new && mv {pid_file}.new {pid_file}; "
        "exec sleep 30"
    )
    main_thread = threading.get_ident()

    def interrupt_when_reading() -> None:
        wait_until(pid_file.exists)
        signal.pthread_kill(main_thread, signal.SIGUSR1)

    previous = signal.signal(signal.SIGUSR1, _interrupt)
    interrupter = threading.Thread(target=interrupt_when_reading, daemon=True)
    pid = 0
    try:
        interrupter.start()
        with pytest.raises(AgentInterrupted):
            runner.run(plugin)
        pid = int(pid_file.read_text())
        plugin_pipes = set(pipes_file.read_text().split())
        assert len(plugin_pipes) == 2 and all(p.startswith("pipe:") for p in plugin_pipes)
        assert not plugin_pipes & _pipes_of(Path("/proc/self/fd"))  # both closed
        with pytest.raises(ChildProcessError):  # reaped already
            os.waitpid(pid, os.WNOHANG)
        assert not Path(f"/proc/{pid}").exists()
    finally:
        interrupter.join(timeout=30)
        signal.signal(signal.SIGUSR1, previous)
        if pid and Path(f"/proc/{pid}").exists():
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


@pytest.mark.skipif(os.geteuid() != 0, reason="running as another user needs root")
def test_user_runs_through_sudo(runner: PluginRunner) -> None:
    if shutil.which("sudo") is None:
        pytest.skip("sudo is not installed")
    plugin = PluginCommand(
        key="plugin.checks.as_nobody",
        command="id -un; echo $PLUGIN_VAR",
        user="nobody",
        env={"PLUGIN_VAR": "kept by -E"},
    )
    result = runner.run(plugin)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "nobody\nkept by -E\n"


SPAWN_SESSIONS = (
    "for i in 1 2 3 4 5 6 7 8 9 10; do setsid sleep 300 </dev/null >/dev/null 2>&1 & "
    'echo $! >> "$PIDS"; done; '
)


def test_descendants_that_called_setsid_end_on_timeout(
    runner: PluginRunner, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    result = runner.run(command(SPAWN_SESSIONS + "sleep 300", env={"PIDS": str(pids)}, timeout=0.5))
    assert result.timed_out
    children = [int(line) for line in pids.read_text().split()]
    assert len(children) == 10
    _wait_ended(children)


def test_descendants_left_behind_end_when_the_agent_closes_the_runner(
    runner: PluginRunner, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    result = runner.run(command(SPAWN_SESSIONS + "echo done", env={"PIDS": str(pids)}))
    assert result.stdout == "done\n" and not result.timed_out
    children = [int(line) for line in pids.read_text().split()]
    assert all(_alive(pid) for pid in children)  # a normal exit leaves them to the plugin
    runner.close()
    _wait_ended(children)
