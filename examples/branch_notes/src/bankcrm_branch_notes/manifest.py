"""What the kernel reads before importing the rest of the plugin."""

from bankcrm.plugin_api import PluginManifest

MANIFEST = PluginManifest(
    name="branch_notes",
    version="0.1.0",
    title="网点便签",
    title_en="Branch notes",
    requires=(),
    kernel_api=">=1,<2",
    piccolo_app="bankcrm_branch_notes.piccolo_app",
    description="Notes of a branch, closed by a daily job once stale.",
)
