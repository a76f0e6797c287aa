"""What the kernel reads before importing the rest of the plugin."""

from bankcrm.plugin_api import PluginManifest

MANIFEST = PluginManifest(
    name="mining",
    version="0.1.0",
    title="客户分析与挖掘",
    title_en="Customer analytics",
    requires=("customer_archive",),
    kernel_api=">=1,<2",
    piccolo_app="bankcrm_mining.piccolo_app",
    description="Customer analytics: a registry of explainable models stored as data and"
    " approved by a second person before they score production data.",
)
