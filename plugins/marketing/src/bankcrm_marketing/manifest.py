"""What the kernel reads before importing the rest of the plugin."""

from bankcrm.plugin_api import PluginManifest

MANIFEST = PluginManifest(
    name="marketing",
    version="0.1.0",
    title="市场营销",
    title_en="Marketing",
    requires=("customer_archive",),
    kernel_api=">=1,<2",
    piccolo_app="bankcrm_marketing.piccolo_app",
    description="Campaigns of a branch, closed by a daily job once stale.",
)
