"""Evaluation of generated motion: Guo et al.-style metrics and our text-motion evaluator.

``metrics`` holds pure functions (FID, R-precision, matching score, diversity, multimodality, foot
skating, jitter, MPJPE, confidence intervals); ``evaluator`` holds the contrastive text-motion
model whose embeddings those metrics are computed on.
"""
