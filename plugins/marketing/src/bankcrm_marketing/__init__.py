"""bankcrm plugin marketing: 市场营销 (Marketing)."""
