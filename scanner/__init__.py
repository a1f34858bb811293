"""OpenShield scanner: collect Azure configuration, evaluate rules, store findings."""
