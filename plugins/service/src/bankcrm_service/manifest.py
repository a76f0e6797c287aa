"""What the kernel reads before importing the rest of the plugin."""

from bankcrm.plugin_api import PluginManifest

MANIFEST = PluginManifest(
    name="service",
    version="0.1.0",
    title="客户服务",
    title_en="Customer service",
    requires=("customer_archive",),
    kernel_api=">=1,<2",
    piccolo_app="bankcrm_service.piccolo_app",
    description="Tickets of a branch with SLAs in business time, closed once stale.",
)
