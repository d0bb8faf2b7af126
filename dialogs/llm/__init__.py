"""LLM mode: slot extraction, grounded answers and follow-up rewriting through any
OpenAI-compatible chat model, always validated and always with the offline path behind it."""
