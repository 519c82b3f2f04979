"""Processing: identify, extract, unpack, in sandboxed children; jobs run by the runner."""
