"""Exports of the models to deployment formats (ONNX)."""
