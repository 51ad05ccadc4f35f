"""Inference runtimes of the networks: the denoiser and the VAE decoder on ONNX Runtime or PyTorch.

Every backend takes and returns numpy arrays, so a pipeline runs the same on either; the ONNX
Runtime backends import no torch.
"""
