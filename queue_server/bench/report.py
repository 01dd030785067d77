"""The readable table `govhall bench` prints without --json."""

from __future__ import annotations

from typing import Any


def _f(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:g}{unit}" if isinstance(value, int | float) else str(value)


def table(r: dict[str, Any]) -> str:
    p, m = r["parameters"], r["machine"]
    take, call, base, mem = r["take_number"], r["call_to_screen"], r["baseline"], r["memory"]
    ratios = r["ratios"]
    rows = [
        ("run", f"{r['date']}  {p['database']}  {p['processes']} process(es)  {p['async_mode']}"),
        ("load", f"{p['halls']} halls  {p['screens']} screens  tickets {p['ticket_rate']:g}/s  "
                 f"calls {p['call_rate']:g}/s  {p['duration']:g} s"),
        ("machine", f"{m['cores']} cores  Python {m['python']}"),
        ("", ""),
        ("take a number", f"p50 {_f(take['p50_ms'], ' ms')}  p99 {_f(take['p99_ms'], ' ms')}  "
                          f"rate {_f(take['rate'], '/s')}  errors {_f(take['errors'])}"),
        ("  bare stack", f"p99 {_f(base.get('take_number_p99_ms'), ' ms')}  "
                         f"ratio {_f(ratios.get('take_number_p99'))}"),
        ("call to screen", f"p50 {_f(call['p50_ms'], ' ms')}  p99 {_f(call['p99_ms'], ' ms')}  "
                           f"delivered {call['delivered']}  missed {call['missed']}  "
                           f"duplicated {call['duplicated']}"),
        ("  bare stack", f"p99 {_f(base.get('call_to_screen_p99_ms'), ' ms')}  "
                         f"ratio {_f(ratios.get('call_to_screen_p99'))}"),
        ("memory", f"{_f(mem['kb_per_screen'], ' KB')} per screen  "
                   f"peak RSS {_f(mem.get('peak_rss_mb'), ' MB')}"),
        ("database", f"{_f(mem['db_mb_per_10k_tickets'], ' MB')} per 10,000 tickets"),
        ("cpu", f"{_f(r['cpu_s_per_1k_tickets'], ' s')} server CPU per 1,000 tickets"),
    ]
    if "calls" in r:
        c = r["calls"]
        rows.append(("call-next", f"p99 {_f(c['p99_ms'], ' ms')}  ok {c['ok']}  errors {c['errors']}  "
                                  f"queue empty {c['queue_empty']}"))
    if r.get("peak"):
        rows.append(("peak", f"{_f(r['peak']['rate'], ' tickets/s')} ({r['peak']['criterion']})"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
