"""Loading the shipped models (``models/``): configs without torch, networks and backends on demand.

Nothing here imports training code; ``motionlcm_node.resources.models_dir`` says where the shipped
folder is.
"""
