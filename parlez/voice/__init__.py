"""Speaking and listening: text written for the ear, speech-to-text and text-to-speech."""
