from typing import Any


def admin_handlers(kernel: Any) -> list[Any]:
    return []
