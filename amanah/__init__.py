"""Amanah: an evidence repository for accountability mechanisms."""

import sys

__version__ = "0.1.0"

#: How Amanah names itself as the software agent in custody events.
AGENT = f"amanah/{__version__}"

# pymupdf 2.0 installs pymupdf_layout and imports it with pymupdf whenever it can: an ONNX
# page-layout network Amanah never asks for (`Page.get_layout`), costing about 0.7 s of CPU in
# every process and sandbox zygote that reads a PDF (docs/benchmarks.md). A None here makes
# that optional import fail, which pymupdf handles as "not installed".
sys.modules.setdefault("pymupdf.layout", None)  # type: ignore[arg-type]
