"""The neural networks behind trainable components."""
