"""Training: typed configs, a generic resumable loop (single process or torchrun DDP), and stages."""
