"""bankcrm plugin reporting: 报表统计 (Reporting)."""
