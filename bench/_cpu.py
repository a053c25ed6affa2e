"""Where the machine's CPU goes during a benchmark phase (Linux ``/proc``): the server
processes, the database server and the load generator, so a latency figure can be read
against how busy the machine was."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable

_TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, str, float]]:
    """Every process: parent pid, command name and CPU seconds used so far."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:  # gone meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / _TICKS)
    return found


def _busy_and_total() -> tuple[int, int]:
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:8]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


class CpuSplit:
    """CPU seconds per role between :meth:`start` and :meth:`stop`: ``server`` (the given
    server processes and their children), ``database`` (processes named ``postgres``) and
    ``load_generator`` (this process); ``machine_busy_percent`` over all cores."""

    def __init__(self, server_pids: Iterable[int]) -> None:
        self.server_pids = set(server_pids)
        self._before: Counter[str] = Counter()
        self._busy = (0, 0)
        self._started = 0.0

    def _role(self, pid: int, table: dict[int, tuple[int, str, float]]) -> str | None:
        if pid == os.getpid():
            return "load_generator"
        if table[pid][1] == "postgres":
            return "database"
        seen = pid
        while seen in table and seen > 1:
            if seen in self.server_pids:
                return "server"
            seen = table[seen][0]
        return None

    def _sample(self) -> Counter[str]:
        table = _processes()
        used: Counter[str] = Counter()
        for pid, (_, _, seconds) in table.items():
            role = self._role(pid, table)
            if role:
                used[role] += seconds
        return used

    def start(self) -> None:
        """Take the first sample."""
        self._before, self._busy, self._started = (
            self._sample(),
            _busy_and_total(),
            time.perf_counter(),
        )

    def stop(self, reservations: int) -> dict[str, float]:
        """CPU ms per reservation by role since :meth:`start`, and how busy the machine was."""
        after = self._sample()
        busy, total = _busy_and_total()
        result = {
            f"{role}_cpu_ms_per_reservation": round(
                (after[role] - self._before[role]) * 1000 / max(reservations, 1), 2
            )
            for role in ("server", "database", "load_generator")
        }
        spent = total - self._busy[1]
        result["machine_busy_percent"] = round(100 * (busy - self._busy[0]) / max(spent, 1), 1)
        return result
