"""Collectors for Azure Resource Manager and Microsoft Graph (through the real Azure SDKs)."""
