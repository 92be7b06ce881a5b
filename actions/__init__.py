"""The assistant's custom actions (rasa_sdk API), loaded in-process from endpoints.yml."""
