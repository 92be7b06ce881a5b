"""The `parlez` command line: one module per command."""
