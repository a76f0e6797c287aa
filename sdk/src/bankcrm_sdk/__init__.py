"""bankcrm plugin SDK: the pytest plugin, test helpers, plugin template and checks."""
