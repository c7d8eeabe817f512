"""The chain of GANs: poses -> stick figures -> pix2pix -> super-resolution."""
