"""Domain services: plain functions over a unit of work, raising solo.errors."""
