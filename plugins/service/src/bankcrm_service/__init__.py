"""bankcrm plugin service: 客户服务 (Customer service)."""
