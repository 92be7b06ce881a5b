"""The console's reports: what the conversations say about the service, counted from the
events parlez stores (docs/analytics.md)."""
