"""Sentence encoders: text -> unit vectors, on PyTorch, ONNX Runtime, or the student's static table."""
