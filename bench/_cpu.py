"""Where the machine's CPU goes during a benchmark phase: the server processes, the database
server and the load generator, so a latency figure can be read against how busy the machine
was (psutil)."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator

import psutil

_ROLES = ("server", "database", "load_generator")


def _busy_and_total() -> tuple[float, float]:
    """Seconds all cores were busy, and in total, since boot (guest time is in user already)."""
    t = psutil.cpu_times()
    total = t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal
    return total - t.idle - t.iowait, total


class CpuSplit:
    """CPU seconds per role between :meth:`start` and :meth:`stop`: ``server`` (the given
    server processes and their children), ``database`` (processes named ``postgres``) and
    ``load_generator`` (this process); ``machine_busy_percent`` over all cores."""

    def __init__(self, server_pids: Iterable[int]) -> None:
        self.servers = [psutil.Process(pid) for pid in server_pids]
        self._before: Counter[str] = Counter()
        self._machine_before = (0.0, 0.0)

    def _sample(self) -> Counter[str]:
        roles: dict[psutil.Process, str] = {psutil.Process(os.getpid()): "load_generator"}
        for server in self.servers:
            for process in [server, *server.children(recursive=True)]:
                roles[process] = "server"
        for process in psutil.process_iter(["name"]):
            if process.info["name"] == "postgres":
                roles[process] = "database"
        used: Counter[str] = Counter()
        for process, role in roles.items():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:  # gone meanwhile
                continue
            used[role] += times.user + times.system
        return used

    def start(self) -> None:
        """Take the first sample."""
        self._before = self._sample()
        self._machine_before = _busy_and_total()

    def stop(self, count: int, per: str = "reservation") -> dict[str, float]:
        """CPU ms per ``per`` (``count`` of them) by role since :meth:`start`, and how busy
        the machine was."""
        after = self._sample()
        busy, total = _busy_and_total()
        result = {
            f"{role}_cpu_ms_per_{per}": round(
                (after[role] - self._before[role]) * 1000 / max(count, 1), 2
            )
            for role in _ROLES
        }
        busy -= self._machine_before[0]
        total -= self._machine_before[1]
        result["machine_busy_percent"] = round(100 * busy / max(total, 1e-9), 1)
        return result


def _spin(share: float, period_s: float) -> None:
    """Busy for ``share`` of every ``period_s``, asleep for the rest, until terminated."""
    while True:
        until = time.perf_counter() + share * period_s
        while time.perf_counter() < until:
            pass
        time.sleep((1 - share) * period_s)


@contextlib.contextmanager
def noisy_neighbour(share: float, period_s: float = 0.03) -> Iterator[None]:
    """While inside: one process per core (nice 0) spinning ``share`` of every ``period_s``,
    a neighbour that takes that share of the machine away in short slices; 0 starts none."""
    if share <= 0:
        yield
        return
    spinners = [
        multiprocessing.Process(target=_spin, args=(share, period_s), daemon=True)
        for _ in range(os.cpu_count() or 1)
    ]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.join()
