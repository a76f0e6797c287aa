"""What the kernel reads before importing the rest of the plugin."""

from bankcrm.plugin_api import PluginManifest

MANIFEST = PluginManifest(
    name="sales",
    version="0.1.0",
    title="销售管理",
    title_en="Sales",
    requires=("customer_archive",),
    kernel_api=">=1,<2",
    piccolo_app="bankcrm_sales.piccolo_app",
    description="Leads, opportunities, activities, assignment and follow-up discipline.",
)
