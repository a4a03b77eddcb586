"""Solo: the contract-first autosave backend of a browser editor."""

API_BASE_PATH = "/api/v1/solo"

PROMETHEUS_MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""Where prometheus-client's multiprocess mode keeps every worker's values (set by
`solo serve`); read by prometheus-client when it is first imported."""
