"""What the kernel reads before importing the rest of the plugin."""

from bankcrm.plugin_api import PluginManifest

MANIFEST = PluginManifest(
    name="customer_archive",
    version="0.1.0",
    title="客户档案",
    title_en="Customer archive",
    piccolo_app="bankcrm_customer_archive.piccolo_app",
    description=(
        "Individual and corporate customers, addresses, contact persons, the product "
        "catalogue, holdings and tags; search; the customer 360 view."
    ),
)
