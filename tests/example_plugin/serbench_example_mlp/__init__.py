"""serbench-example-mlp: the plugin of serbench's plugin author's guide (docs/plugins.md)."""
