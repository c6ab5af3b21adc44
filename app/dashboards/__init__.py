"""Higher-association dashboards: per-association yearly figures rolled up over any subtree."""
