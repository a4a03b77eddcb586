"""The use cases: plain functions over the ports of solo.services.ports, raising the
domain's errors; keyword-only past their first few parameters."""
