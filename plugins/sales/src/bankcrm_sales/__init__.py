"""bankcrm plugin sales: 销售管理 (Sales)."""
