"""A tqdm progress bar when asked for, a no-op otherwise (tqdm is imported only when shown)."""

from __future__ import annotations

from typing import Any


class NoBar:
    """Stands in for a tqdm bar when progress is off."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, desc: str, enabled: bool, unit: str = "it") -> Any:
    """A tqdm bar over ``total`` units, or a :class:`NoBar` when ``enabled`` is False."""
    if not enabled:
        return NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True)
