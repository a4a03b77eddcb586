"""What a serving process keeps and runs besides the database: bulkheads, the state
cache, the revision feed and its stream slots, rate limits, metrics and logs."""
