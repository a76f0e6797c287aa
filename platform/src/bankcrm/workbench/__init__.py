"""The staff workbench: server-rendered pages under ``/app`` (login, the home page with the
clerk's notifications and open work, and the pages plugins add through ``register_pages``).
Render a plugin page with :func:`render`."""

from bankcrm.workbench.rendering import language_of, localtime, money, plain, render

__all__ = ["language_of", "localtime", "money", "plain", "render"]
