"""bankcrm plugin mining: 客户分析与挖掘 (Customer analytics)."""
