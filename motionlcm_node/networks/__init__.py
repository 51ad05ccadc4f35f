"""Neural networks: motion VAE, latent denoiser, and their shared transformer blocks.

Networks know nothing about noise schedules or sampling loops (see ``motionlcm_node.sampling``).
"""
