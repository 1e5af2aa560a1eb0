"""Training the saliency network: data sets (still images with fixations, real video with gaze), the virtual
camera, the PyTorch network, the training loop and the 8-bit quantization. Not part of the run-time product:
``salcrop_filter`` itself needs none of it (nor torch)."""
