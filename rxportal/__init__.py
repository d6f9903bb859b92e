"""rxportal: a self-hosted customer portal for small Internet service providers."""
