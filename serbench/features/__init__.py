"""Feature plugins and the feature cache."""
