"""Piccolo configuration (``PICCOLO_CONF=bankcrm.piccolo_conf``).

``DB`` is the one engine of the process; the kernel points it at the owner URL to migrate
and at the application role to serve (:mod:`bankcrm.runtime`). ``APP_REGISTRY`` lists the
kernel's apps and those of the loaded plugins, in dependency order.
"""

from piccolo.conf.apps import AppRegistry

from bankcrm.db import ScopedPostgresEngine

KERNEL_APPS = [
    "piccolo.apps.user.piccolo_app",
    "piccolo_api.session_auth.piccolo_app",
    "bankcrm.piccolo_app",
]

DB = ScopedPostgresEngine(config={"dsn": "postgresql://unconfigured@localhost/unconfigured"})

APP_REGISTRY = AppRegistry(apps=KERNEL_APPS)


def set_plugin_apps(plugin_apps: list[str]) -> None:
    global APP_REGISTRY
    APP_REGISTRY = AppRegistry(apps=[*KERNEL_APPS, *plugin_apps])
