"""serbench's testing kit for its own tests and plugin authors (a pytest plugin)."""
