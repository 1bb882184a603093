"""Runs plugin commands: one subprocess-with-timeout helper shared by all plugin kinds.

Each command gets its own process group, so a timeout (TERM, then KILL after a grace period)
reaches the children a shell plugin started; descendants that left the group (setsid) are
found by their run token and ended on timeout and when the agent exits (`leftovers.py`).
Output is read as it comes and kept up to a cap;
the rest is read and discarded, so a plugin that prints without end neither blocks on a full
pipe nor fills the agent's memory. A semaphore bounds how many plugins run at once; the wait
for a free slot counts against the command's timeout. Whatever ends a run, an exception
included, its pipes are closed and its process reaped (its group killed first if still
running), so no run leaks a descriptor or leaves a zombie.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import select
import selectors
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from sabamon.agent.plugins.config import PluginCommand
from sabamon.agent.plugins.environment import plugin_environment
from sabamon.agent.plugins.leftovers import RUN_TOKEN, agent_prefix, end_holders, new_run_token
from sabamon.agent.plugins.spawn import Child, spawn

log = logging.getLogger(__name__)

DEFAULT_OUTPUT_CAP = 1 << 20
DEFAULT_KILL_GRACE_SECONDS = 10.0
DEFAULT_MAX_PARALLEL = 16
_READ_CHUNK = 1 << 16
# After KILL, a process that left the group may still hold the pipes; stop reading then.
_AFTER_KILL_SECONDS = 1.0
# Without pidfds, waitpid is polled with pauses that double from the first to the last.
_FIRST_EXIT_POLL_SECONDS = 0.0005
_LAST_EXIT_POLL_SECONDS = 0.05
# How long the holders of a run's token get between TERM and KILL, at most.
_LEFTOVERS_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class RunResult:
    """What one run produced. `error` is set when the command could not run or timed out;
    a non-zero exit is not an error (checks map it to a status)."""

    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    duration: float
    error: str | None = None
    truncated: bool = False


class _CappedBuffer:
    def __init__(self, cap: int) -> None:
        self.data = bytearray()
        self.cap = cap
        self.dropped = 0

    def feed(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


class _Deadline:
    """Escalates at each deadline: TERM to the group at the timeout, KILL after the grace."""

    def __init__(self, pid: int, at: float, grace: float) -> None:
        self.pid = pid
        self.grace = grace
        self.at = at  # time.monotonic() of the timeout
        self.signals_sent = 0

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def escalate(self) -> bool:
        """Send the next signal; False once there is nothing left to send."""
        if self.signals_sent == 0:
            self._signal(signal.SIGTERM)
            self.at = time.monotonic() + self.grace
        elif self.signals_sent == 1:
            self._signal(signal.SIGKILL)
            self.at = time.monotonic() + _AFTER_KILL_SECONDS
        else:
            return False
        self.signals_sent += 1
        return True

    @property
    def timed_out(self) -> bool:
        return self.signals_sent > 0

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)


class PluginRunner:
    """Runs `PluginCommand`s with the plugin environment, at most `max_parallel` at a time."""

    def __init__(
        self,
        max_parallel: int = DEFAULT_MAX_PARALLEL,
        kill_grace_seconds: float = DEFAULT_KILL_GRACE_SECONDS,
        output_cap: int = DEFAULT_OUTPUT_CAP,
        agent_env: Mapping[str, str] | None = None,
    ) -> None:
        self.max_parallel = max_parallel
        self._slots = threading.BoundedSemaphore(max_parallel)
        self.kill_grace_seconds = kill_grace_seconds
        self.output_cap = output_cap
        self._agent_env = dict(os.environ if agent_env is None else agent_env)

    def run(self, command: PluginCommand, extra_env: Mapping[str, str] | None = None) -> RunResult:
        """Run `command` once. The wait for a free slot counts against its timeout: a run
        that finds none within it is a timeout (`timed_out`, no exit code), never started."""
        started = time.monotonic()
        if not self._slots.acquire(timeout=command.timeout_seconds):
            log.warning(
                "event=plugin_timed_out plugin=%s timeout_seconds=%g reason=no_free_slot",
                command.key,
                command.timeout_seconds,
            )
            error = (
                f"no free plugin slot (max_parallel={self.max_parallel}) "
                f"within the {command.timeout_seconds:g}s timeout"
            )
            return RunResult(None, "", "", True, time.monotonic() - started, error=error)
        try:
            token = new_run_token()
            layers = (command.env, extra_env or {}, {RUN_TOKEN: token})
            env = plugin_environment(self._agent_env, *layers)
            return self._run(command, env, token, started)
        finally:
            self._slots.release()

    def longest_run(self, command: PluginCommand) -> float:
        """Seconds one run of `command` lasts at most: its timeout, the grace between TERM
        and KILL, the wait after KILL and the end of what it left behind."""
        leftovers = min(self.kill_grace_seconds, _LEFTOVERS_GRACE_SECONDS)
        return command.timeout_seconds + self.kill_grace_seconds + _AFTER_KILL_SECONDS + leftovers

    def close(self) -> None:
        """End every process a plugin run of this agent left behind (the agent is exiting)."""
        end_holders(
            agent_prefix(),
            prefix=True,
            grace=min(self.kill_grace_seconds, _LEFTOVERS_GRACE_SECONDS),
        )

    def _run(
        self, command: PluginCommand, env: dict[str, str], token: str, started: float
    ) -> RunResult:
        """One run of `command`, whose timeout counts from `started` (a `time.monotonic()`
        value from before the wait for a slot)."""
        try:
            process = spawn(command.argv(), env)
        except OSError as exc:
            log.warning("event=plugin_start_failed plugin=%s error=%r", command.key, str(exc))
            return RunResult(None, "", "", False, time.monotonic() - started, error=str(exc))
        try:
            deadline = _Deadline(
                process.pid, started + command.timeout_seconds, self.kill_grace_seconds
            )
            stdout, stderr = self._read(process, deadline)
            exit_code = self._wait(process, deadline)
        except BaseException:
            _kill_and_reap(process)
            raise
        duration = time.monotonic() - started
        truncated = bool(stdout.dropped or stderr.dropped)
        if truncated:
            log.warning(
                "event=plugin_output_capped plugin=%s cap_bytes=%d dropped_bytes=%d",
                command.key,
                self.output_cap,
                stdout.dropped + stderr.dropped,
            )
        error = None
        if deadline.timed_out:
            end_holders(token, grace=min(self.kill_grace_seconds, _LEFTOVERS_GRACE_SECONDS))
            error = f"command timed out after {command.timeout_seconds:g}s"
            log.warning(
                "event=plugin_timed_out plugin=%s timeout_seconds=%g",
                command.key,
                command.timeout_seconds,
            )
        return RunResult(
            exit_code=exit_code,
            stdout=stdout.text(),
            stderr=stderr.text(),
            timed_out=deadline.timed_out,
            duration=duration,
            error=error,
            truncated=truncated,
        )

    def _read(self, process: Child, deadline: _Deadline) -> tuple[_CappedBuffer, _CappedBuffer]:
        try:
            stdout, stderr = _CappedBuffer(self.output_cap), _CappedBuffer(self.output_cap)
            buffers = {process.stdout: stdout, process.stderr: stderr}
            # a PollSelector: no epoll descriptor to open and close per run
            with selectors.PollSelector() as selector:
                for fd in buffers:
                    selector.register(fd, selectors.EVENT_READ)
                while selector.get_map():
                    remaining = deadline.remaining()
                    if remaining <= 0:
                        if not deadline.escalate():
                            break
                        continue
                    for key, _ in selector.select(remaining):
                        chunk = os.read(key.fd, _READ_CHUNK)
                        if chunk:
                            buffers[key.fd].feed(chunk)
                        else:
                            selector.unregister(key.fd)
        finally:
            os.close(process.stdout)
            os.close(process.stderr)
        return stdout, stderr

    @staticmethod
    def _wait(process: Child, deadline: _Deadline) -> int | None:
        """Sleep until the process exits or the deadline escalates. Once its output is closed
        a plugin has mostly exited already: one waitpid then spares the pidfd's three calls."""
        if process.poll() is not None:
            return process.returncode
        exit_watch = _ExitWatch(process)
        try:
            while not exit_watch.wait(max(deadline.remaining(), 0.0)):
                if not deadline.escalate():
                    break
            return process.wait()
        finally:
            exit_watch.close()


def _kill_and_reap(process: Child) -> None:
    """After a run ended by an exception: KILL the command's group if it is still running
    and reap it (its pipes are closed by then), so it leaves no zombie."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class _ExitWatch:
    """A child's exit as an event: its pidfd turns readable (Linux 5.3+), so the wait needs no
    polling; without pidfds, waitpid polled with short sleeps, as `Popen.wait(timeout)` does."""

    def __init__(self, process: Child) -> None:
        self._process = process
        self._poller: select.poll | None = None
        self._pidfd = -1
        with contextlib.suppress(AttributeError, OSError):
            self._pidfd = os.pidfd_open(process.pid)
            self._poller = select.poll()
            self._poller.register(self._pidfd, select.POLLIN)

    def wait(self, timeout: float) -> bool:
        """True once the process has exited (through the pidfd, not yet reaped), within
        `timeout` seconds."""
        if self._poller is not None:
            return bool(self._poller.poll(math.ceil(timeout * 1000)))
        end = time.monotonic() + timeout
        pause = _FIRST_EXIT_POLL_SECONDS
        while self._process.poll() is None:
            remaining = end - time.monotonic()
            if remaining <= 0:
                return False
            pause = min(pause * 2, remaining, _LAST_EXIT_POLL_SECONDS)
            time.sleep(pause)
        return True

    def close(self) -> None:
        if self._pidfd >= 0:
            os.close(self._pidfd)
