"""bankcrm kernel: the thin core that every CRM plugin builds on."""

import os

KERNEL_API_VERSION = 1
__version__ = "0.1.0"

# Piccolo finds its engine and apps through this module (migrations, tables, admin).
os.environ.setdefault("PICCOLO_CONF", "bankcrm.piccolo_conf")
