"""What the server and the channels share about HTTP: errors in Rasa's format, and request
bodies read within bounds. Neither the server nor any channel is imported from here."""
