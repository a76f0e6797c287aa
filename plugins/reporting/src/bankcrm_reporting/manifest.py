"""What the kernel reads before importing the rest of the plugin."""

from bankcrm.plugin_api import PluginManifest

MANIFEST = PluginManifest(
    name="reporting",
    version="0.1.0",
    title="报表统计",
    title_en="Reporting",
    requires=("customer_archive",),
    kernel_api=">=1,<2",
    piccolo_app="bankcrm_reporting.piccolo_app",
    description="Targets of a branch, closed by a daily job once stale.",
)
