"""Stand-ins the tests and benchmarks talk to: a tone engine, and local servers that speak the real protocols (edge-tts, Cast, a news site, a chat endpoint)."""
