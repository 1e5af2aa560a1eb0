"""Measuring salcrop: saliency metrics (CC, NSS, SIM, AUC-Judd, KLD), the saliency evaluation of a model, the crop
evaluation against baselines, and the baselines themselves. Not part of the run-time product."""
