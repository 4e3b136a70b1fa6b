"""The seed documents' examples, transcribed and replayed against their profiles."""
