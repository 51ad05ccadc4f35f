"""After the decoder: feature (de)normalisation and the planted-foot root correction."""
