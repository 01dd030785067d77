"""The words a call is announced with (请A012号到5号窗口办理)."""

from __future__ import annotations


def announcement(number: str, window_number: int, recall: bool = False) -> str:
    """The Mandarin call text; a recall says so first."""
    text = f"请{number}号到{window_number}号窗口办理"
    return f"再次呼叫，{text}" if recall else text
