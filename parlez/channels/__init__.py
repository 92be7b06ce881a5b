"""Input and output channels: how messages reach the assistant and how answers go back."""
