"""Process metrics in Prometheus text format (no labels from user input)."""

from __future__ import annotations

import resource
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Metrics:
    started: float = field(default_factory=time.time)
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    gauges: dict[str, float] = field(default_factory=dict)
    # Minutes and summaries by outcome: rendered (by a worker), stored (served from
    # storage), shared (waited for the same render), busy, time-limit, failed,
    # worker-died, refused-after-failure.
    renders: Counter[str] = field(default_factory=Counter)

    def count_request(self, route: str, method: str) -> None:
        self.requests[(route, method)] += 1

    def count_error(self, code: str) -> None:
        self.errors[code] += 1

    def count_event(self, name: str, n: int = 1) -> None:
        self.events[name] += n

    def count_render(self, outcome: str) -> None:
        self.renders[outcome] += 1

    def set_gauge(self, name: str, value: float) -> None:
        self.gauges[name] = value

    def render(self) -> str:
        lines = [
            "# HELP planrom_http_requests_total API requests by route template and method.",
            "# TYPE planrom_http_requests_total counter",
        ]
        for (route, method), n in sorted(self.requests.items()):
            lines.append(f'planrom_http_requests_total{{route="{route}",method="{method}"}} {n}')
        lines += ["# TYPE planrom_errors_total counter"]
        for code, n in sorted(self.errors.items()):
            lines.append(f'planrom_errors_total{{code="{code}"}} {n}')
        lines += ["# TYPE planrom_realtime_events_total counter"]
        for name, n in sorted(self.events.items()):
            lines.append(f'planrom_realtime_events_total{{event="{name}"}} {n}')
        lines += ["# TYPE planrom_renders_total counter"]
        for outcome, n in sorted(self.renders.items()):
            lines.append(f'planrom_renders_total{{outcome="{outcome}"}} {n}')
        for name, value in sorted(self.gauges.items()):
            lines += [f"# TYPE planrom_{name} gauge", f"planrom_{name} {value}"]
        usage = resource.getrusage(resource.RUSAGE_SELF)
        lines += [
            "# TYPE process_cpu_seconds_total counter",
            f"process_cpu_seconds_total {usage.ru_utime + usage.ru_stime:.3f}",
            "# TYPE process_max_resident_memory_bytes gauge",
            f"process_max_resident_memory_bytes {usage.ru_maxrss * 1024}",
            "# TYPE process_start_time_seconds gauge",
            f"process_start_time_seconds {self.started:.0f}",
        ]
        return "\n".join(lines) + "\n"
